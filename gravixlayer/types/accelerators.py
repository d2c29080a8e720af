"""Accelerators (GPUs) a deployment can run on (spec §5.1, ruling 14).

The service has sent two field families over time: `gpu_id`, `gpu_model`, `gpu_link`, `gpu_memory`
(newer) and `accelerator_id`, `hw_model`, `hw_link`, `hw_memory` (older). Whichever arrives, both
are filled in, so code written against either family works.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import pydantic

from .._models import BaseModel
from ._lists import DataList

if TYPE_CHECKING:
    import pandas

__all__ = ["Accelerator", "AcceleratorList"]

# Each pair names one value in both families; the first present wins.
_ALIASES: tuple[tuple[str, ...], ...] = (
    ("gpu_id", "accelerator_id", "id"),
    ("gpu_model", "hw_model"),
    ("gpu_link", "hw_link"),
    ("gpu_memory", "hw_memory", "memory_gb"),
)
_MEMORY_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:gb|gib)?\s*$", re.IGNORECASE)


def _memory_gb(value: Any) -> Any:
    """`16`, `16.0`, `"16"` and `"16GB"` all mean 16 GB; anything else is left for validation to refuse."""
    if isinstance(value, str):
        match = _MEMORY_RE.match(value)
        if match:
            number = float(match.group(1))
            return int(number) if number.is_integer() else number
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


class Accelerator(BaseModel):
    """One GPU type: model, memory (GB), interconnect and price per hour (USD)."""

    _repr_fields = ("gpu_model", "gpu_memory", "gpu_link", "pricing", "status")

    gpu_id: str | None = None
    accelerator_id: str | None = None
    gpu_model: str | None = None
    hw_model: str | None = None
    gpu_link: str | None = None
    hw_link: str | None = None
    gpu_memory: int | float | None = None
    hw_memory: int | float | None = None
    provider: str | None = None
    pricing: float | None = None
    status: str | None = None
    updated_at: str | None = None
    created_at: str | None = None

    @pydantic.model_validator(mode="before")
    @classmethod
    def _both_families(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        for key in ("gpu_memory", "hw_memory", "memory_gb"):
            if key in data:
                data[key] = _memory_gb(data[key])
        for names in _ALIASES:
            value = next((data[n] for n in names if data.get(n) is not None), None)
            if value is None:
                continue
            for name in names[:2]:
                if data.get(name) is None:
                    data[name] = value
        return data

    def _sent(self, key: str) -> Any:
        return (self.__pydantic_extra__ or {}).get(key)

    @property
    def name(self) -> str | None:
        """Display name: the model with spaces, e.g. `"NVIDIA T4 16GB"` for `NVIDIA_T4_16GB`."""
        sent = self._sent("name")
        if isinstance(sent, str):
            return sent
        return self.gpu_model.replace("_", " ") if self.gpu_model else None

    @property
    def memory(self) -> str | None:
        """Memory as shown to people, e.g. `"16GB"`."""
        sent = self._sent("memory")
        if isinstance(sent, str):
            return sent
        return f"{self.gpu_memory}GB" if self.gpu_memory is not None else None

    @property
    def price_per_hour(self) -> float | None:
        """`pricing`, which the service states in US dollars per hour."""
        return self.pricing


class AcceleratorList(DataList[Accelerator]):
    """`accelerators.list()`: iterate it, index it, or read `.data`."""

    def to_pandas(self) -> pandas.DataFrame:
        """One row per GPU type: id, model, name, memory (GB), link, provider, pricing (USD/hour), status."""
        from .._dataframes import accelerators_frame

        return accelerators_frame(self.data)
