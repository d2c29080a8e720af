"""What a resource method asks the transport to do, independent of sync or async.

Resource methods build an `APIRequest`; the clients send it. Multi-step operations are written once as
generators (`Step`) that yield requests and receive responses, and the sync and async clients each
drive them: that is how an operation exists once while the async twin only awaits.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx

from ._types import RequestOptions

__all__ = ["APIRequest", "Step", "single", "without_none"]

T = TypeVar("T")

Step = Generator["APIRequest", httpx.Response, T]


@dataclass
class APIRequest:
    """One HTTP call: method, service prefix, path, body, and how it may be retried.

    `idempotent=False` marks a POST that creates something: it is retried only when the failure
    proves the server did not act on it (no connection made, 429, 503), so a retry never creates a
    duplicate. `files` may be a zero-argument callable returning fresh multipart parts, so a retried
    upload re-reads its source from the start.
    """

    method: str
    service: str
    path: str = ""
    json: Any = None
    params: Mapping[str, Any] | None = None
    files: Any = None
    data: Mapping[str, Any] | None = None
    content: Any = None
    headers: Mapping[str, str] | None = None
    options: RequestOptions = field(default_factory=lambda: RequestOptions())
    idempotent: bool = True
    stream: bool = False

    def with_body(self, body: Mapping[str, Any]) -> APIRequest:
        """The JSON body, with `extra_body` from the options merged last."""
        extra = self.options.get("extra_body")
        self.json = {**body, **extra} if extra else dict(body)
        return self


def without_none(**values: Any) -> dict[str, Any]:
    """Drop unset optional parameters: the SDK never sends `null` for something the caller did not give."""
    return {k: v for k, v in values.items() if v is not None}


def single(request: APIRequest, parse: Callable[[httpx.Response], T]) -> Step[T]:
    """A one-request operation."""
    response = yield request
    return parse(response)
