"""GravixLayer: the Python SDK for the GravixLayer AI platform.

`import gravixlayer` loads only what it must: the exceptions (one small module), the clients on first
use, and each service's module when its attribute is first touched. The exported names are one list:
`_exceptions.__all__` for the errors, so a new exception is public to type checkers and at run time at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import _exceptions
from ._exceptions import *  # noqa: F403  (the exception tree: small, and needed by every caller)
from ._version import __version__

if TYPE_CHECKING:
    from ._client import AsyncGravixLayer, GravixLayer
    from ._streaming import AsyncStream, Stream
    from .resources.sandbox.facade import AsyncSandbox, Sandbox
    from .types.templates import TemplateBuilder

__all__ = [
    "__version__", "GravixLayer", "AsyncGravixLayer", "Stream", "AsyncStream", "Sandbox", "AsyncSandbox",
    "TemplateBuilder",
]  # fmt: skip
__all__ += _exceptions.__all__

_LOCATIONS = {
    "GravixLayer": "._client",
    "AsyncGravixLayer": "._client",
    "Stream": "._streaming",
    "AsyncStream": "._streaming",
    "Sandbox": ".resources.sandbox.facade",
    "AsyncSandbox": ".resources.sandbox.facade",
    "TemplateBuilder": ".types.templates",
}


def __getattr__(name: str) -> Any:
    import importlib

    if name in _LOCATIONS:
        module = importlib.import_module(_LOCATIONS[name], __name__)
    else:
        raise AttributeError(f"module 'gravixlayer' has no attribute {name!r}")
    value = getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
