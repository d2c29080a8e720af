"""Which catalogue model answers a requested id: catalogue, deployment, aliases, any-model, 404."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from gravixlayer import GravixLayerBadRequestError, GravixLayerNotFoundError
from gravixlayer.local import LocalServer, standin
from gravixlayer.local.__main__ import build_parser, main
from gravixlayer.local._config import LocalConfig
from gravixlayer.local.errors import LocalAPIError
from gravixlayer.local.model_resolution import DEFAULT_ALIASES, parse_alias, resolve

MESSAGES = [{"role": "user", "content": "hello"}]


def config(tmp_path: Path, **options: Any) -> LocalConfig:
    return LocalConfig(api_keys=["k"], data_dir=tmp_path, **options)


def test_catalogue_ids_in_any_case_and_default_aliases(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    assert resolve("Qwen/Qwen-2.5-VL-7B-Instruct", cfg).model == "qwen/qwen-2.5-vl-7b-instruct"
    assert resolve("llama3.1:8b", cfg) == resolve("LLAMA3.1:8B", cfg)
    assert resolve("llama3.1:8b", cfg).model == "meta-llama/llama-3.1-8b-instruct"
    assert resolve("meta-llama/Llama-3.2-3B-Instruct", cfg).via == "alias"
    for target in DEFAULT_ALIASES.values():  # every built-in target is served by the catalogue
        assert standin.resolve_chat_model(target) == target


def test_operator_aliases_win_and_must_name_catalogue_models(tmp_path: Path) -> None:
    cfg = config(tmp_path, model_aliases={"llama3.1:8b": "openai/gpt-4o-mini", "My-Bot": "test-model"})
    assert resolve("llama3.1:8b", cfg).model == "openai/gpt-4o-mini"
    assert resolve("my-bot", cfg).model == "test-model"
    with pytest.raises(ValueError, match="not a catalogue model"):
        config(tmp_path, model_aliases={"x": "no/such-model"})
    assert parse_alias(" a = b ") == ("a", "b")
    for bad in ("a", "=b", "a="):
        with pytest.raises(ValueError, match="NAME=TARGET"):
            parse_alias(bad)


def test_unknown_ids_are_404_naming_the_options_unless_any_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(LocalAPIError) as caught:
        resolve("my-finetune:latest", config(tmp_path))
    assert caught.value.status == 404
    assert "--model-alias NAME=TARGET" in str(caught.value) and "--any-model" in str(caught.value)
    assert resolve("my-finetune:latest", config(tmp_path, any_model=True)).via == "any-model"
    monkeypatch.setenv("GRAVIXLAYER_LOCAL_ANY_MODEL", "1")
    assert config(tmp_path).any_model


def test_command_line_options(capsys: pytest.CaptureFixture[str]) -> None:
    args = build_parser().parse_args(["--model-alias", "a=test-model", "--model-alias", "b=test-model", "--any-model"])
    assert args.model_aliases == ["a=test-model", "b=test-model"] and args.any_model is True
    assert build_parser().parse_args(["--strict-models"]).any_model is False
    assert build_parser().parse_args([]).any_model is None
    with pytest.raises(SystemExit):
        main(["--model-alias", "no-equals-sign"])
    assert "NAME=TARGET" in capsys.readouterr().err
    assert main(["--port", "0", "--model-alias", "x=no/such-model", "--api-key", "k"]) == 2
    assert "not a catalogue model" in capsys.readouterr().err


def test_served_over_http_with_aliases_and_strictness() -> None:
    with LocalServer(model_aliases={"house-model": "test-model"}, chat_engine="standin") as strict:
        chat = strict.client.chat.completions.create(model="house-model", messages=MESSAGES)
        assert chat.model == "test-model"
        assert strict.client.completions.create(model="llama3.1:8b", prompt="hi").model == (
            "meta-llama/llama-3.1-8b-instruct"
        )
        with pytest.raises(GravixLayerNotFoundError, match="--model-alias"):
            strict.client.chat.completions.create(model="gpt-5-turbo-ultra", messages=MESSAGES)
    with LocalServer(any_model=True, chat_engine="standin") as lenient:
        answer = lenient.client.chat.completions.create(model="gpt-5-turbo-ultra", messages=MESSAGES)
        assert answer.model == standin.CHAT_MODELS[0] and answer.choices[0].message.content


def test_deployments_not_yet_running_are_409() -> None:
    with LocalServer(deployment_ready_delay=600) as server:
        client = server.client
        made = client.deployments.create(
            deployment_name="slow-one", model_name="qwen/qwen-2.5-vl-7b-instruct", gpu_model="NVIDIA_T4_16GB"
        )
        with pytest.raises(GravixLayerBadRequestError, match="still creating") as caught:
            client.chat.completions.create(model="slow-one", messages=MESSAGES)
        assert caught.value.status_code == 409
        # Another key's deployments are not models of this key.
        other = httpx.post(
            f"{server.base_url}/v1/inference/chat/completions",
            headers={"Authorization": "Bearer nobody"},
            json={"model": made.deployment_id, "messages": MESSAGES},
        )
        assert other.status_code == 401
