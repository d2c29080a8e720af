"""SSH into a Local sandbox (spec §8.9) with the real `ssh` client: sessions run inside the sandbox as its
user, only the sandbox's current key logs in, and the server ends with SSH disabled or the sandbox killed."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from pathlib import Path

import pytest

from gravixlayer import GravixLayer, GravixLayerBadRequestError
from gravixlayer.local import LocalServer
from gravixlayer.resources.sandbox import SandboxInstance
from gravixlayer.types.sandbox import SSHInfo

from .conftest import LOCATION, live_processes

SSH_OPTIONS = [
    "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes",
    "-o", "LogLevel=ERROR", "-o", "IdentitiesOnly=yes", "-o", "ConnectTimeout=20",
]  # fmt: skip


def _key(tmp_path: Path, info: SSHInfo, name: str = "key") -> Path:
    path = tmp_path / name
    path.write_text(info.private_key or "")
    os.chmod(path, 0o600)
    return path


def _ssh(
    key: Path, info: SSHInfo, *remote: str, stdin: str = "", tty: bool = False
) -> subprocess.CompletedProcess[str]:
    argv = ["ssh", "-i", str(key), "-p", str(info.port), *SSH_OPTIONS, *(["-tt"] if tty else [])]
    return subprocess.run(
        [*argv, "user@127.0.0.1", *remote], input=stdin, capture_output=True, text=True, timeout=60
    )


def test_exec_runs_inside_the_sandbox_as_its_user(sandbox: SandboxInstance, tmp_path: Path) -> None:
    info = sandbox.enable_ssh()
    key = _key(tmp_path, info)
    sandbox.filesystem.write("marker.txt", "from the files API\n")
    done = _ssh(key, info, "pwd; whoami; cat marker.txt; echo to-stderr >&2; echo $HOME; exit 7")
    assert done.returncode == 7
    assert done.stdout.splitlines() == ["/home/user", "user", "from the files API", "/home/user"]
    assert done.stderr == "to-stderr\n"
    if sandbox.isolation in ("namespaces", "namespaces-no-proc"):
        # The sandbox's own file system: the server's data directory is not there.
        assert _ssh(key, info, f"test -e {tmp_path} && echo visible || echo hidden").stdout == "hidden\n"


def test_shell_without_and_with_a_terminal(sandbox: SandboxInstance, tmp_path: Path) -> None:
    info = sandbox.enable_ssh()
    key = _key(tmp_path, info)
    plain = _ssh(key, info, stdin="cd /tmp && pwd\necho $((6 * 7))\nexit 3\n")
    assert plain.returncode == 3
    assert plain.stdout == "/tmp\n42\n"
    if sandbox.isolation in ("namespaces", "namespaces-no-proc"):
        shell = _ssh(key, info, stdin="tty; stty size; exit\n", tty=True)
        assert "/dev/pts/" in shell.stdout, shell.stdout + shell.stderr
        assert "24 80" in shell.stdout or "rows" not in shell.stdout


def test_only_the_current_key_logs_in(sandbox: SandboxInstance, tmp_path: Path) -> None:
    first = sandbox.enable_ssh()
    old_key = _key(tmp_path, first, "old")
    assert _ssh(old_key, first, "true").returncode == 0
    again = sandbox.enable_ssh()
    assert (again.port, again.key_fingerprint) == (first.port, first.key_fingerprint)
    regenerated = sandbox.enable_ssh(regenerate_keys=True)
    assert regenerated.port == first.port and regenerated.key_fingerprint != first.key_fingerprint
    refused = _ssh(old_key, first, "true")
    assert refused.returncode == 255 and "Permission denied" in refused.stderr
    assert _ssh(_key(tmp_path, regenerated, "new"), regenerated, "echo in").stdout == "in\n"


def test_no_forwarding_out_of_the_sandbox(sandbox: SandboxInstance, tmp_path: Path, local_server: LocalServer) -> None:
    """The server must not become a way to the host's network (its loopback holds Local's own API)."""
    info = sandbox.enable_ssh()
    key = _key(tmp_path, info)
    api_port = local_server.base_url.rsplit(":", 1)[1].rstrip("/")
    argv = ["ssh", "-i", str(key), "-p", str(info.port), *SSH_OPTIONS, "-W", f"127.0.0.1:{api_port}", "user@127.0.0.1"]
    tunnel = subprocess.run(argv, input="GET /health HTTP/1.0\r\n\r\n", capture_output=True, text=True, timeout=60)
    assert tunnel.returncode != 0 and "HTTP/1" not in tunnel.stdout
    assert "forwarding failed" in tunnel.stderr or "open failed" in tunnel.stderr, tunnel.stderr


def test_passwords_are_refused(sandbox: SandboxInstance) -> None:
    import asyncssh

    info = sandbox.enable_ssh()

    async def with_password() -> None:
        async with asyncssh.connect(
            "127.0.0.1", info.port, username="user", password="user", known_hosts=None, client_keys=None,
            agent_path=None,
        ):  # fmt: skip
            pass

    with pytest.raises(asyncssh.PermissionDenied):
        asyncio.run(with_password())


def test_disable_and_kill_stop_the_server(client: GravixLayer, tmp_path: Path) -> None:
    sandbox = client.sandbox.sandboxes.create(**LOCATION, timeout=600)
    try:
        info = sandbox.enable_ssh()
        key = _key(tmp_path, info)
        assert client.sandbox.sandboxes.get(sandbox.sandbox_id).info.ssh_enabled is True
        sandbox.disable_ssh()
        assert _ssh(key, info, "true").returncode == 255
        assert client.sandbox.sandboxes.get(sandbox.sandbox_id).info.ssh_enabled is False
        info = sandbox.enable_ssh()
        key = _key(tmp_path, info, "second")
        # A session whose client goes away ends its processes.
        hanging = subprocess.Popen(
            ["ssh", "-i", str(key), "-p", str(info.port), *SSH_OPTIONS, "user@127.0.0.1", "sleep 600"]
        )
        deadline = time.monotonic() + 20
        while not any(_is_sleep(pid) for pid in live_processes(sandbox.sandbox_id)):
            assert time.monotonic() < deadline, "the session's command never started"
            time.sleep(0.1)
        hanging.kill()
        hanging.wait()
        while any(_is_sleep(pid) for pid in live_processes(sandbox.sandbox_id)):
            assert time.monotonic() < deadline + 20, "the session's command outlived its client"
            time.sleep(0.1)
    finally:
        sandbox.kill()
    assert _ssh(key, info, "true").returncode == 255
    assert not client.sandbox.sandboxes.ssh_status(sandbox.sandbox_id).enabled


def _is_sleep(pid: int) -> bool:
    import psutil

    try:
        return "sleep" in psutil.Process(pid).name()
    except psutil.Error:
        return False


def test_refused_where_sessions_would_not_be_confined(tmp_path: Path) -> None:
    with LocalServer(data_dir=tmp_path / "data", sandbox_isolation="best-effort") as local:
        sandbox = local.client.sandbox.sandboxes.create(**LOCATION, timeout=600)
        try:
            with pytest.raises(GravixLayerBadRequestError) as refused:
                sandbox.enable_ssh()
        finally:
            sandbox.kill()
    assert refused.value.status_code == 400
    assert "best-effort" in str(refused.value)
