"""Reading and validating JSON request bodies, shared by every router.

``await parse_body(request, Model)`` returns a validated pydantic v2 model or
raises ``LocalAPIError``: 413 when the body is too large, 400 ``invalid_json``
for malformed JSON or a non-object body, and 400 ``invalid_request`` for
missing or wrongly typed fields, naming each field (``messages: field
required``, ``messages[0].role: input should be a valid string``). Models
should derive from ``RequestModel`` (strict types, unknown keys kept).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, PlainValidator, ValidationError
from starlette.requests import Request

from .errors import LocalAPIError

__all__ = [
    "RequestModel",
    "parse_body",
    "read_body",
    "format_validation_error",
    "StrOrStrList",
    "DEFAULT_MAX_JSON_BYTES",
]

DEFAULT_MAX_JSON_BYTES = 512 * 1024 * 1024
_MAX_REPORTED_ERRORS = 5

M = TypeVar("M", bound=BaseModel)


class RequestModel(BaseModel):
    """Base for request bodies: strict JSON types, unknown keys allowed and kept."""

    model_config = ConfigDict(extra="allow", strict=True)


def _str_or_str_list(value: Any) -> str | list[str]:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return value
    raise ValueError("must be a string or a list of strings")


StrOrStrList = Annotated[str | list[str], PlainValidator(_str_or_str_list)]
"""A field that accepts ``"text"`` or ``["text", ...]`` with one clear error message."""


def _max_bytes_for(request: Request, max_bytes: int | None) -> int:
    if max_bytes is not None:
        return max_bytes
    config = getattr(request.app.state, "config", None)
    return int(getattr(config, "max_upload_bytes", DEFAULT_MAX_JSON_BYTES))


def _too_large(limit: int) -> LocalAPIError:
    return LocalAPIError(413, "payload_too_large", f"request body exceeds {limit} bytes")


async def read_body(request: Request, max_bytes: int | None = None) -> bytes:
    """The raw body, refusing (413) anything above the limit before buffering it."""
    limit = _max_bytes_for(request, max_bytes)
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _format_loc(loc: Sequence[int | str]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _format_msg(msg: str) -> str:
    for prefix in ("Value error, ", "Assertion failed, "):
        if msg.startswith(prefix):
            msg = msg[len(prefix) :]
    return msg[:1].lower() + msg[1:]


def format_validation_error(exc: ValidationError) -> LocalAPIError:
    """Turn a pydantic error into a 400 whose message names each bad field."""
    errors = exc.errors(include_url=False, include_context=False, include_input=False)
    for error in errors:
        if error["type"] == "json_invalid":
            detail = error["msg"].removeprefix("Invalid JSON: ")
            return LocalAPIError(400, "invalid_json", f"request body is not valid JSON: {detail}")
        if error["type"] in ("model_type", "dict_type") and not error["loc"]:
            return LocalAPIError(400, "invalid_json", "request body must be a JSON object")
    parts = [
        f"{_format_loc(error['loc']) or 'body'}: {_format_msg(error['msg'])}"
        for error in errors[:_MAX_REPORTED_ERRORS]
    ]
    if len(errors) > _MAX_REPORTED_ERRORS:
        parts.append(f"and {len(errors) - _MAX_REPORTED_ERRORS} more")
    return LocalAPIError(400, "invalid_request", "; ".join(parts))


def validate_json(raw: bytes, model: type[M]) -> M:
    try:
        return model.model_validate_json(raw or b"")
    except ValidationError as exc:
        raise format_validation_error(exc) from None


async def parse_body(request: Request, model: type[M], *, max_bytes: int | None = None) -> M:
    """Read, parse and validate the JSON body of ``request`` as ``model``."""
    raw = await read_body(request, max_bytes)
    if not raw.strip():
        raise LocalAPIError(400, "invalid_json", "request body is empty; expected a JSON object")
    return validate_json(raw, model)
