"""The seed's sandbox snippets and the sandbox lifecycle, sync and async, against a real GravixLayer Local."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from gravixlayer import (
    AsyncGravixLayer,
    GravixLayer,
    GravixLayerConflictError,
    GravixLayerError,
    GravixLayerNotFoundError,
)
from gravixlayer.local import LocalServer
from gravixlayer.resources.sandbox import AsyncSandboxInstance, SandboxInstance
from gravixlayer.types.sandbox import SandboxInfo

from .conftest import LOCATION, live_processes, sandbox_root


def test_seed_snippets(client: GravixLayer, local_server: LocalServer) -> None:
    templates = client.sandbox.templates.list()
    names = [t.name for t in templates]
    assert "python-base-v1" in names
    python = next(t for t in templates if t.name == "python-base-v1")
    assert (
        python.vcpu_count
        and python.memory_mb
        and python.disk_size_mb
        and "Python" in (python.description or "")
    )

    sandbox = client.sandbox.sandboxes.create(
        provider="aws",
        region="us-east-1",
        template="python-base-v1",
        name="my-sandbox",
        timeout=300
    )  # fmt: skip
    try:
        assert (
            sandbox.status == "running" and sandbox.name == "my-sandbox" and sandbox.id == sandbox.sandbox_id
        )
        uuid.UUID(sandbox.sandbox_id)
        assert sandbox.timeout_at is not None

        sandboxes = client.sandbox.sandboxes.list()
        assert sandbox.sandbox_id in [s.sandbox_id for s in sandboxes]
        sb = client.sandbox.sandboxes.get(sandbox.sandbox_id)
        assert (
            sb.sandbox_id == sandbox.sandbox_id
            and sb.info.provider == "aws"
            and sb.info.region == "us-east-1"
        )

        code_result = sandbox.run_code("print('Hello World')")
        assert code_result.stdout == "Hello World" and code_result.success and code_result.exit_code == 0

        cmd_result = sandbox.run_command("ls -la")
        assert cmd_result.exit_code == 0 and cmd_result.stdout.startswith("total")

        sandbox.filesystem.write("test.txt", "Hello content")
        content = sandbox.filesystem.read("test.txt")
        assert content == "Hello content"
        assert "test.txt" in sandbox.run_command("ls").stdout  # the file is where commands run

        files = sandbox.filesystem.list("/")
        assert {"home", "tmp"} <= set(files.names()) and all(f.path == "/" + f.name for f in files)

        sandbox.filesystem.create_directory("new-dir")
        entry = next(f for f in sandbox.filesystem.list() if f.name == "new-dir")
        assert entry.is_dir and entry.path == "/home/user/new-dir" and entry.modified

        sandbox.filesystem.delete("test.txt")
        assert "test.txt" not in sandbox.filesystem.list().names()

        sandbox.kill()
        assert sandbox.status == "stopped"
        assert client.sandbox.sandboxes.get(sandbox.sandbox_id).status == "stopped"
        assert not sandbox_root(local_server, sandbox.sandbox_id).exists()
    finally:
        client.sandbox.sandboxes.kill(sandbox.sandbox_id)  # idempotent: a stopped sandbox stays stopped


async def test_seed_snippets_async(aclient: AsyncGravixLayer) -> None:
    templates = await aclient.sandbox.templates.list()
    assert "python-base-v1" in [t.name for t in templates]
    sandbox = await aclient.sandbox.sandboxes.create(
        provider="aws", region="us-east-1", template="python-base-v1", name="my-sandbox", timeout=300
    )
    try:
        assert sandbox.sandbox_id in [s.sandbox_id for s in await aclient.sandbox.sandboxes.list()]
        assert (await aclient.sandbox.sandboxes.get(sandbox.sandbox_id)).name == "my-sandbox"
        assert (await sandbox.run_code("print('Hello World')")).stdout == "Hello World"
        assert (await sandbox.run_command("ls -la")).stdout.startswith("total")
        await sandbox.filesystem.write("test.txt", "Hello content")
        assert await sandbox.filesystem.read("test.txt") == "Hello content"
        assert "home" in (await sandbox.filesystem.list("/")).names()
        await sandbox.filesystem.create_directory("new-dir")
        await sandbox.filesystem.delete("test.txt")
        assert (await sandbox.filesystem.list()).names() == ["new-dir"]
        await sandbox.kill()
        assert not await sandbox.is_alive()
    finally:
        await aclient.sandbox.sandboxes.kill(sandbox.sandbox_id)


def test_with_block_kills_and_kill_removes_processes_and_files(
    client: GravixLayer, local_server: LocalServer
) -> None:
    with client.sandbox.sandboxes.create(**LOCATION) as sb:
        sb.create_code_context()
        sb.run_command("sh", ["-c", "sleep 300 > /dev/null 2>&1 &"])
        sb.filesystem.write("data.txt", "x")
        assert len(live_processes(sb.sandbox_id)) >= 2
        assert sb.is_alive()
    assert sb.status == "stopped" and not sb.is_alive()
    assert live_processes(sb.sandbox_id) == []
    assert not sandbox_root(local_server, sb.sandbox_id).exists()
    assert client.sandbox.sandboxes.kill(sb.sandbox_id).message == "sandbox already stopped"


async def test_async_with_block_kills(aclient: AsyncGravixLayer) -> None:
    async with aclient.sandbox.sandboxes.create(**LOCATION) as sb:
        assert isinstance(sb, AsyncSandboxInstance) and await sb.is_alive()
        await sb.run_command("sh", ["-c", "sleep 300 > /dev/null 2>&1 &"])
    assert sb.status == "stopped"
    assert (await aclient.sandbox.sandboxes.get(sb.sandbox_id)).status == "stopped"
    assert live_processes(sb.sandbox_id) == []


def test_kill_errors_are_raised(client: GravixLayer) -> None:
    ghost = SandboxInstance(client, SandboxInfo(sandbox_id=str(uuid.uuid4()), status="running"))
    with pytest.raises(GravixLayerNotFoundError):
        ghost.kill()
    with pytest.raises(GravixLayerNotFoundError), ghost:
        pass
    assert not ghost.is_alive()  # a sandbox the service does not know is not alive
    # A failing kill on exit does not hide the error raised inside the block.
    with pytest.raises(ZeroDivisionError), SandboxInstance(client, SandboxInfo(sandbox_id=str(uuid.uuid4()))):
        1 / 0  # noqa: B018


async def test_kill_errors_are_raised_async(aclient: AsyncGravixLayer) -> None:
    ghost = AsyncSandboxInstance(aclient, SandboxInfo(sandbox_id=str(uuid.uuid4())))
    with pytest.raises(GravixLayerNotFoundError):
        await ghost.kill()
    with pytest.raises(GravixLayerNotFoundError):
        async with ghost:
            pass


def test_stopped_sandbox_refuses_work(client: GravixLayer, sandbox: SandboxInstance) -> None:
    sandbox.kill()
    with pytest.raises(GravixLayerConflictError):
        sandbox.run_code("1")
    with pytest.raises(GravixLayerConflictError):
        sandbox.filesystem.read("x")


def test_pause_and_resume(client: GravixLayer, sandbox: SandboxInstance) -> None:
    ctx = sandbox.create_code_context()
    sandbox.run_code("n = 1", context_id=ctx.id)
    assert sandbox.pause().status == "paused" and sandbox.status == "paused"
    with pytest.raises(GravixLayerConflictError):
        sandbox.run_code("n", context_id=ctx.id)
    assert client.sandbox.sandboxes.connect(sandbox.sandbox_id).status == "running"  # connect resumes
    assert sandbox.pause().status == "paused"
    assert sandbox.resume().status == "running"
    assert sandbox.run_code("n + 1", context_id=ctx.id).text == "2"  # the paused kernel kept its state


async def test_pause_and_resume_async(asandbox: AsyncSandboxInstance) -> None:
    assert (await asandbox.pause()).status == "paused"
    assert (await asandbox.refresh()).status == "paused"
    assert (await asandbox.resume()).status == "running"
    assert (await asandbox.run_code("21 * 2")).text == "42"


def test_sandbox_timeout_expiry(client: GravixLayer, local_server: LocalServer) -> None:
    sb = client.sandbox.sandboxes.create(**LOCATION, timeout=4)  # long enough for the setup below on a loaded machine
    ctx = sb.create_code_context()
    sb.run_command("sh", ["-c", "sleep 300 > /dev/null 2>&1 &"])
    assert live_processes(sb.sandbox_id)
    deadline = time.monotonic() + 30
    while client.sandbox.sandboxes.get(sb.sandbox_id).status != "stopped":
        assert time.monotonic() < deadline, "the sandbox outlived its timeout"
        time.sleep(0.2)
    info = client.sandbox.sandboxes.get(sb.sandbox_id).info
    assert info.ended_at is not None
    assert live_processes(sb.sandbox_id) == []
    assert not sandbox_root(local_server, sb.sandbox_id).exists()
    with pytest.raises(GravixLayerConflictError):
        sb.run_code("1", context_id=ctx.id)


async def test_set_timeout_extends_and_disables(aclient: AsyncGravixLayer) -> None:
    sb = await aclient.sandbox.sandboxes.create(**LOCATION, timeout=1)
    try:
        answer = await sb.set_timeout(600)
        assert answer.timeout == 600 and answer.timeout_at == sb.timeout_at
        await _sleep(1.5)
        assert (await aclient.sandbox.sandboxes.get(sb.sandbox_id)).status == "running"
        answer = await sb.set_timeout(0)
        assert answer.timeout_at is None and (await sb.refresh()).timeout_at is None
    finally:
        await sb.kill()


async def _sleep(seconds: float) -> None:
    import asyncio

    await asyncio.sleep(seconds)


def test_env_vars_reach_every_process(client: GravixLayer) -> None:
    with client.sandbox.sandboxes.create(
        **LOCATION, env_vars={"STAGE": "test"}, metadata={"team": "a"}
    ) as sb:
        assert sb.metadata == {"team": "a"}
        assert sb.run_command("sh", ["-c", "echo $STAGE"]).stdout == "test\n"
        assert sb.run_code("import os\nos.environ['STAGE']").text == "'test'"
        assert sb.run_command("sh", ["-c", "echo $STAGE"], env={"STAGE": "override"}).stdout == "override\n"


def test_list_reflects_status_and_paging(client: GravixLayer) -> None:
    a = client.sandbox.sandboxes.create(**LOCATION)
    b = client.sandbox.sandboxes.create(**LOCATION)
    a.kill()
    try:
        listed = {s.sandbox_id: s.status for s in client.sandbox.sandboxes.list(limit=1000)}
        assert listed[a.sandbox_id] == "stopped" and listed[b.sandbox_id] == "running"
        everything = client.sandbox.sandboxes.list(limit=1000)
        page = client.sandbox.sandboxes.list(limit=1, offset=1)
        assert (
            len(page) == 1
            and page.total == everything.total
            and page[0].sandbox_id == everything[1].sandbox_id
        )
    finally:
        b.kill()


def test_processes_end_when_the_server_stops_and_sandboxes_survive_a_restart(tmp_path: Path) -> None:
    data_dir = tmp_path / "local"
    with LocalServer(data_dir=data_dir) as server:
        sb = server.client.sandbox.sandboxes.create(**LOCATION)
        expiring = server.client.sandbox.sandboxes.create(**LOCATION, timeout=2)
        sb.create_code_context()
        sb.run_command("sh", ["-c", "sleep 300 > /dev/null 2>&1 &"])
        sb.filesystem.write("kept.txt", "still here")
        assert len(live_processes(sb.sandbox_id)) >= 2
    assert live_processes(sb.sandbox_id) == []
    time.sleep(2.1)
    with LocalServer(data_dir=data_dir, api_keys=server.api_keys) as server:
        again = server.client.sandbox.sandboxes.get(sb.sandbox_id)
        assert again.status == "running"
        assert again.filesystem.read("kept.txt") == "still here"
        assert again.run_code("6 * 7").text == "42"
        assert server.client.sandbox.sandboxes.get(expiring.sandbox_id).status == "stopped"
        again.kill()


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "gravixlayer.local", "--port", str(port), "--data-dir", str(data_dir)],
        env={**os.environ, "GRAVIXLAYER_LOCAL_API_KEYS": "crash-key"},  # never a key on a command line
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def _client(port: int) -> GravixLayer:
    client = GravixLayer(api_key="crash-key", base_url=f"http://127.0.0.1:{port}", max_retries=0)
    deadline = time.monotonic() + 60
    while True:
        try:
            client.sandbox.templates.list()
            return client
        except GravixLayerError:
            assert time.monotonic() < deadline, "GravixLayer Local did not start"
            time.sleep(0.1)


def test_a_restart_after_a_crash_ends_what_the_crashed_server_left(tmp_path: Path) -> None:
    port = _free_port()
    server = _serve(tmp_path, port)
    try:
        with _client(port) as client:
            sb = client.sandbox.sandboxes.create(**LOCATION)
            sb.create_code_context()
            sb.run_command("sh", ["-c", "setsid sleep 300 > /dev/null 2>&1 &"])
            time.sleep(0.2)
    finally:
        server.kill()  # SIGKILL: no shutdown hook runs
        server.wait()
    # The sandbox's environment dies with the server (PID namespace teardown): the detached daemon too.
    deadline = time.monotonic() + 10
    while live_processes(sb.sandbox_id):
        assert time.monotonic() < deadline, live_processes(sb.sandbox_id)
        time.sleep(0.05)
    server = _serve(tmp_path, port)
    try:
        with _client(port) as client:
            assert live_processes(sb.sandbox_id) == []
            assert client.sandbox.sandboxes.get(sb.sandbox_id).run_code("1 + 1").text == "2"
            client.sandbox.sandboxes.kill(sb.sandbox_id)
    finally:
        server.terminate()
        server.wait(30)
