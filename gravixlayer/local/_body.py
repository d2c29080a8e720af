"""Reading and validating JSON request bodies, shared by every router.

``await parse_body(request, Model)`` returns a validated pydantic v2 model or
raises ``LocalAPIError``: 413 when the body is too large, 400 ``invalid_json``
for malformed JSON or a non-object body, and 400 ``invalid_request`` for
missing or wrongly typed fields, naming each field (``messages: field
required``, ``messages[0].role: input should be a valid string``). Models
should derive from ``RequestModel`` (strict types, unknown keys kept, and the
rules of ``_validate``: finite numbers, valid Unicode, bounded nesting, also
inside unknown keys). A route that parses the body itself (the vector routes: stdlib JSON, which
names the field holding a lone surrogate, and ``upsert_body`` for big batches) uses
``read_json(request, parse=...)`` and then ``validate_data(data, Model)``: the same model, the same 400s.

Memory per request is bounded: a body is read as it arrives into one buffer and
refused with 413 as soon as it passes the limit (at once when ``Content-Length``
already says so), and the rest of a refused body is read and discarded, never
held, so the client gets to read the refusal. JSON bodies are limited to
``MAX_JSON_BYTES`` (or the upload limit, if smaller); a route that legitimately
takes more (vector upserts) passes its own ``max_bytes``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Any, TypeVar

import anyio.to_thread
from pydantic import BaseModel, ConfigDict, PlainValidator, ValidationError, model_validator
from starlette.requests import Request

from ._validate import check_json, decode_body, loads
from .errors import LocalAPIError

__all__ = [
    "RequestModel",
    "parse_body",
    "validate_data",
    "validate_json",
    "read_json",
    "read_body",
    "read_buffer",
    "MAX_JSON_BYTES",
    "format_validation_error",
    "StrOrStrList",
    "DEFAULT_MAX_JSON_BYTES",
]

MAX_JSON_BYTES = 16 * 1024 * 1024
"""Largest JSON body most routes take (a chat with a few inline images fits easily)."""
DEFAULT_MAX_JSON_BYTES = MAX_JSON_BYTES  # the old name
DRAIN_LIMIT = 256 * 1024 * 1024
"""After refusing a body, up to this many more bytes are read and discarded (never held) so a client
still sending gets to read the refusal instead of a reset connection; past it the connection closes."""
_MAX_REPORTED_ERRORS = 5

M = TypeVar("M", bound=BaseModel)


class RequestModel(BaseModel):
    """Base for request bodies: strict JSON types, unknown keys allowed and kept."""

    model_config = ConfigDict(extra="allow", strict=True, allow_inf_nan=False)

    @model_validator(mode="after")
    def _plain_json_values(self) -> RequestModel:
        """Unknown keys and free-form fields follow ``_validate``'s rules too (no ``Infinity`` kept)."""
        for name, value in self.__dict__.items():
            if isinstance(value, (dict, list, float)):
                check_json(value, name)
        for name, value in (self.__pydantic_extra__ or {}).items():
            check_json(value, name)
        return self


def _str_or_str_list(value: Any) -> str | list[str]:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return value
    raise ValueError("must be a string or a list of strings")


StrOrStrList = Annotated[str | list[str], PlainValidator(_str_or_str_list)]
"""A field that accepts ``"text"`` or ``["text", ...]`` with one clear error message."""


def _max_bytes_for(request: Request, max_bytes: int | None) -> int:
    config = getattr(request.app.state, "config", None)
    upload_limit = int(getattr(config, "max_upload_bytes", MAX_JSON_BYTES))
    return min(upload_limit, MAX_JSON_BYTES if max_bytes is None else max_bytes)


def _too_large(limit: int) -> LocalAPIError:
    return LocalAPIError(413, "payload_too_large", f"request body exceeds {limit} bytes")


async def drain(request: Request) -> None:
    """Read and discard what is left of a refused body (bounded; nothing is kept)."""
    drained = 0
    try:
        async for chunk in request.stream():
            drained += len(chunk)
            if drained > DRAIN_LIMIT:
                break
    except Exception:  # the client went away or the body was already consumed: nothing left to drain
        return


async def read_buffer(request: Request, max_bytes: int | None = None) -> bytearray:
    """The raw body in one buffer, refusing (413) anything above the limit before holding it.

    A ``bytearray`` grown in place: no list of chunks and no joined copy, so a body costs its own
    size once. ``json.loads`` and pydantic take it as it is.
    """
    limit = _max_bytes_for(request, max_bytes)
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        await drain(request)
        raise _too_large(limit)
    buffer = bytearray()
    async for chunk in request.stream():
        if len(buffer) + len(chunk) > limit:
            del buffer
            await drain(request)
            raise _too_large(limit)
        buffer += chunk
    return buffer


async def read_body(request: Request, max_bytes: int | None = None) -> bytes:
    """The raw body as ``bytes`` (for forwarding), with the limits of ``read_buffer``."""
    return bytes(await read_buffer(request, max_bytes))


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


def validate_json(raw: bytes | bytearray, model: type[M]) -> M:
    try:
        return model.model_validate_json(raw or b"")
    except ValidationError as exc:
        raise format_validation_error(exc) from None


def validate_data(data: Any, model: type[M]) -> M:
    """``validate_json`` for a body a router parsed itself (e.g. with ``upsert_body``)."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise format_validation_error(exc) from None


async def parse_body(request: Request, model: type[M], *, max_bytes: int | None = None) -> M:
    """Read, parse and validate the JSON body of ``request`` as ``model``."""
    raw = await read_buffer(request, max_bytes)
    if not raw or raw.isspace():
        raise LocalAPIError(400, "invalid_json", "request body is empty; expected a JSON object")
    return validate_json(raw, model)


async def read_json(
    request: Request,
    *,
    max_bytes: int | None = None,
    offload_bytes: int = 256 * 1024,
    parse: Callable[[str], Any] = loads,
) -> dict[str, Any]:
    """The body as a JSON object, parsed by ``parse`` (default ``_validate.loads``), for ``validate_data``.

    Where ``parse_body``'s parser refuses a lone surrogate as bad JSON, ``loads`` says which field
    holds it (``name: is not valid Unicode``); the vector routes answer that way, and pass their own
    ``parse`` for upserts (``upsert_body``). A body larger than ``offload_bytes`` is parsed in a
    worker thread, off the event loop.
    """
    raw = await read_buffer(request, max_bytes)
    if not raw or raw.isspace():
        raise LocalAPIError(400, "invalid_json", "request body is empty; expected a JSON object")
    text = decode_body(raw)
    del raw  # a large body is held once: as text, while it is parsed
    data = parse(text) if len(text) <= offload_bytes else await anyio.to_thread.run_sync(parse, text)
    del text
    if not isinstance(data, dict):
        raise LocalAPIError(400, "invalid_json", "request body must be a JSON object")
    return data
