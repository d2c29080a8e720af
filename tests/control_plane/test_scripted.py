"""Scripted servers (httpx.MockTransport): answers without ids, odd list shapes, and faults around creates.

A create (file upload, deployment) must never be sent twice when the server may have acted on it.
"""

from __future__ import annotations

import email.utils
import io
import json
import time
from typing import Any

import httpx
import pytest

from gravixlayer import (
    AsyncGravixLayer,
    GravixLayer,
    GravixLayerConflictError,
    GravixLayerConnectionError,
    GravixLayerResponseValidationError,
    GravixLayerServerError,
    GravixLayerTimeoutError,
    GravixLayerValidationError,
)
from tests.core.scripted import Script, json_response

BASE = "https://api.example.test"
pytestmark = pytest.mark.usefixtures("no_retry_sleep")


def sync_client(script: Script) -> GravixLayer:
    return GravixLayer(api_key="k", base_url=BASE, http_client=script.sync_client())


def async_client(script: Script) -> AsyncGravixLayer:
    return AsyncGravixLayer(api_key="k", base_url=BASE, http_client=script.async_client())


def http_date(ts: float) -> str:
    return email.utils.formatdate(ts, usegmt=True)


def multipart_file(request: httpx.Request) -> bytes:
    """The content of the `file` part of a recorded multipart request."""
    body = request.content
    boundary = request.headers["content-type"].split("boundary=")[1].encode()
    for part in body.split(b"--" + boundary):
        if b'name="file"' in part.split(b"\r\n\r\n", 1)[0]:
            return part.split(b"\r\n\r\n", 1)[1][: -len(b"\r\n")]
    raise AssertionError("no file part")


def form_field(request: httpx.Request, name: str) -> str | None:
    body = request.content
    marker = f'name="{name}"\r\n\r\n'.encode()
    if marker not in body:
        return None
    return body.split(marker, 1)[1].split(b"\r\n", 1)[0].decode()


# -- files: the upload answer carries no id (spec §3.1) -----------------------------------------------


def vendor_upload_answer(request: httpx.Request) -> httpx.Response:
    name = "report.jsonl"
    return httpx.Response(
        201,
        json={"message": "File uploaded successfully", "file_name": name, "purpose": "batch"},
        headers={"date": http_date(SERVER_NOW)},
    )


SERVER_NOW = time.time() + 3600  # the server's clock runs an hour ahead of the client's


def listing(*files: dict[str, Any]) -> httpx.Response:
    return json_response(200, {"data": list(files)})


def file_obj(file_id: str, created: float, name: str = "report.jsonl", purpose: str = "batch", size: int = 5) -> dict[str, Any]:
    return {"id": file_id, "object": "file", "bytes": size, "created_at": int(created), "filename": name, "purpose": purpose}


def test_upload_without_id_finds_its_file_by_server_clock() -> None:
    script = Script(
        vendor_upload_answer,
        listing(
            file_obj("older-same-name", SERVER_NOW - 600),
            file_obj("other-purpose", SERVER_NOW, purpose="fine-tune"),
            file_obj("other-name", SERVER_NOW, name="x.jsonl"),
            file_obj("other-size", SERVER_NOW, size=6),
            file_obj("ours", SERVER_NOW),
        ),
    )
    with sync_client(script) as client:
        uploaded = client.files.create(b"12345", "batch", filename="report.jsonl")
    assert uploaded.id == "ours"
    assert (uploaded.filename, uploaded.bytes, uploaded.purpose) == ("report.jsonl", 5, "batch")
    assert uploaded.message == "File uploaded successfully" and uploaded.file_name == "report.jsonl"
    assert [r.method for r in script.requests] == ["POST", "GET"]


async def test_upload_without_id_async_and_not_found() -> None:
    script = Script(vendor_upload_answer, listing(file_obj("older", SERVER_NOW - 600)))
    async with async_client(script) as client:
        uploaded = await client.files.create(b"12345", "batch", filename="report.jsonl")
    assert uploaded.id is None, "never invent an id"
    assert uploaded.message == "File uploaded successfully"


