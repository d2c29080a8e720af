"""The base of every response type.

Responses are read leniently (unknown fields are kept, reachable as attributes and in `to_dict()`)
and nothing is invented: a field the server did not send stays `None` or empty.

Dict-style reading: code written for SDKs that hand back plain dicts (the vendor's memory results,
OpenAI v0 objects) works unchanged. `m["field"]` is `m.field` (fields, fields the server added, and
the model's read-only properties; an unknown name raises `KeyError`); `m.get("field", default)` and
`"field" in m` treat a field that is `None` (not sent) as absent. Attribute access, pydantic methods,
iteration and `to_pandas()` are unchanged; a list answer still indexes by position (`res[0]`) and
also by name (`res["results"]`).
"""

from __future__ import annotations

import json
from typing import Any, ClassVar, TypeVar, overload

import pydantic

__all__ = ["BaseModel", "short_repr"]

M = TypeVar("M", bound="BaseModel")
T = TypeVar("T")

_MAX_LIST_REPR = 6


def short_repr(value: Any) -> str:
    """A repr that shortens long float lists (embeddings) so a notebook cell stays readable."""
    if isinstance(value, list) and len(value) > _MAX_LIST_REPR and all(
        isinstance(v, (int, float)) for v in value[:_MAX_LIST_REPR]
    ):
        head = ", ".join(f"{v:.4g}" if isinstance(v, float) else repr(v) for v in value[:3])
        return f"[{head}, ... {len(value) - 3} more]"
    if isinstance(value, BaseModel):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(short_repr(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {short_repr(v)}" for k, v in value.items()) + "}"
    return repr(value)


class BaseModel(pydantic.BaseModel):
    """Lenient, lossless response model with `to_dict()`, `to_json()` and a short repr."""

    model_config = pydantic.ConfigDict(extra="allow", populate_by_name=True, protected_namespaces=())

    # Not a pydantic PrivateAttr: those cost a post-init hook on every nested model, which doubled the
    # price of reading a stream chunk. The instance value lives in __dict__ (never dumped).
    _request_id: ClassVar[str | None] = None
    _repr_fields: ClassVar[tuple[str, ...] | None] = None

    @property
    def request_id(self) -> str | None:
        """The `x-request-id` of the response this object was read from, when the server sent one."""
        value: str | None = self.__dict__.get("_request_id")
        return value

    def _set_request_id(self, value: str | None) -> None:
        object.__setattr__(self, "_request_id", value)

    def to_dict(self, *, exclude_none: bool = False) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=exclude_none, by_alias=True)

    def to_json(self, *, indent: int | None = 2, exclude_none: bool = False) -> str:
        return json.dumps(self.to_dict(exclude_none=exclude_none), indent=indent)

    def __repr__(self) -> str:
        items = []
        # Not dict(self): list types override __iter__ to iterate their items.
        values = {k: v for k, v in self.__dict__.items() if not k.startswith("_")}
        values.update(self.__pydantic_extra__ or {})
        names = self._repr_fields or tuple(values)
        for name in names:
            if name in values:
                items.append(f"{name}={short_repr(values[name])}")
        return f"{type(self).__name__}({', '.join(items)})"

    __str__ = __repr__

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(repr(self))

    # -- dict-style reading ------------------------------------------------------------------------

    def _lookup(self, key: str) -> tuple[bool, Any]:
        """(known, value) of a field, an extra field or a public property called `key`."""
        if key.startswith("_"):
            return False, None
        fields = type(self).model_fields
        if key in fields:
            return True, getattr(self, key)
        extra = self.__pydantic_extra__
        if extra is not None and key in extra:
            return True, extra[key]
        for name, info in fields.items():
            if info.alias == key:
                return True, getattr(self, name)
        if isinstance(getattr(type(self), key, None), property):
            return True, getattr(self, key)
        return False, None

    def _item(self, key: str) -> Any:
        if not isinstance(key, str):
            raise TypeError(f"{type(self).__name__} keys are field names (str), got {type(key).__name__}")
        known, value = self._lookup(key)
        if not known:
            raise KeyError(key)
        return value

    def __getitem__(self, key: str) -> Any:
        """`m["field"]`, as dict-based code reads a response: the same value as `m.field`."""
        return self._item(key)

    @overload
    def get(self, key: str) -> Any | None: ...
    @overload
    def get(self, key: str, default: T) -> Any | T: ...
    def get(self, key: str, default: Any = None) -> Any:
        """`m.get("field", default)`: the field's value, or `default` when it is unknown or `None`."""
        known, value = self._lookup(key) if isinstance(key, str) else (False, None)
        return value if known and value is not None else default

    def _has_key(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        known, value = self._lookup(key)
        return known and value is not None

    def __contains__(self, key: object) -> bool:
        """`"field" in m`: the model has that field and it is set (not `None`)."""
        return self._has_key(key)
