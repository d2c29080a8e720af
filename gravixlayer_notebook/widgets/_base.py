"""What the three browsers share: client resolution, messages, the table, the terminal fallback."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import ipywidgets as w
from traitlets import Unicode

from .._html import esc, html_table, redact, text_table

__all__ = ["Browser", "button"]


def button(description: str, *, icon: str = "", style: str = "", tooltip: str = "", name: str = "") -> w.Button:
    b = w.Button(description=description, icon=icon, button_style=style, tooltip=tooltip or description)
    b.layout.width = "auto"
    if name:
        b.add_class(f"gravix-{name}")
    return b


class Browser(w.VBox):  # type: ignore[misc]
    """A VBox with a status line (`message`, `error` traits) and a client chosen like the magics'."""

    message = Unicode("", help="Last thing that happened (shown under the widget).")
    error = Unicode("", help="Last error, one line (shown in red); empty when the last action worked.")

    columns: Sequence[str] = ()

    def __init__(self, client: Any = None, **kwargs: Any) -> None:
        if client is None:
            from .._client import get_client

            client = get_client()
        self.client = client
        self._status = w.HTML()
        self._status.add_class("gravix-status")
        super().__init__(**kwargs)
        self.observe(self._show_status, names=["message", "error"])

    def _show_status(self, change: Any = None) -> None:
        if self.error:
            self._status.value = f'<span style="color:#c9302c">{esc(self.error)}</span>'
        else:
            self._status.value = f'<span style="color:#666">{esc(self.message)}</span>'

    def _fail(self, action: str, exc: BaseException) -> None:
        text = " ".join(f"{action} failed: {type(exc).__name__}: {exc}".split())
        self.error = redact(text, getattr(self.client, "api_key", None))

    def _ok(self, message: str) -> None:
        self.error = ""
        self.message = message

    # -- the plain-table fallback (terminals and other text/plain front ends) ----------------------------------------

    def table_rows(self) -> list[list[Any]]:
        raise NotImplementedError

    def html_rows(self, css_class: str, limit: int | None = None) -> str:
        return html_table(self.columns, self.table_rows(), css_class=css_class, limit=limit)

    def plain_text(self) -> str:
        return f"{type(self).__name__}\n" + text_table(self.columns, self.table_rows())

    def __repr__(self) -> str:
        return self.plain_text()

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        bundle: dict[str, Any] = super()._repr_mimebundle_(**kwargs) or {}
        bundle["text/plain"] = self.plain_text()
        return bundle
