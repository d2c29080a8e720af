"""Base classes of the sync and async resources: each holds the client that sends its requests.

Most methods take per-call options as `**options` (typed by `RequestOptions`), and Python would let a
misspelt keyword (`temprature=0.5`) slip into them unnoticed. Every public method of a resource class
that takes `**options` is therefore wrapped, once, when the class is defined: an unknown keyword raises
`TypeError` naming the nearest valid one, as a misspelt keyword of a plain function would.
"""

from __future__ import annotations

import difflib
import functools
import inspect
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from ._types import RequestOptions, TimedRequestOptions

if TYPE_CHECKING:
    from ._base_client import AsyncAPIClient, SyncAPIClient

__all__ = ["SyncAPIResource", "AsyncAPIResource", "check_keywords", "checked_keywords", "wrap_public_methods"]

F = TypeVar("F", bound=Callable[..., Any])

_OPTION_NAMES = frozenset(RequestOptions.__annotations__)
_TIMED_OPTION_NAMES = frozenset(TimedRequestOptions.__annotations__)


def check_keywords(function: str, given: Mapping[str, Any], allowed: frozenset[str], named: tuple[str, ...]) -> None:
    """Raise `TypeError` for the first keyword in `given` that is not in `allowed`."""
    for key in given:
        if key not in allowed:
            near = difflib.get_close_matches(key, (*named, *sorted(allowed)), n=1, cutoff=0.6)
            hint = f"; did you mean {near[0]!r}?" if near else ""
            raise TypeError(f"{function}() got an unexpected keyword argument {key!r}{hint}")


def checked_keywords(fn: F) -> F:
    """Wrap `fn` (whose last parameter is `**options`) so that unknown keywords raise `TypeError`."""
    signature = inspect.signature(fn)
    params = list(signature.parameters.values())
    if not params or params[-1].kind is not inspect.Parameter.VAR_KEYWORD:
        return fn
    hint = str(params[-1].annotation)
    allowed = _TIMED_OPTION_NAMES if "TimedRequestOptions" in hint else _OPTION_NAMES
    named = tuple(p.name for p in params[1:-1] if p.kind is not inspect.Parameter.VAR_POSITIONAL)
    name = fn.__qualname__

    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            check_keywords(name, _extra(kwargs, named), allowed, named)
            return await fn(*args, **kwargs)

        return async_wrapper  # type: ignore[return-value]

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        check_keywords(name, _extra(kwargs, named), allowed, named)
        return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _extra(kwargs: dict[str, Any], named: tuple[str, ...]) -> dict[str, Any]:
    return {k: v for k, v in kwargs.items() if k not in named} if kwargs else kwargs


def wrap_public_methods(cls: type) -> None:
    """Apply `checked_keywords` to each public method `cls` itself defines."""
    for attr, value in list(vars(cls).items()):
        if not attr.startswith("_") and inspect.isfunction(value) and not getattr(value, "_keywords_checked", False):
            wrapped = checked_keywords(value)
            if wrapped is not value:
                wrapped._keywords_checked = True  # type: ignore[attr-defined]
                setattr(cls, attr, wrapped)


class SyncAPIResource:
    def __init__(self, client: SyncAPIClient) -> None:
        self._client = client

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        wrap_public_methods(cls)

    def __repr__(self) -> str:
        return f"<{type(self).__module__}.{type(self).__name__}>"


class AsyncAPIResource:
    def __init__(self, client: AsyncAPIClient) -> None:
        self._client = client

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        wrap_public_methods(cls)

    def __repr__(self) -> str:
        return f"<{type(self).__module__}.{type(self).__name__}>"
