"""``%%gravix chat`` in a notebook answers with the real local model."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from IPython.core.interactiveshell import InteractiveShell

from gravixlayer.local import LocalServer
from gravixlayer_notebook._client import default_provider
from gravixlayer_notebook._magics import GravixMagics
from gravixlayer_notebook._results import ChatResult

from .conftest import CHAT_MODEL


@pytest.fixture
def magics(llm_server: LocalServer) -> Iterator[InteractiveShell]:
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "gravixlayer_notebook")
    m: GravixMagics = shell.magics_manager.registry["GravixMagics"]
    provider = default_provider()
    provider.set_client(llm_server.client, kind="local")
    saved = m.provider
    m.provider = provider
    m.history.clear()
    yield shell
    m.history.clear()
    m.provider = saved
    provider.reset()


def test_gravix_chat_answers_the_capital_of_france(magics: InteractiveShell) -> None:
    result = magics.run_cell_magic(
        "gravix", f"chat {CHAT_MODEL} --max-tokens 12", "What is the capital of France?"
    )
    assert isinstance(result, ChatResult)
    assert "Paris" in result.text
