"""Reading list answers that come in several shapes: a bare array, `{"<key>": [...]}`, or `{}` for none."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NoReturn, TypeVar

import httpx

from .._exceptions import GravixLayerResponseValidationError
from .._parse import json_body, to_model
from ..types._lists import DataList

__all__ = ["parse_list"]

L = TypeVar("L", bound=DataList[Any])


def parse_list(cls: type[L], response: httpx.Response, keys: Sequence[str]) -> L:
    """The list in `response` as `cls`; keys other than the list's are kept on the result."""
    body = json_body(response)
    if body is None:
        return to_model(cls, {}, response)
    if isinstance(body, list):
        return to_model(cls, {"data": body}, response)
    if isinstance(body, dict):
        for key in keys:
            if key in body and (body[key] is None or isinstance(body[key], list)):
                rest = {k: v for k, v in body.items() if k not in keys}
                return to_model(cls, {**rest, "data": body[key] or []}, response)
        if not body:
            return to_model(cls, {}, response)
    _unreadable(response, body, keys)


def _unreadable(response: httpx.Response, body: Any, keys: Sequence[str]) -> NoReturn:
    raise GravixLayerResponseValidationError(
        f"{response.request.method} {response.request.url.path} answered {response.status_code} with "
        f"{type(body).__name__} {str(body)[:200]!r}; expected a JSON array or an object with "
        f"{' or '.join(repr(k) for k in keys)}",
        status_code=response.status_code,
        body=body,
        request_id=response.headers.get("x-request-id"),
        response=response,
    )
