"""Completions as JupyterLab receives them: `complete_request` to a real IPython kernel (jupyter_client).

The kernel gets the key and URL of the session's GravixLayer Local in its environment, as a user with
GRAVIXLAYER_API_KEY would, so model names come from the server without anything run first.
"""

from __future__ import annotations

import keyword
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from jupyter_client.manager import start_new_kernel

from gravixlayer.local import LocalServer
from gravixlayer_notebook._args import parser_for

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_MODEL = "qwen/qwen-2.5-vl-7b-instruct"


@pytest.fixture(scope="module")
def kernel(local_server: LocalServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    tmp = tmp_path_factory.mktemp("kernel")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRAVIXLAYER_")}
    env.update(
        GRAVIXLAYER_API_KEY=local_server.api_key, GRAVIXLAYER_BASE_URL=local_server.base_url,
        GRAVIXLAYER_NOTEBOOK_MODEL=DEFAULT_MODEL, IPYTHONDIR=str(tmp / "ipython"),
        PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p),
    )  # fmt: skip
    km, kc = start_new_kernel(kernel_name="python3", env=env)
    try:
        reply = kc.execute_interactive("%load_ext gravixlayer_notebook", timeout=60)
        assert reply["content"]["status"] == "ok"
        yield kc
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def complete(kc: Any, code: str, cursor: int | None = None) -> tuple[list[str], str]:
    """The matches and the text they replace, exactly as the kernel answers the front end."""
    cursor = len(code) if cursor is None else cursor
    msg_id = kc.complete(code, cursor)
    reply = kc.get_shell_msg(timeout=30)
    assert reply["parent_header"]["msg_id"] == msg_id
    content = reply["content"]
    return content["matches"], code[content["cursor_start"] : content["cursor_end"]]


def test_after_the_cell_magic_only_subcommands_cell_ones_first(kernel: Any) -> None:
    matches, replaced = complete(kernel, "%%gravix ")
    assert matches[:3] == ["chat", "complete", "embed"]
    assert set(matches) == {"chat", "complete", "embed", "explain", "models", "deployments", "hardware", "files",
                            "config", "history", "reset", "help"}  # fmt: skip
    assert replaced == ""
    assert complete(kernel, "%%gravix c") == (["chat", "complete", "config"], "c")


def test_the_line_magic_offers_only_subcommands_that_need_no_cell(kernel: Any) -> None:
    matches, _ = complete(kernel, "%gravix ")
    assert matches[:2] == ["explain", "models"] and "chat" not in matches and "help" in matches


def test_options_in_help_order_and_no_python_names(kernel: Any) -> None:
    matches, replaced = complete(kernel, "%%gravix chat --")
    long_options = [next(o for o in a.option_strings if o.startswith("--")) for a in parser_for("chat")._actions if a.option_strings]
    assert matches == long_options and replaced == "--"
    assert not any(m.lstrip("-") in keyword.kwlist or m.lstrip("-") in dir(__builtins__) for m in matches)
    used, _ = complete(kernel, "%%gravix chat --new --no-history --")
    assert "--new" not in used and "--no-history" not in used and "--system" in used


def test_models_from_the_server_default_first_then_options(kernel: Any, local_server: LocalServer) -> None:
    matches, replaced = complete(kernel, "%%gravix chat ")
    assert matches[0] == DEFAULT_MODEL
    models = [m for m in matches if not m.startswith("-")]
    assert "meta-llama/llama-3.1-8b-instruct" in models and "baai/bge-small-en-v1.5" not in models
    assert matches[len(models)] == "--system" and all(m.startswith("--") for m in matches[len(models) :])
    served = {str(m["id"]) for m in httpx.get(f"{local_server.base_url}/v1/inference/models", headers={"Authorization": f"Bearer {local_server.api_key}"}).json()["data"] if m.get("type") == "chat"}
    assert set(models) == served
    assert keyword.kwlist[0] not in matches and "print" not in matches
    # a model id contains '/': the whole typed id is replaced, not the part after the slash
    assert complete(kernel, "%%gravix chat qwen/qw") == ([DEFAULT_MODEL], "qwen/qw")
    embed, _ = complete(kernel, "%%gravix embed baai/")
    assert embed and all(m.startswith("baai/") for m in embed)


def test_formats_after_dash_f(kernel: Any) -> None:
    assert complete(kernel, "%%gravix chat -f ") == (["markdown", "text", "code", "json"], "")
    assert complete(kernel, "%%gravix chat --format j") == (["json"], "j")


def test_completion_on_the_cell_body_is_python_again(kernel: Any) -> None:
    code = "%%gravix chat\nprin"
    matches, _ = complete(kernel, code)
    assert "print" in matches  # our matcher only answers on the magic's own line
    matches, _ = complete(kernel, "x = 1\nprin")
    assert "print" in matches
