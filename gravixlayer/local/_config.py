"""Configuration of GravixLayer Local.

API keys live only in memory: storage and logs see the *tenant id* (a short
SHA-256 digest of the key), never the key itself.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["LocalConfig", "tenant_id", "default_data_dir", "read_key_file", "keys_from_env", "MIB", "KEYS_ENV"]

MIB = 1024 * 1024

UPSTREAM_ENV = "GRAVIXLAYER_LOCAL_UPSTREAM"
UPSTREAM_KEY_ENV = "GRAVIXLAYER_LOCAL_UPSTREAM_KEY"
DATA_DIR_ENV = "GRAVIXLAYER_LOCAL_DATA_DIR"
ANY_MODEL_ENV = "GRAVIXLAYER_LOCAL_ANY_MODEL"
KEYS_ENV = "GRAVIXLAYER_LOCAL_API_KEYS"
"""Accepted keys, one per line (or comma-separated): kept off the command line, where any local user
(and any process that can read ``/proc``) would see them."""


def _parse_keys(text: str) -> list[str]:
    keys = []
    for line in text.replace(",", "\n").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keys.append(line)
    return keys


def read_key_file(path: Path) -> list[str]:
    """Keys from a file, one per line (``#`` comments): like an SSH key, it must not be readable by others."""
    try:
        info = path.stat()
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValueError(f"cannot read the API key file {str(path)!r}: {exc.strerror or exc}") from None
    if info.st_mode & 0o077:
        raise ValueError(
            f"the API key file {str(path)!r} is readable by other users (mode {oct(info.st_mode & 0o777)}); "
            f"run: chmod 600 {path}"
        )
    keys = _parse_keys(text)
    if not keys:
        raise ValueError(f"the API key file {str(path)!r} holds no key")
    return keys


def keys_from_env() -> list[str]:
    """Keys from ``GRAVIXLAYER_LOCAL_API_KEYS``, then removed from this process's environment."""
    keys = _parse_keys(os.environ.get(KEYS_ENV, ""))
    scrub_environment(KEYS_ENV)
    return keys


def scrub_environment(name: str) -> None:
    """Forget `name`, including the bytes ``/proc/<pid>/environ`` shows (the block the process started with).

    ``os.environ.pop`` alone leaves the value readable there to every process of the same user.
    """
    if name not in os.environ:
        return
    prefix = name.encode() + b"="
    try:
        import ctypes

        environ = ctypes.POINTER(ctypes.c_void_p).in_dll(ctypes.CDLL(None), "environ")
        index = 0
        while environ[index]:
            address = environ[index]
            entry = ctypes.string_at(address)
            if entry.startswith(prefix):
                ctypes.memset(address + len(prefix), 0, len(entry) - len(prefix))
            index += 1
    except (OSError, ValueError, AttributeError):
        pass
    os.environ.pop(name, None)
CHAT_ENGINE_ENV = "GRAVIXLAYER_LOCAL_CHAT_ENGINE"
CHAT_ENGINES = ("smollm2", "standin")
EMBEDDING_ENGINE_ENV = "GRAVIXLAYER_LOCAL_EMBEDDING_ENGINE"
EMBEDDING_ENGINES = ("minilm", "wordllama")


def tenant_id(api_key: str) -> str:
    """The tenant an API key belongs to: 16 hex digits of its SHA-256."""
    return hashlib.sha256(api_key.encode("utf-8")).hexdigest()[:16]


def default_data_dir() -> Path:
    """Where Local keeps its database and blobs unless told otherwise."""
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        return Path(env).expanduser()
    return Path.home() / ".gravixlayer" / "local"


def _env_or_none(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


@dataclass
class LocalConfig:
    """Everything GravixLayer Local needs to run.

    ``api_keys`` may hold several keys; each key is its own tenant whose
    resources no other key can see. ``upstream_url`` (default: the
    ``GRAVIXLAYER_LOCAL_UPSTREAM`` environment variable) points at an
    OpenAI-compatible server (Ollama, vLLM, llama.cpp) to which chat and text
    completions are forwarded instead of the built-in stand-in model.
    """

    api_keys: list[str] = field(default_factory=list, repr=False)
    data_dir: Path = field(default_factory=default_data_dir)
    host: str = "127.0.0.1"
    port: int = 0
    max_upload_bytes: int = 512 * MIB
    deployment_ready_delay: float = 3.0
    upstream_url: str | None = field(default_factory=lambda: _env_or_none(UPSTREAM_ENV))
    upstream_api_key: str | None = field(default_factory=lambda: _env_or_none(UPSTREAM_KEY_ENV), repr=False)
    upstream_timeout: float = 600.0
    log_level: str = "warning"
    access_log: bool = False
    token_delay: float = 0.0
    """Seconds the stand-in model waits between streamed tokens (0 = no pacing)."""
    model_aliases: dict[str, str] = field(default_factory=dict)
    """Extra model ids (any case) and the catalogue model that serves each (``--model-alias NAME=TARGET``);
    they come before the built-in ``model_resolution.DEFAULT_ALIASES``."""
    any_model: bool = field(default_factory=lambda: _env_flag(ANY_MODEL_ENV))
    """Serve every unknown chat/completion model id with the local model instead of answering 404
    (default: ``GRAVIXLAYER_LOCAL_ANY_MODEL``, else off)."""
    idle_timeout: float = 5.0
    """Seconds a connection may stay open without a request (new, or kept alive after one)."""
    request_timeout: float = 30.0
    """Seconds a request head may take to arrive, and the longest pause allowed inside a body."""
    sandbox_disk_mb: int = 2048
    """Disk each sandbox may fill (its files; ``/tmp`` and ``/dev/shm`` are memory file systems within it)."""
    sandbox_isolation: str = "auto"
    """``auto`` (strongest mode that works here), ``require`` (refuse sandboxes unless namespaces work),
    or one mode forced: ``namespaces``, ``namespaces-no-proc``, ``landlock``, ``best-effort``."""
    chat_engine: str = field(default_factory=lambda: _env_or_none(CHAT_ENGINE_ENV) or "smollm2")
    """Who answers the catalogue's chat models: ``"smollm2"`` (the real local model,
    SmolLM2-135M-Instruct; the stand-in when it is not installed) or ``"standin"``
    (the deterministic stand-in). Default: ``GRAVIXLAYER_LOCAL_CHAT_ENGINE`` or smollm2."""
    embedding_engine: str = field(default_factory=lambda: _env_or_none(EMBEDDING_ENGINE_ENV) or "minilm")
    """Source of every served embedding model: ``"minilm"`` (all-MiniLM-L6-v2, real sentence
    embeddings; wordllama when it is not installed) or ``"wordllama"`` (static word vectors,
    ~60x faster, weaker rankings). Default: ``GRAVIXLAYER_LOCAL_EMBEDDING_ENGINE`` or minilm."""

    def __post_init__(self) -> None:
        if isinstance(self.api_keys, str):
            self.api_keys = [self.api_keys]
        self.api_keys = list(self.api_keys)
        if not self.api_keys:
            raise ValueError("LocalConfig needs at least one API key")
        for key in self.api_keys:
            if not isinstance(key, str) or not key.strip() or key != key.strip():
                raise ValueError("API keys must be non-empty strings without surrounding spaces")
            if any(ch.isspace() for ch in key):
                raise ValueError("API keys must not contain whitespace")
        self.data_dir = Path(self.data_dir).expanduser()
        if not 0 <= self.port <= 65535:
            raise ValueError(f"port must be between 0 and 65535, got {self.port}")
        if self.max_upload_bytes <= 0:
            raise ValueError("max_upload_bytes must be positive")
        if self.deployment_ready_delay < 0:
            raise ValueError("deployment_ready_delay must not be negative")
        choices = ("auto", "require", "namespaces", "namespaces-no-proc", "landlock", "best-effort")
        if self.sandbox_isolation not in choices:
            raise ValueError(f"sandbox_isolation must be one of {', '.join(choices)}")
        if self.sandbox_disk_mb < 16:
            raise ValueError("sandbox_disk_mb must be at least 16")
        if self.token_delay < 0:
            raise ValueError("token_delay must not be negative")
        if not self.idle_timeout > 0 or not self.request_timeout > 0:
            raise ValueError("idle_timeout and request_timeout must be positive")
        if self.upstream_url is not None:
            url = self.upstream_url.strip().rstrip("/")
            if not url.startswith(("http://", "https://")):
                raise ValueError("upstream_url must start with http:// or https://")
            self.upstream_url = url
        self.log_level = self.log_level.lower()
        from .model_resolution import check_aliases

        self.model_aliases = check_aliases(self.model_aliases)
        self.chat_engine = self.chat_engine.strip().lower()
        if self.chat_engine not in CHAT_ENGINES:
            raise ValueError(
                f"chat_engine must be one of {', '.join(CHAT_ENGINES)}, got {self.chat_engine!r}"
            )
        self.embedding_engine = self.embedding_engine.strip().lower()
        if self.embedding_engine not in EMBEDDING_ENGINES:
            raise ValueError(
                f"embedding_engine must be one of {', '.join(EMBEDDING_ENGINES)}, got {self.embedding_engine!r}"
            )

    @property
    def tenants(self) -> list[str]:
        """Tenant ids, in the order of ``api_keys``."""
        return [tenant_id(key) for key in self.api_keys]

    @property
    def database_path(self) -> Path:
        return self.data_dir / "local.sqlite3"
