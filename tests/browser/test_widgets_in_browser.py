"""The widgets rendered by Voila in Debian's chromium, showing real data from GravixLayer Local and
reacting to clicks (refresh, sort, open a folder). Screenshots go to test-artifacts/."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from gravixlayer import GravixLayer
from gravixlayer.local import LocalServer

from .conftest import Voila

MODEL = "qwen/qwen-2.5-vl-7b-instruct"

SETUP = "import os\nfrom gravixlayer_notebook.widgets import DeploymentsBrowser, HardwareExplorer, SandboxFileBrowser"


def _write(root: Path, name: str, *cells: str) -> None:
    nb = new_notebook(cells=[new_code_cell(c) for c in cells])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, root / name)


@pytest.fixture(scope="module")
def voila(local_server: LocalServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Voila]:
    root = tmp_path_factory.mktemp("voila")
    _write(root, "deployments.ipynb", SETUP, "DeploymentsBrowser(refresh_interval=0.5)")
    _write(root, "hardware.ipynb", SETUP, "HardwareExplorer()")
    _write(root, "chat.ipynb", "%load_ext gravixlayer_notebook\nfrom gravixlayer_notebook.widgets import ChatWidget",
           f"ChatWidget(model={MODEL!r})")  # fmt: skip
    _write(root, "sandbox.ipynb", SETUP, "SandboxFileBrowser(os.environ['GRAVIX_TEST_SANDBOX'])")
    env = {"GRAVIXLAYER_API_KEY": local_server.api_key, "GRAVIXLAYER_BASE_URL": local_server.base_url}
    sandbox_id = _make_sandbox(local_server.client)
    if sandbox_id:
        env["GRAVIX_TEST_SANDBOX"] = sandbox_id
    server = Voila(root, env)
    server.sandbox_id = sandbox_id  # type: ignore[attr-defined]
    yield server
    server.stop()


def _make_sandbox(client: GravixLayer) -> str | None:
    try:
        sandbox = client.sandbox.sandboxes.create(provider="gravix", region="eu-west-1", template="python-base-v1")
    except Exception:
        return None
    fs = sandbox.filesystem
    fs.write("/home/user/project/readme.txt", "hello from the sandbox\n")
    fs.write("/home/user/project/src/main.py", "print('hi')\n")
    fs.write("/home/user/top.txt", "top level\n")
    return str(sandbox.sandbox_id)


def _table_names(page: Any, css: str) -> list[str]:
    return [c.strip() for c in page.locator(f"{css} tbody tr td:first-child").all_inner_texts()]


def test_deployments_browser_shows_local_data_and_refreshes(voila: Voila, page: Any, client: GravixLayer) -> None:
    first = client.deployments.create(deployment_name=f"br-{uuid.uuid4().hex[:6]}", model_name=MODEL, gpu_model="NVIDIA_T4_16GB")
    page.goto(voila.render("deployments.ipynb"))
    table = "table.gravix-deployments-table"
    page.wait_for_selector(f"{table} tbody tr")
    assert first.deployment_name in _table_names(page, table)
    second = client.deployments.create(deployment_name=f"br-{uuid.uuid4().hex[:6]}", model_name=MODEL, gpu_model="NVIDIA_L4_24GB")
    try:
        assert second.deployment_name not in _table_names(page, table)
        page.locator("button.gravix-refresh").click()
        page.wait_for_function(
            "([sel, name]) => [...document.querySelectorAll(sel + ' tbody tr td:first-child')].some(td => td.textContent.trim() === name)",
            arg=[table, second.deployment_name],
        )
        page.locator(".gravix-filter input").fill(second.deployment_name)
        page.wait_for_function("sel => document.querySelectorAll(sel + ' tbody tr').length === 1", arg=table)
        assert _table_names(page, table) == [second.deployment_name]
        assert "NVIDIA_L4_24GB" in page.locator(table).inner_text()
    finally:
        client.deployments.delete(first.deployment_id)
        client.deployments.delete(second.deployment_id)
    assert page.errors == []


def test_hardware_explorer_sorts_on_click_and_draws_the_price_chart(voila: Voila, page: Any, client: GravixLayer) -> None:
    catalogue = list(client.accelerators.list())
    page.goto(voila.render("hardware.ipynb"))
    table = "table.gravix-hardware-table"
    page.wait_for_selector(f"{table} tbody tr")
    names = _table_names(page, table)
    by_price = [a.name for a in sorted(catalogue, key=lambda a: (a.pricing, a.name))]
    assert names == by_price
    assert page.locator("svg.gravix-price-chart rect").count() == len(catalogue)
    page.select_option(".gravix-sort select", "memory")
    by_memory = [a.name for a in sorted(catalogue, key=lambda a: (float(a.gpu_memory), a.name))]
    assert by_memory != by_price
    page.wait_for_function(
        "([sel, want]) => JSON.stringify([...document.querySelectorAll(sel + ' tbody tr td:first-child')]"
        ".map(td => td.textContent.trim())) === JSON.stringify(want)",
        arg=[table, by_memory],
    )
    assert _table_names(page, table) == by_memory
    assert "$" in page.locator(".gravix-total").inner_text()
    assert page.errors == []


def test_sandbox_file_browser_opens_a_folder_on_click(voila: Voila, page: Any) -> None:
    if not getattr(voila, "sandbox_id", None):
        pytest.skip("GravixLayer Local in this tree does not serve sandboxes yet (POST /v1/agents/sandboxes failed)")
    page.goto(voila.render("sandbox.ipynb"))
    page.wait_for_selector("button.gravix-folder")
    assert page.locator(".gravix-path").inner_text().strip() == "/home/user"
    labels = page.locator(".gravix-entries button").all_inner_texts()
    assert any("project/" in t for t in labels) and any("top.txt" in t for t in labels)
    page.locator("button.gravix-folder", has_text="project/").click()
    page.wait_for_function("() => document.querySelector('.gravix-path').textContent.trim() === '/home/user/project'")
    page.wait_for_selector("button.gravix-file:has-text('readme.txt')")
    page.locator("button.gravix-file", has_text="readme.txt").click()
    page.wait_for_selector(".gravix-preview:has-text('hello from the sandbox')")
    assert page.errors == []


def test_chat_widget_sends_and_streams_an_answer_into_the_transcript(voila: Voila, page: Any) -> None:
    page.goto(voila.render("chat.ipynb"))
    page.wait_for_selector(".gravix-message textarea")
    assert page.locator(".gravix-model input").input_value() == MODEL
    page.locator(".gravix-message textarea").fill("Hello from the browser")
    page.locator("button.gravix-send").click()
    page.wait_for_selector(".gravix-transcript .gravix-user:has-text('Hello from the browser')")
    page.wait_for_function(
        "() => { const a = document.querySelector('.gravix-transcript .gravix-assistant');"
        " return a && a.textContent.trim().length > 0 && !document.querySelector('button.gravix-send').disabled; }"
    )
    assert page.locator(".gravix-message textarea").input_value() == ""
    assert "token" in page.locator(".gravix-status").inner_text()
    assert page.errors == []
