"""The client comes from one place: explicit config, else GRAVIXLAYER_API_KEY, else embedded Local."""

from __future__ import annotations

import pytest

from gravixlayer.local import LocalServer
from gravixlayer_notebook._client import LOCAL_NOTICE, ClientProvider


@pytest.fixture
def notices() -> list[str]:
    return []


def test_explicit_key_env_wins_over_the_environment(local_server: LocalServer, monkeypatch: pytest.MonkeyPatch, notices: list[str]) -> None:
    monkeypatch.setenv("GRAVIXLAYER_API_KEY", "the-wrong-key")
    monkeypatch.setenv("MY_TEAM_KEY", local_server.api_key)
    provider = ClientProvider(notify=notices.append)
    provider.configure(key_env="MY_TEAM_KEY", base_url=local_server.base_url + "/v1/inference")
    client = provider.get()
    assert provider.source is not None and provider.source.kind == "config"
    assert client.base_url == local_server.base_url and client.api_key == local_server.api_key
    assert client.chat.completions.create(model="test-model", messages=[{"role": "user", "content": "hi"}], max_tokens=5).text
    assert local_server.api_key not in provider.source.describe() and "$MY_TEAM_KEY" in provider.source.describe()
    assert notices == []
    provider.reset()


def test_explicit_key_env_that_is_empty_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("UNSET_KEY_VAR", raising=False)
    provider = ClientProvider()
    provider.configure(key_env="UNSET_KEY_VAR")
    with pytest.raises(LookupError, match="UNSET_KEY_VAR: that environment variable is empty"):
        provider.get()
    with pytest.raises(ValueError, match="NAME of an environment variable"):
        provider.configure(key_env="sk-123 456")


def test_environment_key_is_second(local_server: LocalServer, monkeypatch: pytest.MonkeyPatch, notices: list[str]) -> None:
    monkeypatch.setenv("GRAVIXLAYER_API_KEY", local_server.api_key)
    monkeypatch.setenv("GRAVIXLAYER_BASE_URL", local_server.base_url)
    provider = ClientProvider(notify=notices.append)
    provider.get()
    assert provider.source is not None and provider.source.kind == "env" and provider.source.key_env == "GRAVIXLAYER_API_KEY"
    assert notices == []
    provider.reset()


def test_embedded_local_is_last_started_once_with_a_notice(monkeypatch: pytest.MonkeyPatch, notices: list[str]) -> None:
    monkeypatch.delenv("GRAVIXLAYER_API_KEY", raising=False)
    provider = ClientProvider(notify=notices.append)
    client = provider.get()
    assert provider.get() is client
    assert provider.source is not None and provider.source.kind == "local"
    assert notices == [LOCAL_NOTICE] and "\n" not in LOCAL_NOTICE
    assert client.chat.completions.create(model="test-model", messages=[{"role": "user", "content": "hi"}], max_tokens=5).text
    other = ClientProvider(notify=notices.append)
    assert other.get().base_url == client.base_url  # one embedded server per kernel


def test_local_can_be_forced_even_with_a_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRAVIXLAYER_API_KEY", "some-cloud-key")
    provider = ClientProvider()
    provider.configure(local=True)
    provider.get()
    assert provider.source is not None and provider.source.kind == "local"


def test_percent_gravix_config_switches_the_source(ip: object, magics: object, local_server: LocalServer, monkeypatch: pytest.MonkeyPatch) -> None:
    from IPython.core.interactiveshell import InteractiveShell

    assert isinstance(ip, InteractiveShell)
    monkeypatch.setenv("LAB_KEY", local_server.api_key)
    table = ip.run_line_magic("gravix", f"config --api-key-env LAB_KEY --base-url {local_server.base_url} --model test-model")
    assert "$LAB_KEY (used on first call)" in repr(table)
    result = ip.run_cell_magic("gravix", "chat --no-stream", "hello")
    assert result.model == "test-model"
    assert "with the key from $LAB_KEY" in repr(ip.run_line_magic("gravix", "config"))
    assert local_server.api_key not in repr(ip.run_line_magic("gravix", "config"))
    assert "started on first call" in repr(ip.run_line_magic("gravix", "config --reset --local"))


def test_percent_gravix_config_applies_all_options_or_none(ip: object, magics: object, local_server: LocalServer, monkeypatch: pytest.MonkeyPatch) -> None:
    from IPython.core.error import UsageError
    from IPython.core.interactiveshell import InteractiveShell

    assert isinstance(ip, InteractiveShell)
    monkeypatch.setenv("LAB_KEY", local_server.api_key)
    ip.user_ns.update(url=local_server.base_url, key_name="LAB_KEY")
    before = repr(ip.run_line_magic("gravix", "config --api-key-env $key_name --base-url {url} --model test-model"))
    assert f"{local_server.base_url} with the key from $LAB_KEY" in before and "test-model" in before
    mistakes = [
        ("config --api-key-env LAB_KEY --base-url not-a-url --model second-model", "base_url must start with http"),
        ("config --api-key-env NOT_SET_ANYWHERE --model second-model", "NOT_SET_ANYWHERE is empty or not set"),
        ("config --reset --base-url ftp://x --model second-model", "base_url must start with http"),
        ("config --local --base-url {url}", "cannot be combined"),
    ]
    for line, why in mistakes:
        with pytest.raises(UsageError, match=why) as info:
            ip.run_line_magic("gravix", line)
        assert "nothing was changed" in str(info.value)
        assert repr(ip.run_line_magic("gravix", "config")) == before  # every earlier setting still in force
    assert ip.run_cell_magic("gravix", "chat --no-stream --no-history", "hello").model == "test-model"
