"""Running GravixLayer Local inside the current process (tests, notebooks).

``LocalServer`` serves the app with uvicorn in a daemon thread on a free
loopback port. uvicorn binds the port itself, so asyncio sets TCP_NODELAY
(a hand-made socket without ``IPPROTO_TCP`` costs ~40 ms per request).
Connections are served by ``_protocol.guarded_protocol``: idle, half-sent and
stalled connections are closed after ``config.idle_timeout`` /
``config.request_timeout`` seconds.
"""

from __future__ import annotations

import atexit
import logging
import secrets
import shutil
import tempfile
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from ._config import LocalConfig

logger = logging.getLogger("gravixlayer.local")

if TYPE_CHECKING:
    import uvicorn

    from gravixlayer import AsyncGravixLayer, GravixLayer

__all__ = ["LocalServer", "shared", "generate_api_key"]

_START_TIMEOUT = 30.0
_STOP_TIMEOUT = 10.0


def generate_api_key() -> str:
    """A fresh random key for a server nobody configured a key for."""
    return "gl-local-" + secrets.token_urlsafe(24)


class LocalServer:
    """GravixLayer Local in a background thread.

    >>> with LocalServer() as server:
    ...     server.client.chat.completions.create(model=..., messages=[...])

    ``api_keys`` defaults to one generated key; ``data_dir`` defaults to a
    temporary directory removed by ``stop()``. Other keyword arguments are
    ``LocalConfig`` fields (``port``, ``upstream_url``, ...).
    """

    def __init__(
        self,
        api_keys: str | list[str] | None = None,
        data_dir: str | Path | None = None,
        *,
        deployment_ready_delay: float = 3.0,
        **config: Any,
    ) -> None:
        if api_keys is None:
            api_keys = [generate_api_key()]
        elif isinstance(api_keys, str):
            api_keys = [api_keys]
        self._temp_dir: Path | None = None
        if data_dir is None:
            self._temp_dir = Path(tempfile.mkdtemp(prefix="gravixlayer-local-"))
            data_dir = self._temp_dir
        try:
            self.config = LocalConfig(
                api_keys=list(api_keys),
                data_dir=Path(data_dir),
                deployment_ready_delay=deployment_ready_delay,
                **config,
            )
        except BaseException:
            self._remove_temp_dir()
            raise
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._port: int | None = None
        self._client: GravixLayer | None = None
        self._lock = threading.Lock()

    # -- info --------------------------------------------------------------------

    @property
    def api_key(self) -> str:
        """The first configured key (the one ``.client`` uses)."""
        return self.config.api_keys[0]

    @property
    def api_keys(self) -> list[str]:
        return list(self.config.api_keys)

    @property
    def data_dir(self) -> Path:
        return self.config.data_dir

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("LocalServer is not running; call start() first")
        return self._port

    @property
    def base_url(self) -> str:
        """The origin to give the SDK, e.g. ``http://127.0.0.1:54321``."""
        host = self.config.host
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and self._port is not None

    def __repr__(self) -> str:
        where = self.base_url if self.running else "stopped"
        return f"<LocalServer {where} keys={len(self.config.api_keys)} data_dir={str(self.data_dir)!r}>"

    # -- lifecycle ---------------------------------------------------------------

    def start(self) -> LocalServer:
        """Start serving; returns once the port accepts requests."""
        with self._lock:
            if self.running:
                return self
            import uvicorn

            from ._protocol import guarded_protocol
            from .app import create_app

            app = create_app(self.config)
            server = uvicorn.Server(
                uvicorn.Config(
                    app,
                    host=self.config.host,
                    port=self.config.port,
                    log_config=None,  # a library never configures logging
                    log_level=self.config.log_level,
                    access_log=self.config.access_log,
                    lifespan="on",
                    timeout_graceful_shutdown=2,
                    http=guarded_protocol(self.config.idle_timeout, self.config.request_timeout),
                    timeout_keep_alive=max(1, round(self.config.idle_timeout)),
                )
            )
            thread = threading.Thread(target=_serve, args=(server,), name="gravixlayer-local", daemon=True)
            thread.start()
            deadline = time.monotonic() + _START_TIMEOUT
            while not server.started:
                if not thread.is_alive() or time.monotonic() > deadline:
                    server.should_exit = True
                    thread.join(_STOP_TIMEOUT)
                    app.state.storage.close()
                    raise RuntimeError(
                        f"GravixLayer Local failed to start on {self.config.host}:"
                        f"{self.config.port or 'a free port'}; see the 'uvicorn.error' "
                        "and 'gravixlayer.local' logs"
                    )
                time.sleep(0.005)
            self._server, self._thread = server, thread
            self._port = int(server.servers[0].sockets[0].getsockname()[1])
            return self

    def stop(self) -> None:
        """Stop serving, close ``.client`` and remove a temporary data dir."""
        with self._lock:
            client, self._client = self._client, None
            if client is not None:
                client.close()
            server, thread = self._server, self._thread
            self._server = self._thread = None
            self._port = None
            if server is not None and thread is not None:
                server.should_exit = True
                thread.join(_STOP_TIMEOUT)
            self._remove_temp_dir()

    def _remove_temp_dir(self) -> None:
        if self._temp_dir is not None:
            shutil.rmtree(self._temp_dir, ignore_errors=True)
            self._temp_dir = None

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- SDK clients ---------------------------------------------------------------

    @property
    def client(self) -> GravixLayer:
        """A ``GravixLayer`` client for this server (made once, closed by ``stop()``)."""
        if self._client is None:
            from gravixlayer import GravixLayer

            self._client = GravixLayer(api_key=self.api_key, base_url=self.base_url)
        return self._client

    def async_client(self, **kwargs: Any) -> AsyncGravixLayer:
        """A new ``AsyncGravixLayer`` for this server; the caller closes it."""
        from gravixlayer import AsyncGravixLayer

        return AsyncGravixLayer(api_key=self.api_key, base_url=self.base_url, **kwargs)


def _serve(server: uvicorn.Server) -> None:
    """uvicorn exits with ``sys.exit`` when it cannot start; ``start()`` reports that."""
    try:
        server.run()
    except SystemExit as exc:
        logger.debug("uvicorn exited with status %s", exc.code)


_shared: LocalServer | None = None
_shared_lock = threading.Lock()


def shared() -> LocalServer:
    """One process-wide server (for notebooks), started on first use, stopped at exit."""
    global _shared
    with _shared_lock:
        if _shared is None or not _shared.running:
            _shared = LocalServer().start()
            atexit.register(_shared.stop)
        return _shared