def test_upload_answer_with_id_needs_no_listing() -> None:
    script = Script(json_response(200, {"id": "f1", "filename": "a", "bytes": 1, "purpose": "batch", "message": "ok"}))
    with sync_client(script) as client:
        assert client.files.create(b"1", "batch", filename="a").id == "f1"
    assert len(script.requests) == 1


def test_upload_form_fields_and_filename() -> None:
    script = Script(json_response(200, {"id": "f1"}))
    with sync_client(script) as client:
        client.files.create(io.BytesIO(b"abc"), "vision", filename="pic.png", expires_after=60)
    request = script.requests[0]
    assert request.url == f"{BASE}/v1/files"
    assert form_field(request, "purpose") == "vision" and form_field(request, "expires_after") == "60"
    assert b'filename="pic.png"' in request.content and multipart_file(request) == b"abc"
    assert request.headers["content-type"].startswith("multipart/form-data; boundary=")


# -- files: faults during an upload ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fault,error",
    [
        (httpx.ReadTimeout("slow"), GravixLayerTimeoutError),
        (httpx.ReadError("reset"), GravixLayerConnectionError),
        (httpx.RemoteProtocolError("closed"), GravixLayerConnectionError),
        (json_response(502, {"error": "bad gateway"}), GravixLayerServerError),
        (json_response(500, {"error": "boom"}), GravixLayerServerError),
        (json_response(504, {"error": "gateway timeout"}), GravixLayerServerError),
    ],
)
def test_upload_is_not_resent_when_the_server_may_have_stored_it(fault: Any, error: type[Exception]) -> None:
    script = Script(fault)  # a second request would fail the test ("unexpected extra request")
    with sync_client(script) as client, pytest.raises(error):
        client.files.create(b"data", "batch")
    assert len(script.requests) == 1


@pytest.mark.parametrize(
    "fault",
    [
        httpx.ConnectError("refused"),
        json_response(503, {"error": "unavailable"}, {"retry-after": "0"}),
        json_response(429, {"error": "slow down"}, {"retry-after": "0"}),
    ],
)
async def test_upload_is_resent_whole_when_the_server_did_not_act(fault: Any, tmp_path: Any) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(b"0123456789" * 1000)
    script = Script(fault, json_response(200, {"id": "f1"}))
    async with async_client(script) as client:
        uploaded = await client.files.create(path, "batch")
    assert uploaded.id == "f1"
    assert multipart_file(script.requests[-1]) == path.read_bytes()


def test_non_seekable_upload_cannot_be_resent_after_it_was_read() -> None:
    class Pipe(io.RawIOBase):
        def __init__(self) -> None:
            self.data = io.BytesIO(b"streamed")

        def readable(self) -> bool:
            return True

        def readinto(self, b: Any) -> int:
            chunk = self.data.read(len(b))
            b[: len(chunk)] = chunk
            return len(chunk)

    script = Script(json_response(503, {"error": "busy"}, {"retry-after": "0"}))
    with sync_client(script) as client, pytest.raises(GravixLayerValidationError, match="cannot seek"):
        client.files.create(io.BufferedReader(Pipe()), "batch")
    assert len(script.requests) == 1
    assert multipart_file(script.requests[0]) == b"streamed"
    assert "chunked" in script.requests[0].headers.get("transfer-encoding", "")


def test_nothing_is_sent_for_an_invalid_upload() -> None:
    script = Script()
    with sync_client(script) as client:
        with pytest.raises(GravixLayerValidationError):
            client.files.create(b"x", "not-a-purpose")
        with pytest.raises(GravixLayerValidationError):
            client.files.create(b"x", "batch", expires_after=-5)
    assert script.requests == []


def test_download_cut_short_leaves_no_file(tmp_path: Any) -> None:
    def short(request: httpx.Request) -> httpx.Response:
        def body() -> Any:
            yield b"a" * 1000
            raise httpx.ReadError("connection reset")

        return httpx.Response(200, headers={"content-length": "5000"}, content=body())

    script = Script(short)
    with sync_client(script) as client, pytest.raises(GravixLayerConnectionError):
        client.files.download("f1", tmp_path / "out.bin")
    assert list(tmp_path.iterdir()) == []
    assert script.requests[0].headers["accept"] != "text/event-stream"


