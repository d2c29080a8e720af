"""Tiny display objects: a table (HTML in notebooks, fixed-width text in terminals) and plain text."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ._html import esc, html_table, text_table

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Table", "Text"]


class Table:
    """Rows with named columns; `to_pandas()` gives every row, the display shows up to `limit`."""

    def __init__(
        self,
        columns: Sequence[str],
        rows: Sequence[Sequence[Any]],
        *,
        title: str = "",
        limit: int | None = None,
        width: int = 48,
    ) -> None:
        self.width = width
        self.columns = list(columns)
        self.rows = [list(r) for r in rows]
        self.title = title
        self.limit = limit

    def __len__(self) -> int:
        return len(self.rows)

    def to_pandas(self) -> pd.DataFrame:
        from gravixlayer._dataframes import frame_from_columns

        return frame_from_columns({c: [r[i] for r in self.rows] for i, c in enumerate(self.columns)})

    def __repr__(self) -> str:
        head = f"{self.title}\n" if self.title else ""
        return head + text_table(self.columns, self.rows, limit=self.limit, width=self.width)

    def _repr_html_(self) -> str:
        head = f"<div><b>{esc(self.title)}</b></div>" if self.title else ""
        return head + html_table(self.columns, self.rows, limit=self.limit)


class Text:
    """Plain text shown as is (help), monospace in notebooks."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text

    def _repr_html_(self) -> str:
        # wrap only between words, as the text itself does (Lab's default may break anywhere in a word)
        return f'<pre style="white-space:pre-wrap;word-break:normal;overflow-wrap:normal">{esc(self.text)}</pre>'
