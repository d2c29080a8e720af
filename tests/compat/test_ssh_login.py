"""A program that logs in to its sandbox over SSH (spec §8.9): enable, save the key, `ssh ... pwd`."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from gravixlayer import AsyncSandbox, Sandbox
from gravixlayer.local import LocalServer

SSH_OPTIONS = [
    "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes",
    "-o", "LogLevel=ERROR", "-o", "IdentitiesOnly=yes", "-o", "ConnectTimeout=20",
]  # fmt: skip


def test_ssh_login_runs_pwd_in_the_sandbox(program_env: LocalServer, tmp_path: Path) -> None:
    # --- the program, unchanged ---
    with Sandbox.create(template="python-base-v1", timeout=600) as sandbox:
        ssh = sandbox.enable_ssh()
        key_file = tmp_path / "sandbox_key"
        key_file.write_text(ssh.private_key or "")
        os.chmod(key_file, 0o600)
        login = subprocess.run(
            ["ssh", "-i", str(key_file), "-p", str(ssh.port), *SSH_OPTIONS, f"{ssh.username}@127.0.0.1", "pwd"],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        status = sandbox.ssh_status()
    # --- what it must have seen ---
    assert login.returncode == 0, login.stderr
    assert login.stdout == "/home/user\n"
    assert ssh.enabled and ssh.username == "user"
    assert ssh.connect_cmd is not None and f"-p {ssh.port}" in ssh.connect_cmd
    assert ssh.key_fingerprint is not None and ssh.key_fingerprint.startswith("SHA256:")
    assert status.enabled and status.port == ssh.port and status.daemon_running


async def test_async_program_enables_and_disables_ssh(program_env: LocalServer) -> None:
    async with AsyncSandbox.create(template="python-base-v1", timeout=600) as sandbox:
        ssh = await sandbox.enable_ssh()
        before = await sandbox.ssh_status()
        off = await sandbox.disable_ssh()
        after = await sandbox.ssh_status()
    assert ssh.private_key is not None and "PRIVATE KEY" in ssh.private_key
    assert before.enabled and before.port == ssh.port
    assert off.enabled is False
    assert after.enabled is False and not after.daemon_running
