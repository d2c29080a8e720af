"""Program-shaped compatibility tests: each test replays a real program's calls, changed only by the
base URL and key (given as the programs read them: `GRAVIXLAYER_BASE_URL` / `GRAVIXLAYER_API_KEY`)."""

from __future__ import annotations

import pytest

from gravixlayer.local import LocalServer


@pytest.fixture
def program_env(local_server: LocalServer, monkeypatch: pytest.MonkeyPatch) -> LocalServer:
    """The environment a vendor program runs in: a key and a base URL, no cloud or region settings."""
    monkeypatch.setenv("GRAVIXLAYER_API_KEY", local_server.api_key)
    monkeypatch.setenv("GRAVIXLAYER_BASE_URL", local_server.base_url)
    for name in ("GRAVIXLAYER_CLOUD", "GRAVIXLAYER_REGION"):
        monkeypatch.delenv(name, raising=False)
    return local_server
