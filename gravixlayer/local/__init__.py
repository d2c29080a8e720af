"""GravixLayer Local: an offline server speaking the GravixLayer wire protocol.

``LocalServer`` runs it in a background thread (tests, notebooks);
``python -m gravixlayer.local`` (or ``gravixlayer-local``) runs it from a
shell. Importing this package is cheap: starlette, uvicorn, numpy and
wordllama load only when a server is created.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._config import LocalConfig, tenant_id
from ._server import LocalServer, generate_api_key, shared

if TYPE_CHECKING:
    from .app import create_app
    from .embedding import Embedder
    from .errors import LocalAPIError
    from .storage import Storage

__all__ = [
    "LocalConfig",
    "LocalServer",
    "shared",
    "tenant_id",
    "generate_api_key",
    "create_app",
    "Embedder",
    "LocalAPIError",
    "Storage",
]

_LAZY = {
    "create_app": "app",
    "Embedder": "embedding",
    "LocalAPIError": "errors",
    "Storage": "storage",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
