"""Tab completion of subcommands, options, formats and model names (the candidates; the kernel's answer
is tested in test_completion_in_kernel.py)."""

from __future__ import annotations

import warnings

import pytest
from IPython.core.interactiveshell import InteractiveShell

from gravixlayer_notebook._completer import MATCHER_ID, candidates
from gravixlayer_notebook._magics import GravixMagics


def test_subcommands(magics: GravixMagics) -> None:
    assert candidates(magics, "%%gravix ")[:3] == ["chat", "complete", "embed"]
    assert candidates(magics, "%%gravix c") == ["chat", "complete", "config"]
    assert candidates(magics, "%gravix c") == ["config"]  # chat/complete need a cell
    assert candidates(magics, "%gravix hi") == ["history"]
    assert sorted(candidates(magics, "%gravix help h")) == ["hardware", "help", "history"]
    assert candidates(magics, "%gravix nosuch ") == []


def test_options_and_formats(magics: GravixMagics) -> None:
    assert candidates(magics, "%%gravix chat --max") == ["--max-tokens"]
    assert candidates(magics, "%gravix config --")[:2] == ["--api-key-env", "--base-url"]
    assert candidates(magics, "%%gravix chat -f ") == ["markdown", "text", "code", "json"]
    assert candidates(magics, "%%gravix chat --format j") == ["json"]
    assert candidates(magics, "%%gravix chat --system ") == []  # a free value: nothing to offer
    assert candidates(magics, "%%gravix chat -o ") == []


def test_model_names_by_kind(magics: GravixMagics) -> None:
    chat_models = [c for c in candidates(magics, "%%gravix chat ") if not c.startswith("-")]
    assert chat_models[0] == magics.default_model
    assert "qwen/qwen-2.5-vl-7b-instruct" in chat_models and "baai/bge-small-en-v1.5" not in chat_models
    embed_models = candidates(magics, "%%gravix embed baai")
    assert "baai/bge-small-en-v1.5" in embed_models and all(m.startswith("baai") for m in embed_models)
    assert all(c.startswith("--") for c in candidates(magics, "%%gravix chat test-model "))  # model given
    assert all(c.startswith("--") for c in candidates(magics, "%%gravix chat -t 0.2 test-model "))
    assert candidates(magics, "%%gravix chat -t 0.2 ")[0] == magics.default_model  # 0.2 is a value, not a model
    assert candidates(magics, "%gravix config --model qwen/") == ["qwen/qwen-2.5-vl-7b-instruct"]


def test_completion_without_a_client_never_starts_one(fresh_provider: object, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GRAVIXLAYER_API_KEY", raising=False)
    m = GravixMagics(shell=None, provider=fresh_provider)  # type: ignore[arg-type]
    assert [c for c in candidates(m, "%%gravix chat ") if not c.startswith("-")] == [m.default_model]
    assert fresh_provider.source is None  # type: ignore[attr-defined]


def _completions(ip: InteractiveShell, code: str) -> list[str]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [c.text for c in ip.Completer.completions(code, len(code))]


def test_the_matcher_answers_alone_on_its_line_and_steps_aside_elsewhere(ip: InteractiveShell, magics: GravixMagics) -> None:
    assert _completions(ip, "%gravix mo") == ["models"]
    assert _completions(ip, "%%gravix chat --no-s") == ["--no-stream"]
    assert "print" in _completions(ip, "%%gravix chat\nprin")  # the cell body is Python's again
    assert [getattr(m, "matcher_identifier", None) for m in ip.Completer.custom_matchers].count(MATCHER_ID) == 1
    ip.run_line_magic("reload_ext", "gravixlayer_notebook")
    assert [getattr(m, "matcher_identifier", None) for m in ip.Completer.custom_matchers].count(MATCHER_ID) == 1


def test_explain_completes_models_then_its_options(magics: GravixMagics) -> None:
    found = candidates(magics, "%gravix explain ")
    assert found[0] == magics.default_model and "--cell" in found and "--system" not in found
