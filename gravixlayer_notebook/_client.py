"""Where the notebook's client comes from: one place, one order.

1. an explicit `%gravix config --api-key-env NAME [--base-url URL]` (the key is read from that
   environment variable, so it never appears in a cell or its output);
2. the `GRAVIXLAYER_API_KEY` environment variable (with `GRAVIXLAYER_BASE_URL` when set);
3. GravixLayer Local, embedded in the kernel and started on first use, with a one-line notice that
   it is the offline stand-in.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gravixlayer import GravixLayer

__all__ = ["ClientProvider", "ClientSource", "LOCAL_NOTICE", "get_client", "default_provider", "list_models"]

LOCAL_NOTICE = (
    "GravixLayer Local: GRAVIXLAYER_API_KEY is not set, so this kernel uses the embedded offline "
    "server (small local models, real embeddings); set the key to use the cloud."
)


@dataclass(frozen=True)
class ClientSource:
    """How the current client was chosen; safe to show (it never holds the key itself)."""

    kind: str  # "config", "env" or "local"
    key_env: str | None
    base_url: str

    def describe(self) -> str:
        if self.kind == "local":
            return f"GravixLayer Local (embedded offline stand-in) at {self.base_url}"
        return f"{self.base_url} with the key from ${self.key_env}"


class ClientProvider:
    """Builds the client lazily and keeps it; `configure()` or `reset()` make the next use rebuild it."""

    def __init__(self, notify: Callable[[str], None] | None = None) -> None:
        self._lock = threading.RLock()
        self._client: GravixLayer | None = None
        self._source: ClientSource | None = None
        self._key_env: str | None = None
        self._base_url: str | None = None
        self._force_local = False
        self._owned = False
        self.notify = notify

    @property
    def source(self) -> ClientSource | None:
        return self._source

    @property
    def key_env(self) -> str | None:
        return self._key_env

    @property
    def base_url(self) -> str | None:
        return self._base_url

    @property
    def local(self) -> bool:
        """True when `%gravix config --local` forces the embedded GravixLayer Local."""
        return self._force_local

    def configure(
        self, *, key_env: str | None = None, base_url: str | None = None, local: bool | None = None
    ) -> None:
        """Set the explicit choice (step 1); `local=True` forces the embedded Local.

        All or nothing: every value is checked before any is applied, so a mistake leaves the
        previous settings (and client) in force.
        """
        if key_env is not None and not key_env.isidentifier():
            raise ValueError(f"--api-key-env takes the NAME of an environment variable, got {key_env!r}")
        if base_url is not None:
            from gravixlayer._base_client import normalize_base_url

            base_url = normalize_base_url(base_url)
        with self._lock:
            if key_env is not None:
                self._key_env = key_env
            if base_url is not None:
                self._base_url = base_url
            if local is not None:
                self._force_local = local
            self._drop()

    def can_build_without_local(self) -> bool:
        """True when `get()` would build a cloud client (cheap), not start the embedded Local."""
        if self._force_local:
            return False
        key_env = self._key_env or "GRAVIXLAYER_API_KEY"
        return bool(os.environ.get(key_env, "").strip())

    def reset(self) -> None:
        """Forget the explicit choice and the client."""
        with self._lock:
            self._key_env = self._base_url = None
            self._force_local = False
            self._drop()

    def set_client(self, client: GravixLayer, kind: str = "config", key_env: str | None = None) -> None:
        """Use this client (tests and advanced users)."""
        with self._lock:
            self._drop()
            self._client = client
            self._source = ClientSource(kind, key_env, client.base_url)

    def _drop(self) -> None:
        client, self._client, self._source = self._client, None, None
        if client is not None and self._owned:
            client.close()
        self._owned = False

    def get(self) -> GravixLayer:
        with self._lock:
            if self._client is None:
                self._client, self._source, self._owned = self._build()
            return self._client

    def _build(self) -> tuple[GravixLayer, ClientSource, bool]:
        from gravixlayer import GravixLayer

        if not self._force_local:
            if self._key_env:
                key = os.environ.get(self._key_env, "").strip()
                if not key:
                    raise LookupError(
                        f"--api-key-env {self._key_env}: that environment variable is empty or not set "
                        f"(set it in the kernel's environment, e.g. with getpass and os.environ)"
                    )
                client = GravixLayer(api_key=key, base_url=self._base_url)
                return client, ClientSource("config", self._key_env, client.base_url), True
            if os.environ.get("GRAVIXLAYER_API_KEY", "").strip():
                client = GravixLayer(base_url=self._base_url)
                return client, ClientSource("env", "GRAVIXLAYER_API_KEY", client.base_url), True
        from gravixlayer.local import shared

        server = shared()
        if self.notify is not None:
            self.notify(LOCAL_NOTICE)
        return server.client, ClientSource("local", None, server.base_url), False

    def api_key(self) -> str | None:
        """The key in use (for redacting it from messages); never displayed."""
        with self._lock:
            return self._client.api_key if self._client is not None else None


def list_models(client: Any, *, quick: bool = False) -> list[dict[str, Any]]:
    """The models the server offers (`GET /v1/inference/models`), as dicts; `quick`: 5 s, no retries
    (for tab completion and widgets, which must not hang on a slow network)."""
    from gravixlayer._parse import json_body
    from gravixlayer._request import APIRequest

    if quick:
        client = client.with_options(timeout=5.0, max_retries=0)
    body = json_body(client.send(APIRequest("GET", "inference", "models")))
    items = body.get("data", []) if isinstance(body, dict) else body
    return [item for item in items or [] if isinstance(item, dict)]


def _notify_default(message: str) -> None:
    from IPython.display import display

    display(_Notice(message))  # type: ignore[no-untyped-call]


class _Notice:
    """A muted one-line notice: plain text in terminals, small grey text in notebooks."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text

    def _repr_html_(self) -> str:
        import html

        return f'<div style="color:#666;font-size:0.9em">{html.escape(self.text)}</div>'


_default: ClientProvider | None = None
_default_lock = threading.Lock()


def default_provider() -> ClientProvider:
    """The kernel-wide provider shared by the magics, the widgets and `get_client()`."""
    global _default
    with _default_lock:
        if _default is None:
            _default = ClientProvider(notify=_notify_default)
        return _default


def get_client() -> GravixLayer:
    """The notebook's client, chosen as the module docstring says (same one the magics use)."""
    return default_provider().get()
