"""The widgets' behaviour through their traits and buttons, against GravixLayer Local (no browser)."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import pytest

from gravixlayer import GravixLayer
from gravixlayer.local import LocalServer
from gravixlayer_notebook.widgets import DeploymentsBrowser, HardwareExplorer
from gravixlayer_notebook.widgets.hardware import estimate_cost

from .conftest import scripted_client

MODEL = "qwen/qwen-2.5-vl-7b-instruct"


def _deploy(client: GravixLayer, name: str, gpu: str = "NVIDIA_T4_16GB") -> Any:
    return client.deployments.create(deployment_name=name, model_name=MODEL, gpu_model=gpu)


@pytest.fixture
def deployments(client: GravixLayer) -> Any:
    made = [_deploy(client, f"wid-{tag}-{uuid.uuid4().hex[:4]}", gpu) for tag, gpu in (("alpha", "NVIDIA_T4_16GB"), ("beta", "NVIDIA_L4_24GB"))]
    yield made
    for d in made:
        try:
            client.deployments.delete(d.deployment_id)
        except Exception:
            pass


def test_deployments_browser_lists_filters_and_shows_details(client: GravixLayer, deployments: list[Any]) -> None:
    b = DeploymentsBrowser(client=client)
    names = {r["name"] for r in b.rows}
    assert {d.deployment_name for d in deployments} <= names
    b.filter_text = "L4"
    assert [r["name"] for r in b.visible_rows] == [deployments[1].deployment_name]
    assert deployments[1].deployment_name in b._table.value and deployments[0].deployment_name not in b._table.value
    b._filter.value = ""  # the text box is linked to the trait
    assert len(b.visible_rows) == len(b.rows)
    b._picker.value = deployments[0].deployment_id  # choosing in the dropdown selects
    assert b.selected == deployments[0].deployment_id and deployments[0].deployment_name in b._detail.value
    with pytest.raises(ValueError):
        b.select("no-such-id")


def test_refresh_button_picks_up_new_deployments(client: GravixLayer, deployments: list[Any]) -> None:
    b = DeploymentsBrowser(client=client)
    before = len(b.rows)
    extra = _deploy(client, f"wid-new-{uuid.uuid4().hex[:4]}")
    try:
        b._refresh_button.click()
        assert len(b.rows) == before + 1 and extra.deployment_name in b._table.value
    finally:
        client.deployments.delete(extra.deployment_id)


def test_delete_needs_confirmation_and_cancel_keeps_it(client: GravixLayer, deployments: list[Any]) -> None:
    b = DeploymentsBrowser(client=client)
    target = deployments[0].deployment_id
    b._delete_button.click()
    assert b.pending_delete == "" and b.error == "select a deployment first"
    b.select(target)
    b._delete_button.click()
    assert b.pending_delete == target and b._confirm_box.layout.display == "flex"
    assert target in {d.deployment_id for d in client.deployments.list()}  # nothing deleted yet
    b._cancel_button.click()
    assert b.pending_delete == "" and b._confirm_box.layout.display == "none"
    assert target in {d.deployment_id for d in client.deployments.list()}
    b.request_delete()
    b._confirm_button.click()
    assert target not in {d.deployment_id for d in client.deployments.list()}
    assert target not in {r["id"] for r in b.rows} and b.selected == "" and "deleted" in b.message


def test_auto_refresh_runs_only_while_a_deployment_is_creating() -> None:
    statuses = iter(["creating", "creating", "running"])
    calls: list[str] = []

    def handler(req: httpx.Request, body: dict[str, Any]) -> httpx.Response:
        status = next(statuses, "running")
        calls.append(status)
        return httpx.Response(200, json=[{"deployment_id": "d1", "deployment_name": "one", "status": status,
                                          "created_at": "2025-01-01T00:00:00Z", "gpu_model": "NVIDIA_T4_16GB"}])  # fmt: skip

    b = DeploymentsBrowser(client=scripted_client(handler), refresh_interval=0.05)
    assert b.auto_refreshing and b.rows[0]["status"] == "creating"
    deadline = time.monotonic() + 10
    while b.auto_refreshing and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not b.auto_refreshing and b.rows[0]["status"] == "running"
    assert calls == ["creating", "creating", "running"]
    time.sleep(0.2)
    assert len(calls) == 3  # the timer stopped


def test_errors_show_in_the_status_line_without_the_key() -> None:
    secret = "sk-widget-secret-123456"
    client = scripted_client(lambda req, body: httpx.Response(500, json={"error": f"boom {req.headers['authorization']}"}), api_key=secret)
    b = DeploymentsBrowser(client=client)
    assert b.error.startswith("refresh failed: GravixLayerServerError") and secret not in b.error
    assert secret not in b._status.value


def test_hardware_explorer_sorts_filters_and_estimates(client: GravixLayer) -> None:
    hw = HardwareExplorer(client=client)
    catalogue = list(client.accelerators.list())
    assert len(hw.rows) == len(catalogue) > 3
    prices = [r["pricing"] for r in hw.visible_rows]
    assert prices == sorted(prices)  # cheapest first by default
    hw._sort.value = "memory"
    hw._desc.value = True
    mems = [r["memory_gb"] for r in hw.visible_rows]
    assert mems == sorted(mems, reverse=True) and hw.sort_by == "memory" and hw.descending
    hw.min_memory = 40
    hw.max_price = 3.0
    assert hw.visible_rows and all(r["memory_gb"] >= 40 and r["pricing"] <= 3.0 for r in hw.visible_rows)
    assert hw._table.value.count("<tr>") == len(hw.visible_rows) + 1
    assert hw.chart_svg().count("<rect") == len(hw.visible_rows)
    gpu = catalogue[0]
    hw.gpu = gpu.gpu_model
    hw._count.value = 4
    hw._replicas.value = 2
    hw._hours.value = 10
    assert hw.estimate == pytest.approx(gpu.pricing * 4 * 2 * 10)
    assert f"${hw.estimate:,.2f}" in hw._total.value


def test_estimate_cost() -> None:
    assert estimate_cost(1.5, 2, 3, 4) == 36.0
    assert estimate_cost(0.39, 1, 1, 0) == 0


def test_widgets_degrade_to_plain_tables(client: GravixLayer, deployments: list[Any]) -> None:
    b = DeploymentsBrowser(client=client)
    bundle = b._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    text = bundle["text/plain"]
    assert text.splitlines()[0] == "DeploymentsBrowser" and "status" in text.splitlines()[1]
    assert deployments[0].deployment_name in text and repr(b) == text
    hw = HardwareExplorer(client=client)
    assert "pricing" in repr(hw) and repr(hw).count("\n") == len(hw.rows) + 2


def test_widgets_default_to_the_notebook_client(magics: Any, local_server: LocalServer) -> None:
    hw = HardwareExplorer()
    assert hw.client is local_server.client and hw.rows


@pytest.fixture
def sandbox(client: GravixLayer) -> Any:
    sb = client.sandbox.sandboxes.create(provider="gravix", region="eu-west-1", template="python-base-v1")
    sb.filesystem.write("/home/user/project/readme.txt", "hello from the sandbox\n")
    sb.filesystem.write("/home/user/top.txt", "top\n")
    yield sb
    sb.kill()


def test_sandbox_file_browser_navigates_previews_and_changes_files(client: GravixLayer, sandbox: Any) -> None:
    from gravixlayer_notebook.widgets import SandboxFileBrowser

    b = SandboxFileBrowser(sandbox, client=client)
    assert b.path == "/home/user" and [e["name"] for e in b.entries] == ["project", "top.txt"]  # folders first
    assert "project/" in repr(b) and "folder" in repr(b)
    folder_button = b._list.children[0].children[0]
    folder_button.click()  # clicking a folder opens it
    assert b.path == "/home/user/project" and [e["name"] for e in b.entries] == ["readme.txt"]
    b._list.children[0].children[0].click()  # clicking a file previews it
    assert b.selected == "/home/user/project/readme.txt" and b.preview == "hello from the sandbox\n"
    assert "hello from the sandbox" in b._preview.value
    b.upload("data.bin", b"\x00\x01\x02")
    assert "data.bin" in [e["name"] for e in b.entries] and sandbox.filesystem.read_bytes("project/data.bin") == b"\x00\x01\x02"
    b.select("data.bin")
    assert b.preview == "(binary file, 3 bytes)"
    assert b.prepare_download() == b"\x00\x01\x02" and b.download_name == "data.bin" and "base64," in b._link.value
    b._folder_name.value = "results"
    b._mkdir_button.click()
    assert "results" in [e["name"] for e in b.entries if e["is_dir"]]
    b.request_delete("data.bin")
    assert b._confirm_box.layout.display == "flex" and "data.bin" in sandbox.filesystem.list("project").names()
    b.cancel_delete()
    assert "data.bin" in sandbox.filesystem.list("project").names()
    b.request_delete("data.bin")
    b.confirm_delete()
    assert "data.bin" not in sandbox.filesystem.list("project").names() and "data.bin" not in [e["name"] for e in b.entries]
    b._up_button.click()
    assert b.path == "/home/user"
    b.open_folder("/no/such/folder")
    assert b.error.startswith("open /no/such/folder failed") and b.path == "/home/user"


def test_sandbox_file_browser_says_how_local_isolates_the_sandbox(client: GravixLayer, sandbox: Any) -> None:
    from gravixlayer_notebook.widgets import SandboxFileBrowser

    assert sandbox.isolation  # GravixLayer Local always reports its mode
    for given in (sandbox, sandbox.sandbox_id):  # the object, or only its id (then asked for)
        b = SandboxFileBrowser(given, client=client)
        assert b.isolation == sandbox.isolation
        assert f"isolation: <b>{sandbox.isolation}</b>" in b._isolation.value
    assert "1 folder, 1 file" in b.message


# -- chat widget -------------------------------------------------------------------------------------------


def test_chat_widget_streams_into_the_transcript_and_shares_the_magics_history(ip: Any, magics: Any) -> None:
    from gravixlayer_notebook.widgets import ChatWidget

    magics.default_model = MODEL
    chat = ChatWidget()  # the notebook's client, model and conversation
    assert chat.model == MODEL and MODEL in chat._picker.options and "baai/bge-small-en-v1.5" not in chat._picker.options
    seen: list[str] = []
    chat.observe(lambda change: seen.append(change["new"][-1]["content"] if change["new"] else ""), names="messages")
    chat.draft = "Hello from the widget"
    answer = chat.send()
    assert answer and chat.messages[-2:] == [
        {"role": "user", "content": "Hello from the widget"}, {"role": "assistant", "content": answer},
    ]  # fmt: skip
    assert "" in seen and answer in seen  # an empty answer first, then it grew: streamed
    assert chat.draft == "" and not chat.streaming and not chat._send_button.disabled
    assert chat.last_result["usage"]["total_tokens"] > 0 and chat.last_result["request_id"]
    assert "Hello from the widget" in chat._transcript.value
    history = ip.run_line_magic("gravix", "history")
    assert list(history["role"]) == ["user", "assistant"] and history["content"].iloc[0] == "Hello from the widget"
    ip.run_cell_magic("gravix", "chat --no-stream", "And a follow-up")
    assert len(ChatWidget().messages) == 4  # a new widget shows the whole shared conversation
    chat.clear()
    assert len(magics.history) == 0 and chat.messages == []


def test_chat_widget_reports_errors_in_its_status_line(magics: Any) -> None:
    from gravixlayer_notebook.widgets import ChatWidget

    chat = ChatWidget(model="no-such-model")
    assert chat.send("hi") == ""
    assert "GravixLayerNotFoundError" in chat.error and chat.messages == [] and len(magics.history) == 0
    assert chat.draft == "hi"  # the question waits in the box to be sent again
    assert chat.send("   ") == "" and chat.error == "write a message first"
