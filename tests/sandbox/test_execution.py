"""Code and commands in a real sandbox: persistent contexts, typed results, timeouts and resource limits."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import psutil
import pytest

from gravixlayer import GravixLayer, GravixLayerError, GravixLayerNotFoundError, GravixLayerServerError
from gravixlayer.local import LocalServer
from gravixlayer.resources.sandbox import AsyncSandboxInstance, SandboxInstance


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


FORK_BOMB = "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n"


def test_code_results_logs_and_errors(sandbox: SandboxInstance) -> None:
    run = sandbox.run_code("import sys\nprint('a')\nprint('b', file=sys.stderr)\nprint('c')\n{'x': 1}")
    assert run.logs.stdout == ["a", "c"] and run.logs.stderr == ["b"]
    assert run.stdout == "a\nc" and run.stderr == "b"
    assert run.text == "{'x': 1}" and run.results[0].is_main_result and run.success and run.error is None

    failed = sandbox.run_code("def f():\n    raise ValueError('bad value')\nprint('before')\nf()")
    assert not failed.success and failed.exit_code == 1 and failed.stdout == "before"
    assert (
        failed.error is not None and failed.error.name == "ValueError" and failed.error.value == "bad value"
    )
    assert "line 2, in f" in failed.error.traceback and "kernel_main" not in failed.error.traceback

    syntax = sandbox.run_code("def broken(:")
    assert syntax.error is not None and syntax.error.name == "SyntaxError"

    # Output of child processes is captured too, and rich reprs come back like in Jupyter.
    child = sandbox.run_code(
        "import subprocess\nsubprocess.run(['echo', 'from a child'])\n"
        "class Table:\n    def _repr_html_(self): return '<b>t</b>'\n    def __repr__(self): return 'Table()'\nTable()"
    )
    assert child.logs.stdout == ["from a child"]
    assert child.results[0].html == "<b>t</b>" and child.text == "Table()"


def test_environment_working_dir_and_exit_codes(sandbox: SandboxInstance) -> None:
    run = sandbox.run_code(
        "import os\nos.environ['GREETING'], os.getcwd().endswith('/home/user')", env={"GREETING": "hi"}
    )
    assert run.text == "('hi', True)"
    assert sandbox.run_code("import os\nos.environ.get('GREETING')").text is None  # only for that run

    sandbox.filesystem.create_directory("work/deeper")
    cmd = sandbox.run_command("pwd", working_dir="work/deeper")
    assert cmd.stdout.strip().endswith("/home/user/work/deeper")
    cmd = sandbox.run_command("sh", ["-c", 'echo "$A-$B"; echo oops >&2; exit 3'], env={"A": "1", "B": "2"})
    assert cmd.stdout == "1-2\n" and cmd.logs.stdout == ["1-2"] and cmd.stderr == "oops\n"
    assert cmd.exit_code == 3 and not cmd.success and cmd.error is None and cmd.duration_ms is not None
    missing = sandbox.run_command("no-such-program-here", args=[])
    assert missing.exit_code == 127 and not missing.success
    # The server's own environment (API keys...) never reaches a sandbox.
    env = sandbox.run_command("env").stdout
    assert "GRAVIXLAYER_API_KEY" not in env and "HOME=" in env and "/home/user" in env


def test_persistent_context_state(sandbox: SandboxInstance) -> None:
    ctx = sandbox.create_code_context()
    assert ctx.language == "python" and ctx.cwd == "/home/user"
    sandbox.run_code("counter = 10\nimport math", context_id=ctx.id)
    sandbox.run_code("counter += 5", context_id=ctx.id)
    assert sandbox.run_code("counter, math.sqrt(16)", context_id=ctx.id).text == "(15, 4.0)"
    assert sandbox.run_code("_", context_id=ctx.id).text == "(15, 4.0)"  # the last value, as in IPython
    # Without a context every run starts fresh.
    fresh = sandbox.run_code("counter")
    assert fresh.error is not None and fresh.error.name == "NameError"
    # Two contexts do not share state.
    other = sandbox.create_code_context(cwd="/tmp")
    assert other.cwd == "/tmp"
    assert sandbox.run_code("'counter' in globals()", context_id=other.id).text == "False"
    assert sandbox.run_code("import os; os.getcwd().endswith('/tmp')", context_id=other.id).text == "True"

    got = sandbox.get_code_context(ctx.id)
    assert got.id == ctx.id and got.context_id == ctx.id
    assert sandbox.delete_code_context(ctx.id).context_id == ctx.id
    with pytest.raises(GravixLayerNotFoundError):
        sandbox.run_code("counter", context_id=ctx.id)
    with pytest.raises(GravixLayerNotFoundError):
        sandbox.get_code_context(ctx.id)


async def test_persistent_context_state_async(asandbox: AsyncSandboxInstance) -> None:
    ctx = await asandbox.create_code_context()
    await asandbox.run_code("items = []", context_id=ctx.id)
    for i in range(3):
        await asandbox.run_code(f"items.append({i})", context_id=ctx.id)
    assert (
        await asandbox.run_code("import asyncio\nawait asyncio.sleep(0)\nitems", context_id=ctx.id)
    ).text == "[0, 1, 2]"
    assert (await asandbox.get_code_context(ctx.id)).language == "python"
    await asandbox.delete_code_context(ctx.id)
    with pytest.raises(GravixLayerNotFoundError):
        await asandbox.get_code_context(ctx.id)


def test_infinite_loop_stopped_by_its_timeout(sandbox: SandboxInstance) -> None:
    started = time.monotonic()
    run = sandbox.run_code("while True:\n    pass", timeout=1)
    assert run.error is not None and run.error.name == "TimeoutError" and not run.success
    assert time.monotonic() - started < 20
    # In a context the run is interrupted (as Jupyter does) and the state survives.
    ctx = sandbox.create_code_context()
    sandbox.run_code("kept = 'yes'", context_id=ctx.id)
    run = sandbox.run_code("print('working')\nwhile True:\n    pass", context_id=ctx.id, timeout=1)
    assert run.error is not None and run.error.name == "TimeoutError" and run.logs.stdout == ["working"]
    assert sandbox.run_code("kept", context_id=ctx.id).text == "'yes'"
    # A kernel that ignores the interrupt is killed and restarted; the answer says the state is gone.
    run = sandbox.run_code(
        "import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    time.sleep(0.01)",
        context_id=ctx.id,
        timeout=1,
    )
    assert run.error is not None and run.error.name == "TimeoutError" and "state" in run.error.value
    after = sandbox.run_code("'kept' in globals()", context_id=ctx.id)
    assert after.text == "False" and "restarted" in after.stderr


def test_command_timeout_kills_the_process_group(sandbox: SandboxInstance) -> None:
    run = sandbox.run_command("sh", ["-c", "sleep 120 & echo $!; wait"], timeout=1)
    assert run.exit_code == 124 and not run.success
    assert run.error is not None and run.error.name == "TimeoutError" and "timed out" in run.error.value
    child = int(run.stdout.split()[0])  # as the sandbox numbers it (its own PID namespace)
    deadline = time.monotonic() + 10
    while sandbox.run_command("sh", ["-c", f"test -d /proc/{child} && ! grep -q '^State:.*Z' /proc/{child}/status"]).exit_code == 0:
        assert time.monotonic() < deadline, "the command's child outlived the timeout"
        time.sleep(0.05)


async def test_command_timeout_async(asandbox: AsyncSandboxInstance) -> None:
    run = await asandbox.run_command("sleep 30", timeout=0.5)
    assert run.exit_code == 124 and run.error is not None and run.error.name == "TimeoutError"
    assert (await asandbox.run_command("echo", ["done"])).stdout == "done\n"


def test_output_is_capped(sandbox: SandboxInstance) -> None:
    run = sandbox.run_command("python", ["-c", "import sys; sys.stdout.write('x' * (6 * 1024 * 1024))"])
    assert run.exit_code == 0 and len(run.stdout) < 5 * 1024 * 1024 and "output truncated" in run.stdout
    code = sandbox.run_code("print('y' * (6 * 1024 * 1024))")
    assert "output truncated" in code.logs.stdout[-1] and len(code.stdout) < 5 * 1024 * 1024


@pytest.fixture
def process_peak() -> Iterator[list[int]]:
    """The highest number of processes on the machine while the test runs."""
    peak = [len(psutil.pids())]
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], len(psutil.pids()))
            stop.wait(0.02)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    yield peak
    stop.set()
    watcher.join()


def test_fork_bomb_is_contained(
    client: GravixLayer, local_server: LocalServer, sandbox: SandboxInstance, process_peak: list[int]
) -> None:
    before = len(psutil.pids())
    started = time.monotonic()
    run = sandbox.run_code(FORK_BOMB, timeout=2)
    assert run.error is not None and run.error.name in ("TimeoutError", "MemoryError")
    assert process_peak[0] - before <= 128 + 40, "the fork bomb grew past the sandbox's process limit"
    assert time.monotonic() - started < 30
    # The server and the sandbox both still work.
    assert httpx.get(local_server.base_url + "/health", timeout=5).status_code == 200
    assert sandbox.run_code("1 + 1").text == "2"
    ctx = sandbox.create_code_context()
    sandbox.run_code("alive = True", context_id=ctx.id)
    run = sandbox.run_code(FORK_BOMB, context_id=ctx.id, timeout=2)
    assert run.error is not None and run.error.name == "TimeoutError"
    # The bomb's processes survive the kernel's interrupt; they are ended, not left filling the limit.
    assert "processes it started were ended" in run.error.value or "context was restarted" in run.error.value
    assert sandbox.run_command("echo", ["ok"]).stdout == "ok\n"


def test_a_timed_out_context_run_ends_its_own_processes_and_keeps_earlier_ones(
    sandbox: SandboxInstance,
) -> None:
    ctx = sandbox.create_code_context()
    started = "import subprocess, time\nserver = subprocess.Popen(['sleep', '300'])\ntime.sleep(0.05)"
    sandbox.run_code(started, context_id=ctx.id)
    stuck = "import subprocess\nworker = subprocess.Popen(['sleep', '301'])\nwhile True:\n    pass"
    run = sandbox.run_code(stuck, context_id=ctx.id, timeout=1)
    assert run.error is not None and run.error.name == "TimeoutError"
    assert run.error.value.endswith("; 1 process it started was ended")
    assert sandbox.run_code("server.poll() is None", context_id=ctx.id).text == "True"  # an earlier run's server
    assert sandbox.run_code("worker.wait(timeout=5)", context_id=ctx.id).text == "-9"  # the timed-out run's child
    sandbox.run_code("server.kill(); server.wait()", context_id=ctx.id)


def test_memory_hogs_are_contained(sandbox: SandboxInstance) -> None:
    one = sandbox.run_code("block = bytearray(4 * 1024 ** 3)")
    assert one.error is not None and one.error.name == "MemoryError"
    # Several processes that stay under the per-process limit but together exceed the sandbox's memory.
    hog = (
        "import os, time\n"
        "for _ in range(2):\n"
        "    if os.fork() == 0:\n"
        "        b = bytearray(700 * 1024 * 1024)\n"
        "        for i in range(0, len(b), 4096):\n"
        "            b[i] = 1\n"
        "        time.sleep(60)\n"
        "        os._exit(0)\n"
        "os.wait(); os.wait()\n"
    )
    many = sandbox.run_command("python", ["-c", hog], timeout=60)
    assert not many.success and many.error is not None and "memory" in many.error.value
    assert sandbox.run_code("'still usable'").text == "'still usable'"


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_javascript_context(client: GravixLayer) -> None:
    assert "node-base-v1" in [t.name for t in client.sandbox.templates.list()]
    with client.sandbox.sandboxes.create(provider="gravix", region="local", template="node-base-v1") as sb:
        ctx = sb.create_code_context(language="javascript")
        first = sb.run_code("var total = 40; console.log('hello', {a: 1}); total + 1", "javascript", ctx.id)
        assert first.stdout == "hello { a: 1 }" and first.text == "41"
        assert sb.run_code("total + 2", language="javascript", context_id=ctx.id).text == "42"
        failed = sb.run_code("null.x", language="javascript")
        assert failed.error is not None and failed.error.name == "TypeError"
        looped = sb.run_code("while (true) {}", language="javascript", context_id=ctx.id, timeout=1)
        assert looped.error is not None and looped.error.name == "TimeoutError"
        assert sb.run_code("total", language="javascript", context_id=ctx.id).text == "40"


def test_metrics_and_host_url(sandbox: SandboxInstance) -> None:
    sandbox.create_code_context()
    sandbox.filesystem.write("blob.bin", b"\0" * 200_000)
    metrics = sandbox.get_metrics()
    assert metrics.memory_usage is not None and metrics.memory_usage > 1
    assert metrics.memory_total == 1024 and metrics.cpu_usage is not None and metrics.timestamp
    assert metrics.disk_usage >= 200_000 and metrics.process_count >= 1  # type: ignore[attr-defined]

    port = free_port()
    # A background server keeps the command's output pipes: the command still ends, and the server,
    # whose request log goes to that pipe, keeps running.
    started = sandbox.run_command(f"python -m http.server {port} &", timeout=20)
    assert started.exit_code == 0 and started.error is None
    sandbox.filesystem.write("page.txt", "served from the sandbox")
    url = sandbox.get_host_url(port)  # the sandbox has its own network: Local forwards a port of its own
    assert url.startswith("http://")
    deadline = time.monotonic() + 20
    while True:
        try:
            answer = httpx.get(url + "/page.txt", timeout=2)
            break
        except httpx.TransportError:
            assert time.monotonic() < deadline
            time.sleep(0.1)
    assert answer.text == "served from the sandbox"
    assert httpx.get(url + "/page.txt", timeout=5).text == "served from the sandbox"


def test_process_limit_is_a_retryable_503(local_server: LocalServer) -> None:
    impatient = GravixLayer(api_key=local_server.api_key, base_url=local_server.base_url, max_retries=0)
    with impatient, impatient.sandbox.sandboxes.create(provider="gravix", region="local") as sb:
        fill = (
            "import subprocess\nstarted = 0\ntry:\n    while started < 500:\n"
            "        subprocess.Popen(['sleep', '60'])\n        started += 1\nexcept OSError:\n    print(started)\n"
        )
        assert int(sb.run_command("python", ["-c", fill], timeout=30).stdout) < 500
        with pytest.raises(GravixLayerServerError) as full:
            sb.run_code("1")
        assert full.value.status_code == 503 and full.value.code == "process_limit"
        assert full.value.response is not None and full.value.response.headers["retry-after"] == "1"


def test_javascript_template_runs_node_where_it_exists_and_says_why_not_elsewhere(
    client: GravixLayer, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    if shutil.which("node"):
        with client.sandbox.sandboxes.create(provider="gravix", region="local", template="javascript-base-v1") as sb:
            assert sb.run_code("[1, 2, 3].map((x) => x * 2).length", language="javascript").text == "3"
            assert sb.run_command("pwd").stdout == "/home/user\n"
    monkeypatch.setattr("gravixlayer.local.sandbox.manager.shutil.which", lambda name: None)
    from gravixlayer.local import LocalServer

    with LocalServer() as nodeless:
        with pytest.raises(GravixLayerError) as refused:
            nodeless.client.sandbox.sandboxes.create(provider="gravix", region="local", template="javascript-base-v1")
        assert getattr(refused.value, "status_code", None) == 404 and "node" in str(refused.value).lower()
