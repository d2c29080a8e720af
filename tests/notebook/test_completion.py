"""Tab completion of subcommands, options, formats and model names."""

from __future__ import annotations

from types import SimpleNamespace

from IPython.core.interactiveshell import InteractiveShell

from gravixlayer_notebook._completer import candidates, complete
from gravixlayer_notebook._magics import GravixMagics


def test_subcommands(magics: GravixMagics) -> None:
    assert candidates(magics, "%gravix ") [:3] == ["chat", "complete", "embed"]
    assert candidates(magics, "%%gravix c") == ["chat", "complete", "config"]
    assert candidates(magics, "%gravix hi") == ["history"]
    assert sorted(candidates(magics, "%gravix help h")) == ["hardware", "help", "history"]


def test_options_and_formats(magics: GravixMagics) -> None:
    assert candidates(magics, "%%gravix chat --max") == ["--max-tokens"]
    assert "--api-key-env" in candidates(magics, "%gravix config --")
    assert candidates(magics, "%%gravix chat -f ") == ["markdown", "text", "code", "json"]
    assert candidates(magics, "%%gravix chat --format j") == ["json"]


def test_model_names_by_kind(magics: GravixMagics) -> None:
    chat_models = candidates(magics, "%%gravix chat ")
    assert chat_models[0] == magics.default_model
    assert "qwen/qwen-2.5-vl-7b-instruct" in chat_models and "baai/bge-small-en-v1.5" not in chat_models
    embed_models = candidates(magics, "%%gravix embed baai")
    assert "baai/bge-small-en-v1.5" in embed_models and all(m.startswith("baai") for m in embed_models)
    assert candidates(magics, "%%gravix chat test-model ") == []  # the model is already given


def test_completion_without_a_client_never_starts_one(fresh_provider: object) -> None:
    m = GravixMagics(shell=None, provider=fresh_provider)  # type: ignore[arg-type]
    assert candidates(m, "%%gravix chat ") == [m.default_model]
    assert fresh_provider.source is None  # type: ignore[attr-defined]


def test_the_hook_is_what_ipython_calls(ip: InteractiveShell, magics: GravixMagics) -> None:
    event = SimpleNamespace(line="%gravix mo", text_until_cursor="%gravix mo", symbol="mo", command="%gravix")
    assert complete(ip, event) == ["models"]
    line = "%gravix mo"
    assert "models" in [c.text for c in ip.Completer.completions(line, len(line))]