def test_delete_answer_legacy_keys() -> None:
    script = Script(json_response(200, {"message": "file deleted", "id": "f9", "filename": "a.txt"}))
    with sync_client(script) as client:
        result = client.files.delete("f9")
    assert (result.message, result.file_id, result.file_name) == ("file deleted", "f9", "a.txt")
    assert script.requests[0].method == "DELETE" and script.requests[0].url == f"{BASE}/v1/files/f9"


def test_ids_are_escaped_in_paths() -> None:
    script = Script(json_response(200, {"id": "a/b"}))
    with sync_client(script) as client:
        client.files.retrieve("a/b?x")
    assert script.requests[0].url.raw_path == b"/v1/files/a%2Fb%3Fx"


# -- deployments --------------------------------------------------------------------------------------------


CONFLICT = json_response(409, {"code": "conflict", "error": "deployment 'web' already exists"})


def created(request: httpx.Request) -> httpx.Response:
    body = json.loads(request.content)
    return json_response(200, {"deployment_id": "d-" + body["deployment_name"], "status": "creating", "message": "ok"})


def posted_names(script: Script) -> list[str]:
    return [json.loads(r.content)["deployment_name"] for r in script.requests if r.method == "POST"]


def test_auto_retry_takes_a_new_name_only_after_a_conflict() -> None:
    script = Script(CONFLICT, created)
    with sync_client(script) as client:
        deployment = client.deployments.create("web", "m", "NVIDIA_T4_16GB", auto_retry=True)
    names = posted_names(script)
    assert names[0] == "web" and names[1].startswith("web-") and len(names[1]) == len("web-") + 8
    assert deployment.deployment_name == names[1], "the answer lacked the name; the accepted one is reported"
    assert deployment.deployment_id == "d-" + names[1]


def test_auto_retry_accepts_a_conflict_reported_as_400_already_exists() -> None:
    script = Script(json_response(400, {"code": "bad_request", "error": "Deployment name already exists"}), created)
    with sync_client(script) as client:
        client.deployments.create("web", "m", "g", auto_retry=True)
    assert len(posted_names(script)) == 2


def test_auto_retry_gives_up_after_five_names() -> None:
    script = Script(*[CONFLICT] * 5)
    with sync_client(script) as client, pytest.raises(GravixLayerConflictError):
        client.deployments.create("web", "m", "g", auto_retry=True)
    names = posted_names(script)
    assert len(names) == 5 and len(set(names)) == 5


def test_conflict_without_auto_retry_is_raised() -> None:
    script = Script(CONFLICT)
    with sync_client(script) as client, pytest.raises(GravixLayerConflictError) as info:
        client.deployments.create("web", "m", "g")
    assert info.value.code == "conflict" and "already exists" in str(info.value)
    assert len(script.requests) == 1


@pytest.mark.parametrize(
    "fault,error",
    [
        (httpx.ReadTimeout("slow"), GravixLayerTimeoutError),
        (httpx.ReadError("reset"), GravixLayerConnectionError),
        (json_response(502, {"error": "bad gateway"}), GravixLayerServerError),
        (json_response(500, {"error": "boom"}), GravixLayerServerError),
    ],
)
async def test_create_is_never_repeated_after_an_ambiguous_failure(fault: Any, error: type[Exception]) -> None:
    script = Script(fault)
    async with async_client(script) as client:
        with pytest.raises(error):
            await client.deployments.create("web", "m", "g", auto_retry=True)
    assert len(script.requests) == 1


def test_create_is_repeated_with_the_same_name_when_the_server_did_not_act() -> None:
    script = Script(
        httpx.ConnectError("refused"), json_response(503, {"error": "busy"}, {"retry-after": "0"}), created
    )
    with sync_client(script) as client:
        deployment = client.deployments.create("web", "m", "g", auto_retry=True)
    assert posted_names(script) == ["web", "web", "web"], "the refused attempts never reached a server"
    assert deployment.deployment_name == "web"


