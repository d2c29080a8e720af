"""What the sandbox SDK puts on the wire (scripted transport), and what Local answers to bad input and other keys."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from gravixlayer import AsyncGravixLayer, GravixLayer, GravixLayerNotFoundError, GravixLayerValidationError
from gravixlayer.local import LocalServer
from gravixlayer.resources.sandbox.sandboxes import code_timeout_seconds, command_timeout_ms
from gravixlayer.types.sandbox import Execution, FileList

SID = str(uuid.uuid4())
SANDBOX = {"sandbox_id": SID, "status": "running", "template": "python-base-v1", "metadata": None}


class Recorder:
    """A transport that records requests and answers each with a scripted body."""

    def __init__(self, answers: dict[str, Any] | None = None) -> None:
        self.requests: list[httpx.Request] = []
        self.answers = answers or {}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        for suffix, body in self.answers.items():
            if request.url.path.endswith(suffix):
                if isinstance(body, httpx.Response):
                    return body
                return httpx.Response(200, json=body)
        return httpx.Response(200, json=SANDBOX)

    def body(self, index: int = -1) -> Any:
        return json.loads(self.requests[index].content)


@pytest.fixture
def wire() -> Iterator[tuple[GravixLayer, Recorder]]:
    recorder = Recorder()
    with GravixLayer(
        api_key="k", base_url="http://x", http_client=httpx.Client(transport=httpx.MockTransport(recorder))
    ) as c:
        yield c, recorder


def test_units_are_converted_in_one_place() -> None:
    assert command_timeout_ms(2) == 2000 and command_timeout_ms(0.25) == 250
    assert code_timeout_seconds(1.2) == 2 and code_timeout_seconds(30) == 30
    for bad in (0, -1, float("nan"), True, "5"):
        with pytest.raises(GravixLayerValidationError):
            command_timeout_ms(bad)  # type: ignore[arg-type]


def test_command_and_code_bodies(wire: tuple[GravixLayer, Recorder]) -> None:
    client, recorder = wire
    recorder.answers["/commands/run"] = {
        "stdout": "a\nb\n",
        "stderr": "",
        "exit_code": 0,
        "duration_ms": 3,
        "success": True,
    }
    recorder.answers["/code/run"] = {"results": [], "logs": {"stdout": ["x"], "stderr": []}, "error": None}
    sb = client.sandbox.sandboxes.get(SID)
    run = sb.run_command("ls", ["-la"], working_dir="/home/user", env_vars={"A": "1"}, timeout=1.5)
    assert recorder.body() == {
        "command": "ls",
        "args": ["-la"],
        "working_dir": "/home/user",
        "environment": {"A": "1"},
        "timeout": 1500,
    }
    assert recorder.requests[-1].url.path == f"/v1/agents/sandboxes/{SID}/commands/run"
    assert run.logs.stdout == ["a", "b"] and run.stdout == "a\nb\n"
    # The HTTP request waits longer than the run it asks for.
    assert recorder.requests[-1].extensions["timeout"]["read"] == 60.0
    sb.run_command("sleep 100", timeout=100)
    assert (
        recorder.body()["timeout"] == 100_000 and recorder.requests[-1].extensions["timeout"]["read"] == 130.0
    )
    sb.run_command("echo hi")
    assert recorder.body() == {"command": "echo hi"}  # nothing unset is sent
    sb.run_code("1", timeout=2.5, http_timeout=7)
    assert recorder.body() == {"code": "1", "language": "python", "timeout": 3}
    assert recorder.requests[-1].extensions["timeout"]["read"] == 7
    assert sb.run_code("1").stdout == "x"


def test_provider_and_region_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    recorder = Recorder()
    transport = httpx.MockTransport(recorder)
    monkeypatch.delenv("GRAVIXLAYER_CLOUD", raising=False)
    monkeypatch.delenv("GRAVIXLAYER_REGION", raising=False)
    with GravixLayer(api_key="k", base_url="http://x", http_client=httpx.Client(transport=transport)) as c:
        c.sandbox.sandboxes.create()  # spec §1.3: the newest vendor SDK's defaults
        assert recorder.body() == {"provider": "aws", "region": "us-east-1", "template": "python-base-v1"}
        monkeypatch.setenv("GRAVIXLAYER_CLOUD", "azure")
        monkeypatch.setenv("GRAVIXLAYER_REGION", "eastus2")
        sb = c.sandbox.sandboxes.create(timeout=60, env_vars={"K": "V"}, metadata={"team": "x"})
        assert recorder.body() == {
            "provider": "azure", "region": "eastus2", "template": "python-base-v1", "timeout": 60,
            "env_vars": {"K": "V"}, "metadata": {"team": "x"},
        }  # fmt: skip
        assert sb.metadata == {}  # a null metadata reads as empty
    with GravixLayer(
        api_key="k",
        base_url="http://x",
        http_client=httpx.Client(transport=transport),
        cloud="aws",
        region="us-east-1",
    ) as c:
        c.sandbox.sandboxes.create(region="eu-west-1")
        assert recorder.body()["provider"] == "aws" and recorder.body()["region"] == "eu-west-1"


async def test_async_create_is_awaitable_and_a_context_manager() -> None:
    recorder = Recorder(
        {f"/sandboxes/{SID}": {"message": "killed", "sandbox_id": SID}, "/sandboxes": SANDBOX}
    )
    transport = httpx.MockTransport(recorder)
    async with AsyncGravixLayer(
        api_key="k", base_url="http://x", http_client=httpx.AsyncClient(transport=transport)
    ) as c:
        sb = await c.sandbox.sandboxes.create("gravix", "local")
        assert sb.sandbox_id == SID
        async with c.sandbox.sandboxes.create("gravix", "local") as sb2:
            assert sb2.status == "running"
        assert recorder.requests[-1].method == "DELETE" and sb2.status == "stopped"


def test_vendor_shapes_are_read() -> None:
    listing = FileList.model_validate(
        {"files": [{"name": "a", "size": 1, "is_dir": False, "mod_time": "t1", "mode": "-rw-r--r--"},
                   {"name": "b", "size": 2, "is_dir": True, "modified_at": "t2"}]}
    )  # fmt: skip
    assert [f.modified for f in listing] == ["t1", "t2"]
    from gravixlayer.types.sandbox import code_run_fields, command_run_fields

    old = Execution.model_validate(
        code_run_fields({"results": {"text": "3"}, "error": "boom", "execution_id": "e"})
    )
    assert old.text == "3" and old.error is not None and old.error.value == "boom" and not old.success
    cmd = Execution.model_validate(
        command_run_fields(
            {
                "stdout": "",
                "stderr": "",
                "exit_code": 124,
                "duration_ms": 5,
                "success": False,
                "error": "command timed out after 1 seconds",
            }
        )
    )
    assert cmd.error is not None and cmd.error.name == "TimeoutError"


def test_paths_and_ids_are_checked_before_sending(wire: tuple[GravixLayer, Recorder]) -> None:
    client, recorder = wire
    api = client.sandbox.sandboxes
    for call in (
        lambda: api.read_file(SID, "../etc/passwd"),
        lambda: api.read_file(SID, "a\x00b"),
        lambda: api.read_file("../agents", "x"),
        lambda: api.get("a/b"),
        lambda: api.run_code(SID, "1", context_id="../x"),
        lambda: api.get_host_url(SID, 70000),
        lambda: api.run_command(SID, "ls", args="-la"),  # type: ignore[arg-type]
        lambda: api.write(SID, "x", 5),  # type: ignore[arg-type]
    ):
        with pytest.raises(GravixLayerValidationError):
            call()
    assert recorder.requests == []


# -- Local: other keys and bad input ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def two_tenants() -> Iterator[tuple[LocalServer, GravixLayer, GravixLayer]]:
    with LocalServer(api_keys=["sandbox-key-a", "sandbox-key-b"]) as server:
        a = GravixLayer(api_key="sandbox-key-a", base_url=server.base_url, max_retries=0)
        b = GravixLayer(api_key="sandbox-key-b", base_url=server.base_url, max_retries=0)
        with a, b:
            yield server, a, b


def test_other_keys_see_nothing(two_tenants: tuple[LocalServer, GravixLayer, GravixLayer]) -> None:
    _server, a, b = two_tenants
    with a.sandbox.sandboxes.create(provider="gravix", region="local") as sb:
        ctx = sb.create_code_context()
        assert sb.sandbox_id not in [s.sandbox_id for s in b.sandbox.sandboxes.list()]
        api = b.sandbox.sandboxes
        for call in (
            lambda: api.get(sb.sandbox_id),
            lambda: api.kill(sb.sandbox_id),
            lambda: api.run_code(sb.sandbox_id, "1"),
            lambda: api.get_code_context(sb.sandbox_id, ctx.id),
            lambda: api.delete_code_context(sb.sandbox_id, ctx.id),
            lambda: api.pause(sb.sandbox_id),
            lambda: api.upload_file(sb.sandbox_id, b"x", "/home/user/x"),
            lambda: api.write(sb.sandbox_id, "x", b"x"),
        ):
            with pytest.raises(GravixLayerNotFoundError):
                call()
        assert sb.is_alive() and sb.run_code("1 + 1").text == "2"


BAD_REQUESTS: list[tuple[str, str, dict[str, Any]]] = [
    ("POST", "sandboxes", {"content": b"{not json"}),
    ("POST", "sandboxes", {"json": []}),
    ("POST", "sandboxes", {"json": {"template": 5}}),
    ("POST", "sandboxes", {"json": {"timeout": -1}}),
    ("POST", "sandboxes", {"json": {"timeout": 10**9}}),
    ("POST", "sandboxes", {"json": {"template": "no-such-template"}}),
    ("POST", "sandboxes", {"json": {"env_vars": {"A=B": "x"}}}),
    ("POST", "sandboxes", {"json": {"env_vars": {"A": "x\u0000"}}}),
    ("POST", "sandboxes", {"json": {"metadata": "x"}}),
    ("GET", "sandboxes?limit=abc", {}),
    ("GET", "sandboxes?limit=0", {}),
    ("GET", "templates?offset=-1", {}),
    ("GET", "sandboxes/not-a-sandbox", {}),
    ("DELETE", "sandboxes/not-a-sandbox", {}),
    ("POST", "sandboxes/{sid}/timeout", {"json": {"timeout": "soon"}}),
    ("POST", "sandboxes/{sid}/timeout", {}),
    ("GET", "sandboxes/{sid}/host/abc", {}),
    ("GET", "sandboxes/{sid}/host/0", {}),
    ("GET", "sandboxes/{sid}/host/99999", {}),
    ("POST", "sandboxes/{sid}/files/read", {"json": {}}),
    ("POST", "sandboxes/{sid}/files/read", {"json": {"path": 5}}),
    ("POST", "sandboxes/{sid}/files/read", {"json": {"path": ""}}),
    ("POST", "sandboxes/{sid}/files/read", {"json": {"path": "/home/user"}}),
    ("POST", "sandboxes/{sid}/files/read", {"json": {"path": "missing.txt"}}),
    ("POST", "sandboxes/{sid}/files/list", {"json": {"path": "missing"}}),
    ("POST", "sandboxes/{sid}/files/write", {"json": {"path": "/home/user", "content": "x"}}),
    ("POST", "sandboxes/{sid}/files/write", {"json": {"path": "x", "content": None}}),
    ("POST", "sandboxes/{sid}/files/delete", {"json": {"path": "/"}}),
    ("POST", "sandboxes/{sid}/files/delete", {"json": {"path": "missing"}}),
    ("POST", "sandboxes/{sid}/files", {"content": b"plain body"}),
    ("POST", "sandboxes/{sid}/files?path=x&mode=999", {"files": {"file": ("x", b"x")}}),
    ("POST", "sandboxes/{sid}/files?path=x", {"files": {"other": ("x", b"x")}}),
    ("POST", "sandboxes/{sid}/upload", {"json": {"path": "x"}}),
    (
        "POST",
        "sandboxes/{sid}/upload",
        {"headers": {"content-type": "multipart/form-data; boundary=zz"}, "content": b"--zz\r\nbroken"},
    ),
    ("GET", "sandboxes/{sid}/download", {}),
    ("GET", "sandboxes/{sid}/download?path=/home/user", {}),
    ("POST", "sandboxes/{sid}/commands/run", {"json": {"command": ""}}),
    ("POST", "sandboxes/{sid}/commands/run", {"json": {"command": "ls", "args": "-la"}}),
    ("POST", "sandboxes/{sid}/commands/run", {"json": {"command": "ls\u0000x"}}),
    ("POST", "sandboxes/{sid}/commands/run", {"json": {"command": "ls", "args": ["a\u0000"]}}),
    ("POST", "sandboxes/{sid}/commands/run", {"json": {"command": "ls", "timeout": 0}}),
    ("POST", "sandboxes/{sid}/commands/run", {"json": {"command": "ls", "working_dir": "missing"}}),
    ("POST", "sandboxes/{sid}/commands/run", {"json": {"command": "ls", "environment": {"": "x"}}}),
    ("POST", "sandboxes/{sid}/code/run", {"json": {"code": 5}}),
    ("POST", "sandboxes/{sid}/code/run", {"json": {"code": "1", "language": "cobol"}}),
    ("POST", "sandboxes/{sid}/code/run", {"json": {"code": "1", "context_id": "nope"}}),
    ("POST", "sandboxes/{sid}/code/run", {"json": {"code": "1", "timeout": -2}}),
    ("POST", "sandboxes/{sid}/code/contexts", {"json": {"language": "ruby"}}),
    ("POST", "sandboxes/{sid}/code/contexts", {"content": b"[1]"}),
    ("GET", "sandboxes/{sid}/code/contexts/nope", {}),
    ("DELETE", "sandboxes/{sid}/code/contexts/nope", {}),
]


@pytest.mark.parametrize(
    "method,path,kwargs", BAD_REQUESTS, ids=[f"{m} {p} {i}" for i, (m, p, _) in enumerate(BAD_REQUESTS)]
)
def test_bad_input_is_a_client_error_never_a_500(
    two_tenants: tuple[LocalServer, GravixLayer, GravixLayer], method: str, path: str, kwargs: dict[str, Any]
) -> None:
    server, a, _b = two_tenants
    sid = _shared_sandbox(a)
    with httpx.Client(
        base_url=f"{server.base_url}/v1/agents/", headers={"Authorization": "Bearer sandbox-key-a"}
    ) as http:
        answer = http.request(method, path.format(sid=sid), **kwargs)
    assert 400 <= answer.status_code < 500, answer.text
    body = answer.json()
    assert isinstance(body["error"], str) and body["code"]


_SHARED: dict[int, str] = {}


def _shared_sandbox(client: GravixLayer) -> str:
    if id(client) not in _SHARED:
        _SHARED[id(client)] = client.sandbox.sandboxes.create(provider="gravix", region="local").sandbox_id
    return _SHARED[id(client)]


def test_env_vars_is_the_one_name_and_the_old_ones_warn(wire: tuple[GravixLayer, Recorder]) -> None:
    client, recorder = wire
    recorder.answers["/code/run"] = {"results": [], "logs": {"stdout": [], "stderr": []}, "error": None}
    recorder.answers["/commands/run"] = {"stdout": "", "stderr": "", "exit_code": 0, "success": True}
    api = client.sandbox.sandboxes
    sb = api.get(SID)
    # One order and one name at both levels: code, language, context_id, env_vars, timeout.
    api.run_code(SID, "1", "python", None, {"A": "1"}, 2)
    expected = {"code": "1", "language": "python", "environment": {"A": "1"}, "timeout": 2}
    assert recorder.body() == expected
    sb.run_code("1", "python", None, {"A": "1"}, 2)
    assert recorder.body() == expected
    api.run_command(SID, "env", None, None, {"A": "1"})
    assert recorder.body() == {"command": "env", "environment": {"A": "1"}}
    sent = len(recorder.requests)
    with pytest.warns(DeprecationWarning, match="environment= is deprecated"):
        api.run_code(SID, "1", environment={"B": "2"})
    assert recorder.body()["environment"] == {"B": "2"}
    with pytest.warns(DeprecationWarning, match="environment= is deprecated"):
        api.run_command(SID, "env", environment={"B": "2"})
    assert recorder.body()["environment"] == {"B": "2"}
    with pytest.warns(DeprecationWarning, match="env= is deprecated"):
        sb.run_command("env", env={"C": "3"})
    assert recorder.body()["environment"] == {"C": "3"}
    with pytest.warns(DeprecationWarning, match="env= is deprecated"):
        sb.run_code("1", env={"C": "3"})
    assert recorder.body()["environment"] == {"C": "3"}
    # The instance's old positional order (timeout fourth) still works for one minor version.
    with pytest.warns(DeprecationWarning, match="fourth positional argument"):
        sb.run_code("1", "python", None, 5)
    assert recorder.body() == {"code": "1", "language": "python", "timeout": 5}
    assert len(recorder.requests) == sent + 5
    with pytest.raises(GravixLayerValidationError, match="not both"):
        sb.run_code("1", env_vars={"A": "1"}, env={"A": "2"})


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(200, json={"message": "Sandbox paused"}),
        httpx.Response(204),
        httpx.Response(200, text="ok"),
    ],
    ids=["message", "204", "text"],
)
def test_pause_and_resume_ignore_the_reply(answer: httpx.Response) -> None:
    """Spec §8.9: whatever pause/resume answer, the SDK reads the sandbox's state itself."""
    paused = {**SANDBOX, "status": "paused"}
    recorder = Recorder({"/pause": answer, "/resume": answer, f"/sandboxes/{SID}": paused})
    with GravixLayer(
        api_key="k", base_url="http://x", http_client=httpx.Client(transport=httpx.MockTransport(recorder))
    ) as c:
        sb = c.sandbox.sandboxes.get(SID)
        assert sb.pause().status == "paused" and sb.status == "paused"
        assert [r.method for r in recorder.requests[-2:]] == ["POST", "GET"]
        assert c.sandbox.sandboxes.resume(SID).sandbox_id == SID


async def test_async_pause_accepts_a_204() -> None:
    recorder = Recorder({"/pause": httpx.Response(204), f"/sandboxes/{SID}": {**SANDBOX, "status": "paused"}})
    async with AsyncGravixLayer(
        api_key="k", base_url="http://x", http_client=httpx.AsyncClient(transport=httpx.MockTransport(recorder))
    ) as c:
        assert (await c.sandbox.sandboxes.pause(SID)).status == "paused"
