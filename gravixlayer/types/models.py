"""Models the inference service serves (`GET /v1/inference/models`, OpenAI-compatible listing)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._models import BaseModel
from ._lists import DataList

if TYPE_CHECKING:
    import pandas

__all__ = ["Model", "ModelList"]


class Model(BaseModel):
    """One model. GravixLayer Local adds `type` (`chat` or `embedding`) and, for embedding models,
    `dimension`; other servers may send other keys, kept as attributes."""

    _repr_fields = ("id", "type", "owned_by")

    id: str
    object: str | None = None
    created: int | None = None
    owned_by: str | None = None
    type: str | None = None
    dimension: int | None = None


class ModelList(DataList[Model]):
    """`models.list()`: iterate it, index it, or read `.data`."""

    object: str | None = None

    def to_pandas(self) -> pandas.DataFrame:
        """One row per model."""
        from .._dataframes import frame_from_items

        return frame_from_items(self.data, ("id", "type", "owned_by", "created", "dimension"), datetimes=("created",))
