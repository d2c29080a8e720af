"""GravixLayer: the Python SDK for the GravixLayer AI platform.

`import gravixlayer` loads only what it must: the clients and exceptions on first use, and each
service's module when its attribute is first touched.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:
    from ._client import AsyncGravixLayer, GravixLayer
    from ._exceptions import (
        GravixLayerAPIError as GravixLayerAPIError,
    )
    from ._exceptions import (
        GravixLayerAuthenticationError as GravixLayerAuthenticationError,
    )
    from ._exceptions import (
        GravixLayerBadRequestError as GravixLayerBadRequestError,
    )
    from ._exceptions import (
        GravixLayerConflictError as GravixLayerConflictError,
    )
    from ._exceptions import (
        GravixLayerConnectionError as GravixLayerConnectionError,
    )
    from ._exceptions import (
        GravixLayerDeploymentFailedError as GravixLayerDeploymentFailedError,
    )
    from ._exceptions import (
        GravixLayerIncompleteStreamError as GravixLayerIncompleteStreamError,
    )
    from ._exceptions import (
        GravixLayerNotFoundError as GravixLayerNotFoundError,
    )
    from ._exceptions import (
        GravixLayerPayloadTooLargeError as GravixLayerPayloadTooLargeError,
    )
    from ._exceptions import (
        GravixLayerPermissionDeniedError as GravixLayerPermissionDeniedError,
    )
    from ._exceptions import (
        GravixLayerRateLimitError as GravixLayerRateLimitError,
    )
    from ._exceptions import (
        GravixLayerResponseValidationError as GravixLayerResponseValidationError,
    )
    from ._exceptions import (
        GravixLayerServerError as GravixLayerServerError,
    )
    from ._exceptions import (
        GravixLayerStreamError as GravixLayerStreamError,
    )
    from ._exceptions import (
        GravixLayerTimeoutError as GravixLayerTimeoutError,
    )
    from ._exceptions import (
        GravixLayerUnprocessableEntityError as GravixLayerUnprocessableEntityError,
    )
    from ._exceptions import (
        GravixLayerValidationError as GravixLayerValidationError,
    )
    from ._exceptions import (
        GravixLayerWaitTimeoutError as GravixLayerWaitTimeoutError,
    )
    from ._streaming import AsyncStream, Stream
    from .resources.sandbox.facade import AsyncSandbox, Sandbox

__all__ = [
    "__version__",
    "GravixLayer",
    "AsyncGravixLayer",
    "Stream",
    "AsyncStream",
    "Sandbox",
    "AsyncSandbox",
    "GravixLayerError",
    "GravixLayerAPIError",
    "GravixLayerAuthenticationError",
    "GravixLayerPermissionDeniedError",
    "GravixLayerBadRequestError",
    "GravixLayerValidationError",
    "GravixLayerNotFoundError",
    "GravixLayerConflictError",
    "GravixLayerPayloadTooLargeError",
    "GravixLayerUnprocessableEntityError",
    "GravixLayerRateLimitError",
    "GravixLayerServerError",
    "GravixLayerConnectionError",
    "GravixLayerTimeoutError",
    "GravixLayerStreamError",
    "GravixLayerIncompleteStreamError",
    "GravixLayerResponseValidationError",
    "GravixLayerDeploymentFailedError",
    "GravixLayerWaitTimeoutError",
]

_LOCATIONS = {
    "GravixLayer": "._client",
    "AsyncGravixLayer": "._client",
    "Stream": "._streaming",
    "AsyncStream": "._streaming",
    "Sandbox": ".resources.sandbox.facade",
    "AsyncSandbox": ".resources.sandbox.facade",
}


def __getattr__(name: str) -> Any:
    import importlib

    if name in _LOCATIONS:
        module = importlib.import_module(_LOCATIONS[name], __name__)
    elif name.startswith("GravixLayer") and name in __all__:
        module = importlib.import_module("._exceptions", __name__)
    else:
        raise AttributeError(f"module 'gravixlayer' has no attribute {name!r}")
    value = getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
