"""Argument checks run before anything is sent, raising `GravixLayerValidationError` that says what to fix."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ._exceptions import GravixLayerValidationError

__all__ = ["require_str", "require_positive_int", "require_in", "as_message_dicts"]


def require_str(name: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise GravixLayerValidationError(f"{name} must be a non-empty string, got {value!r}")
    return value


def require_positive_int(name: str, value: Any, *, allow_zero: bool = False) -> int:
    low = 0 if allow_zero else 1
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise GravixLayerValidationError(f"{name} must be an integer >= {low}, got {value!r}")
    return value


def require_in(name: str, value: Any, allowed: Iterable[str]) -> str:
    options = list(allowed)
    if value not in options:
        raise GravixLayerValidationError(f"{name} must be one of {', '.join(map(repr, options))}; got {value!r}")
    return str(value)


def as_message_dicts(messages: Any) -> list[dict[str, Any]]:
    """Chat messages as plain dicts: dicts pass unchanged; models and objects give role/content and friends."""
    if isinstance(messages, (str, bytes)) or not isinstance(messages, Iterable):
        raise GravixLayerValidationError(
            "messages must be a list of {'role': ..., 'content': ...} dicts, "
            f"got {type(messages).__name__}"
        )
    result: list[dict[str, Any]] = []
    for i, message in enumerate(messages):
        if isinstance(message, Mapping):
            item = dict(message)
        elif hasattr(message, "model_dump"):
            item = message.model_dump(exclude_none=True)
        elif hasattr(message, "role"):
            item = {
                key: getattr(message, key)
                for key in ("role", "content", "name", "tool_call_id", "tool_calls")
                if getattr(message, key, None) is not None
            }
        else:
            raise GravixLayerValidationError(f"messages[{i}] must be a dict with 'role' and 'content', got {message!r}")
        if not isinstance(item.get("role"), str) or not item["role"]:
            raise GravixLayerValidationError(f"messages[{i}] needs a 'role' string (system, user, assistant or tool)")
        result.append(item)
    if not result:
        raise GravixLayerValidationError("messages must contain at least one message")
    return result
