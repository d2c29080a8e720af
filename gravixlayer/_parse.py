"""Reading response bodies into typed models, with a typed error when a 2xx body is unreadable."""

from __future__ import annotations

from typing import Any, TypeVar

import httpx
import pydantic

from ._exceptions import GravixLayerResponseValidationError
from ._models import BaseModel

__all__ = ["json_body", "to_model", "parse_model"]

M = TypeVar("M", bound=BaseModel)


def _unreadable(response: httpx.Response, why: str) -> GravixLayerResponseValidationError:
    return GravixLayerResponseValidationError(
        f"{response.request.method} {response.request.url.path} answered {response.status_code} "
        f"with a body this SDK cannot read: {why}",
        status_code=response.status_code,
        body=response.text[:2000],
        request_id=response.headers.get("x-request-id"),
        response=response,
    )


def json_body(response: httpx.Response) -> Any:
    """The decoded JSON body; `None` for an empty body (204 and friends)."""
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError as exc:
        raise _unreadable(response, f"not JSON ({exc})") from exc


def to_model(cls: type[M], data: Any, response: httpx.Response | None = None) -> M:
    try:
        model = cls.model_validate(data)
    except pydantic.ValidationError as exc:
        if response is None:
            raise
        raise _unreadable(response, str(exc).splitlines()[0] + ": " + str(exc.errors()[0]["loc"])) from exc
    if response is not None:
        model._set_request_id(response.headers.get("x-request-id"))
    return model


def parse_model(cls: type[M], response: httpx.Response) -> M:
    """Validate straight from the body bytes: pydantic's JSON parser is several times faster than
    `json.loads` followed by validation, which matters for embedding-sized answers."""
    try:
        model = cls.model_validate_json(response.content)
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        if first["type"] == "json_invalid":
            raise _unreadable(response, "not JSON") from exc
        raise _unreadable(response, f"{first['msg']} at {first['loc']}") from exc
    model._set_request_id(response.headers.get("x-request-id"))
    return model
