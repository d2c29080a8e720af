"""The fallback way of running sandboxes: processes as the server's own user (no per-sandbox user id).

That is what Local does when it is not root or no spare user id works; here it is forced, so the mode is
exercised on any machine.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from gravixlayer import GravixLayer
from gravixlayer.local import LocalServer
from gravixlayer.local.sandbox_isolation import SAME_USER, Isolation

from .conftest import LOCATION, live_processes, sandbox_root


@pytest.fixture(scope="module")
def same_user_server() -> Iterator[LocalServer]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("gravixlayer.local.sandbox_runner.probe", lambda python, workdir: Isolation(SAME_USER))
        with LocalServer() as server:
            yield server


def test_sandbox_works_as_the_servers_user(same_user_server: LocalServer, tmp_path: Path) -> None:
    client: GravixLayer = same_user_server.client
    with client.sandbox.sandboxes.create(**LOCATION) as sb:
        ctx = sb.create_code_context()
        sb.run_code("value = 41", context_id=ctx.id)
        assert sb.run_code("value + 1", context_id=ctx.id).text == "42"
        import os

        assert sb.run_code("import os; os.getuid()").text == str(os.getuid())
        sb.filesystem.write("f.bin", b"\x00\x01")
        assert sb.run_command("wc", ["-c", "f.bin"]).stdout.split()[0] == "2"
        assert sb.run_code("while True: pass", timeout=1).error.name == "TimeoutError"  # type: ignore[union-attr]
        sb.run_command("sh", ["-c", "setsid sleep 300 > /dev/null 2>&1 &"])  # leaves the process group
        time.sleep(0.2)
        assert len(live_processes(sb.sandbox_id)) >= 2
        metrics = sb.get_metrics()
        assert metrics.memory_usage is not None and metrics.memory_usage > 0
        hog = sb.run_code("b = bytearray(3 * 1024 ** 3)")
        assert hog.error is not None and hog.error.name == "MemoryError"
    # Killing finds even the process that left its group, by the sandbox id in its environment.
    deadline = time.monotonic() + 10
    while live_processes(sb.sandbox_id):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert not sandbox_root(same_user_server, sb.sandbox_id).exists()
