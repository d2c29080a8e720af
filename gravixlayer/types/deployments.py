"""Deployments: a model served on dedicated GPUs (spec §4, rulings 12-13)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._models import BaseModel
from ._lists import DataList

if TYPE_CHECKING:
    import pandas

__all__ = [
    "Deployment",
    "DeploymentList",
    "DeploymentDeleteResponse",
    "READY_STATUSES",
    "FAILED_STATUSES",
    "PENDING_STATUSES",
]

PENDING_STATUSES = frozenset({"creating", "pending", "deploying", "starting", "provisioning"})
READY_STATUSES = frozenset({"running", "ready", "active"})
FAILED_STATUSES = frozenset({"failed", "error", "stopped"})
"""Status words the vendor's CLI recognised (spec §4.1), compared case-insensitively."""


class Deployment(BaseModel):
    """One deployment; `status` goes `creating` → `running` (or `failed`)."""

    _repr_fields = ("deployment_id", "deployment_name", "status", "model_name", "gpu_model", "gpu_count")

    deployment_id: str | None = None
    deployment_name: str | None = None
    status: str | None = None
    created_at: str | None = None
    user_email: str | None = None
    model_name: str | None = None
    gpu_model: str | None = None
    gpu_count: int | None = None
    min_replicas: int | None = None
    max_replicas: int | None = None
    hw_type: str | None = None
    message: str | None = None

    @property
    def is_ready(self) -> bool:
        return (self.status or "").lower() in READY_STATUSES

    @property
    def is_failed(self) -> bool:
        return (self.status or "").lower() in FAILED_STATUSES

    @property
    def failure_reason(self) -> str | None:
        """Why a failed deployment failed, when the service said so."""
        extra = self.__pydantic_extra__ or {}
        for key in ("failure_reason", "error", "reason", "status_message"):
            if isinstance(extra.get(key), str) and extra[key]:
                return str(extra[key])
        return None


class DeploymentList(DataList[Deployment]):
    """`deployments.list()`: iterate it, index it, or read `.data`."""

    def to_pandas(self) -> pandas.DataFrame:
        """One row per deployment: id, name, model, GPU, count, replicas, status, created_at (UTC)."""
        from .._dataframes import deployments_frame

        return deployments_frame(self.data)


class DeploymentDeleteResponse(BaseModel):
    """The answer to a delete (`message`, `deployment_id`); other keys are kept as sent."""

    message: str | None = None
    deployment_id: str | None = None