def test_deployment_request_body() -> None:
    script = Script(created)
    with sync_client(script) as client:
        client.deployments.create(
            deployment_name="my-custom-model", model_name="qwen/qwen-2.5-vl-7b-instruct", gpu_model="NVIDIA_T4_16GB",
            gpu_count=2, min_replicas=1, max_replicas=3,
        )  # fmt: skip
    request = script.requests[0]
    assert request.url == f"{BASE}/v1/deployments/create"
    assert json.loads(request.content) == {
        "deployment_name": "my-custom-model", "hw_type": "dedicated", "gpu_model": "NVIDIA_T4_16GB", "gpu_count": 2,
        "min_replicas": 1, "max_replicas": 3, "model_name": "qwen/qwen-2.5-vl-7b-instruct",
    }  # fmt: skip


DEP = {"deployment_id": "d1", "deployment_name": "web", "status": "running", "created_at": "2025-01-01T00:00:00Z"}


@pytest.mark.parametrize("body", [[DEP], {"deployments": [DEP]}, {"data": [DEP]}])
def test_deployment_list_shapes(body: Any) -> None:
    script = Script(json_response(200, body))
    with sync_client(script) as client:
        deployments = client.deployments.list()
    assert [d.deployment_id for d in deployments] == ["d1"]


@pytest.mark.parametrize("body", [{}, {"deployments": None}, []])
async def test_empty_deployment_list_shapes(body: Any) -> None:
    script = Script(json_response(200, body))
    async with async_client(script) as client:
        assert len(await client.deployments.list()) == 0


@pytest.mark.parametrize("body", [{"unexpected": 1}, "text", 5])
def test_unreadable_list_is_a_typed_error(body: Any) -> None:
    script = Script(json_response(200, body))
    with sync_client(script) as client, pytest.raises(GravixLayerResponseValidationError):
        client.deployments.list()


def test_delete_by_name_resolves_the_id_first() -> None:
    script = Script(json_response(200, [DEP]), json_response(200, {"message": "deleted"}))
    with sync_client(script) as client:
        result = client.deployments.delete("web")
    assert result.message == "deleted"
    assert script.requests[1].method == "DELETE" and script.requests[1].url.path == "/v1/deployments/delete/d1"


def test_get_prefers_an_id_match_over_a_name_match() -> None:
    other = {**DEP, "deployment_id": "web", "deployment_name": "other"}
    script = Script(json_response(200, [DEP, other]))
    with sync_client(script) as client:
        assert client.deployments.get("web").deployment_name == "other"


# -- accelerators --------------------------------------------------------------------------------------------

OLD_FAMILY = {
    "accelerator_id": "a1", "pricing": 0.5, "hw_model": "NVIDIA_T4_16GB", "hw_link": "PCIe", "hw_memory": "16GB",
    "provider": "NVIDIA", "status": "available", "updated_at": "2025-01-01",
}  # fmt: skip
NEW_FAMILY = {"gpu_id": "g1", "pricing": "2.5", "gpu_model": "NVIDIA_A100_80GB", "gpu_link": "SXM4", "gpu_memory": 80}


@pytest.mark.parametrize("body", [[OLD_FAMILY, NEW_FAMILY], {"accelerators": [OLD_FAMILY, NEW_FAMILY]}])
def test_accelerators_normalise_both_field_families(body: Any) -> None:
    script = Script(json_response(200, body))
    with sync_client(script) as client:
        old, new = client.accelerators.list()
    assert script.requests[0].url == f"{BASE}/v1/accelerators"
    assert (old.gpu_id, old.gpu_model, old.gpu_link, old.gpu_memory) == ("a1", "NVIDIA_T4_16GB", "PCIe", 16)
    assert (new.accelerator_id, new.hw_model, new.hw_link, new.hw_memory) == ("g1", "NVIDIA_A100_80GB", "SXM4", 80)
    assert (old.name, old.memory, old.price_per_hour) == ("NVIDIA T4 16GB", "16GB", 0.5)
    assert (new.name, new.memory, new.pricing) == ("NVIDIA A100 80GB", "80GB", 2.5)


async def test_accelerators_empty_object_means_none() -> None:
    script = Script(json_response(200, {}))
    async with async_client(script) as client:
        assert list(await client.deployments.list_hardware()) == []
