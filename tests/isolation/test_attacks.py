"""Sandbox code attacks GravixLayer Local from inside, per isolation mode, as root and as a normal user.

What each mode must stop is the promise the README makes for it; ``best-effort`` promises little and its
rows document what an attacker still gets. Whatever the mode: the server keeps answering, keys are never
on a command line or in the server's visible environment, and killing a sandbox ends all its processes.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
import uuid
from pathlib import Path

import httpx
import psutil
import pytest

from gravixlayer import GravixLayer, GravixLayerError

from .conftest import ATTACKER_KEY, REPO, SETTINGS, VICTIM_KEY, Served, Setting, serve

LOCATION = {"provider": "gravix", "region": "local"}
ATTACK = (Path(__file__).with_name("attack.py")).read_text()

EVERY_ATTACK = {
    "read_server_database", "list_data_directory", "read_other_tenants_sandbox", "read_host_file",
    "write_data_directory", "read_api_keys", "reach_server_on_loopback", "signal_server", "new_user_namespace",
    "new_mount_namespace", "mount", "io_uring", "bpf", "see_host_processes",
}  # fmt: skip
MUST_FAIL = {
    "namespaces": EVERY_ATTACK,
    "namespaces-no-proc": EVERY_ATTACK,
    "landlock": (EVERY_ATTACK - {"see_host_processes"}) | {"write_dev_shm"},
    "best-effort": {"read_api_keys"},
}


def _sandbox_processes(sandbox_id: str) -> list[int]:
    found = []
    for process in psutil.process_iter():
        with contextlib.suppress(psutil.Error):
            if (
                process.status() != psutil.STATUS_ZOMBIE
                and process.environ().get("GRAVIXLAYER_SANDBOX_ID") == sandbox_id
            ):
                found.append(process.pid)
    return found


def _mode(client: GravixLayer, sandbox_id: str) -> str:
    return str(client.sandbox.sandboxes.get(sandbox_id).isolation)


def test_attacks_from_inside_fail(served: Served) -> None:
    setting = served.setting
    token = f"glx-{uuid.uuid4().hex}"
    with served.client(VICTIM_KEY) as victim, served.client(ATTACKER_KEY) as attacker:
        target = victim.sandbox.sandboxes.create(**LOCATION)
        target.filesystem.write("secret.txt", "victim's secret")
        sb = attacker.sandbox.sandboxes.create(**LOCATION)
        try:
            assert _mode(attacker, sb.sandbox_id) == setting.expected
            facts = {
                "data_dir": str(served.data_dir), "port": served.port, "server_pid": served.pid,
                "keys": [VICTIM_KEY, ATTACKER_KEY], "token": token, "host_file": str(REPO / "pyproject.toml"),
                "victim_file": str(served.data_dir / "sandboxes" / target.sandbox_id / "home" / "user" / "secret.txt"),
            }  # fmt: skip
            sb.filesystem.write("attack.py", ATTACK)
            sb.filesystem.write("facts.json", json.dumps(facts))
            run = sb.run_command("python3", ["attack.py"], timeout=60)
            assert run.exit_code == 0, run.stderr
            outcome = json.loads(run.stdout)
            succeeded = sorted(name for name in MUST_FAIL[setting.expected] if outcome.get(name))
            assert succeeded == [], f"{setting.name}: these attacks worked: {succeeded} ({outcome})"
            if setting.expected.startswith("namespaces"):
                assert outcome["network_interfaces"] == ["lo"]
                assert outcome["home_is_home_user"]
            assert served.healthy()
            assert not (served.data_dir / "pwned").exists() or setting.expected == "best-effort"
        finally:
            attacker.sandbox.sandboxes.kill(sb.sandbox_id)
            victim.sandbox.sandboxes.kill(target.sandbox_id)
    assert not Path("/dev/shm", token).exists() or setting.expected == "best-effort"
    assert victim_file_intact(served, target.sandbox_id)


def victim_file_intact(served: Served, sandbox_id: str) -> bool:
    return not (served.data_dir / "sandboxes" / sandbox_id).exists()  # removed at kill, never changed before


def test_keys_are_never_on_a_command_line(served: Served) -> None:
    for process in psutil.process_iter():
        with contextlib.suppress(psutil.Error):
            line = " ".join(process.cmdline())
            assert VICTIM_KEY not in line and ATTACKER_KEY not in line, process.pid
    environ = Path(f"/proc/{served.pid}/environ").read_bytes()
    assert VICTIM_KEY.encode() not in environ and ATTACKER_KEY.encode() not in environ


def test_killing_a_sandbox_ends_every_process_it_started(served: Served) -> None:
    with served.client() as client:
        sb = client.sandbox.sandboxes.create(**LOCATION)
        sb.create_code_context()
        sb.run_command("sh", ["-c", "setsid sleep 300 >/dev/null 2>&1 & nohup sleep 301 >/dev/null 2>&1 &"])
        sb.run_command("sh", ["-c", "(setsid sh -c 'sleep 302' &) ; true"])
        time.sleep(0.3)
        assert len(_sandbox_processes(sb.sandbox_id)) >= 3
        client.sandbox.sandboxes.kill(sb.sandbox_id)
        deadline = time.monotonic() + 10
        while _sandbox_processes(sb.sandbox_id):
            assert time.monotonic() < deadline, _sandbox_processes(sb.sandbox_id)
            time.sleep(0.05)
        assert not (served.data_dir / "sandboxes" / sb.sandbox_id).exists()
    assert served.healthy()


def test_memory_guard_counts_detached_processes(served: Served) -> None:
    hog = (
        "import os, time\n"
        "for _ in range(3):\n"
        "    if os.fork() == 0:\n"
        "        os.setsid()\n"
        "        block = bytearray(450 * 1024 * 1024)\n"
        "        for i in range(0, len(block), 4096): block[i] = 1\n"
        "        time.sleep(60)\n"
        "        os._exit(0)\n"
    )
    with served.client() as client, client.sandbox.sandboxes.create(**LOCATION) as sb:
        sb.filesystem.write("hog.py", hog)
        sb.run_command("python3", ["hog.py"], timeout=30)
        deadline = time.monotonic() + 20
        while True:
            alive = [
                p
                for p in _sandbox_processes(sb.sandbox_id)
                if "hog.py" in " ".join(psutil.Process(p).cmdline())
            ]
            if len(alive) < 3:
                break
            assert time.monotonic() < deadline, "three detached 450 MB processes outlived the 1024 MB limit"
            time.sleep(0.2)
        assert sb.run_command("echo", ["still", "usable"]).stdout == "still usable\n"
    assert served.healthy()


BOUNDED = [s for s in SETTINGS if s.expected != "best-effort"]  # best-effort promises no file boundary


@pytest.mark.parametrize("served", BOUNDED, ids=[s.name for s in BOUNDED], indirect=True)
def test_files_api_race_with_symlink_swaps(served: Served) -> None:
    """The sandbox swaps a directory for a link to the host's data directory while the API writes into it."""
    swapper = (
        "import ctypes, os, sys\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "os.makedirs('d', exist_ok=True)\n"
        "if not os.path.lexists('l'): os.symlink(sys.argv[1], 'l')\n"
        "for _ in range(20000):\n"
        "    libc.syscall(316, -100, b'd', -100, b'l', 2)  # renameat2(RENAME_EXCHANGE)\n"
    )
    with served.client() as client, client.sandbox.sandboxes.create(**LOCATION) as sb:
        sb.filesystem.write("swap.py", swapper)
        stop = threading.Event()
        errors: list[BaseException] = []

        def write_loop() -> None:
            i = 0
            while not stop.is_set():
                with contextlib.suppress(GravixLayerError):
                    sb.filesystem.write(f"d/pwned-{i}.txt", "x")
                    sb.filesystem.list("d")
                    sb.filesystem.delete(f"d/pwned-{i}.txt")
                i += 1

        writer = threading.Thread(target=write_loop)
        writer.start()
        try:
            sb.run_command("python3", ["swap.py", str(served.data_dir)], timeout=60)
        finally:
            stop.set()
            writer.join()
        assert not errors
        planted = [p.name for p in served.data_dir.iterdir() if p.name.startswith("pwned")]
        assert planted == []
    assert served.healthy()


@pytest.mark.parametrize(
    "setting", [s for s in SETTINGS if s.name in ("root-auto", "user-auto")], ids=lambda s: s.name
)
def test_disk_limit_holds_and_private_tmp_goes_with_the_sandbox(setting: Setting) -> None:
    with serve(setting, sandbox_disk_mb="64") as served, served.client() as client:
        sb = client.sandbox.sandboxes.create(**LOCATION)
        with pytest.raises(GravixLayerError) as refused:
            sb.filesystem.write("big.bin", b"\0" * (80 * 1024 * 1024))
        assert getattr(refused.value, "status_code", None) == 507
        run = sb.run_command("sh", ["-c", "head -c 100000000 /dev/zero > big.bin; echo $?"], timeout=60)
        assert run.stdout.strip() != "0"  # the write itself stopped at the limit
        sb.run_command(
            "sh",
            ["-c", "head -c 40000000 /dev/zero > a.bin; head -c 40000000 /dev/zero > b.bin; sleep 5"],
            timeout=60,
        )
        time.sleep(3)
        with pytest.raises(GravixLayerError) as full:
            sb.filesystem.write("more.bin", b"\0" * (1024 * 1024))
        assert getattr(full.value, "status_code", None) == 507
        tmp = sb.run_command("sh", ["-c", "head -c 80000000 /dev/zero > /tmp/t.bin; echo $?"], timeout=60)
        assert tmp.stdout.strip() != "0"  # /tmp is a memory file system within the same limit
        client.sandbox.sandboxes.kill(sb.sandbox_id)
        assert served.healthy()


@pytest.mark.parametrize("setting", [s for s in SETTINGS if s.name in ("root-auto",)], ids=lambda s: s.name)
def test_commands_as_the_platform_runs_them(setting: Setting) -> None:
    with (
        serve(setting) as served,
        served.client() as client,
        client.sandbox.sandboxes.create(**LOCATION) as sb,
    ):
        url = f"{served.base_url}/v1/agents/sandboxes/{sb.sandbox_id}/commands/run"
        answer = httpx.post(url, json={"command": "ls -la /home/user", "args": []},
                            headers={"Authorization": f"Bearer {ATTACKER_KEY}"}, timeout=60)  # fmt: skip
        assert answer.status_code == 200 and answer.json()["exit_code"] == 0, answer.text
        assert sb.run_command("pwd").stdout == "/home/user\n"
        venv = sb.run_command(
            "python3 -m venv --without-pip /home/user/venv && /home/user/venv/bin/python -c 'print(1)'",
            timeout=120,
        )
        assert venv.stdout == "1\n", venv.stderr


def _tun_usable_by_others() -> bool:
    return os.path.exists("/dev/net/tun") and (os.stat("/dev/net/tun").st_mode & 0o006) == 0o006


NET_PROBE = """
import socket
names = [n for _, n in socket.if_nameindex()]
reached = []
for host in ("127.0.0.1", "10.0.2.2"):
    try:
        socket.create_connection((host, PORT), timeout=3).close()
        reached.append(host)
    except OSError:
        pass
print(names, reached)
"""


@pytest.mark.parametrize("setting", [s for s in SETTINGS if s.name in ("root-auto", "user-auto")], ids=lambda s: s.name)
def test_internet_access_never_reaches_the_hosts_loopback(setting: Setting) -> None:
    with serve(setting) as served, served.client() as client:
        probe = NET_PROBE.replace("PORT", str(served.port))
        with client.sandbox.sandboxes.create(**LOCATION) as closed:
            assert closed.run_code(probe).stdout == "['lo'] []"
        if not setting.root and not _tun_usable_by_others():
            with pytest.raises(GravixLayerError) as refused:  # refused, never the host network shared
                client.sandbox.sandboxes.create(**LOCATION, internet_access=True)
            assert getattr(refused.value, "status_code", None) == 400 and "/dev/net/tun" in str(refused.value)
            return
        with client.sandbox.sandboxes.create(**LOCATION, internet_access=True) as opened:
            assert opened.info.internet_access is True
            # An interface with a route out, and still no way to the host's 127.0.0.1 (Local itself).
            assert opened.run_code(probe).stdout == "['lo', 'tap0'] []"
        assert served.healthy()


AS_ROOT = [s for s in SETTINGS if s.root]  # a non-root Local cannot make cgroups: rlimits and the guard hold


@pytest.mark.parametrize("served", AS_ROOT, ids=[s.name for s in AS_ROOT], indirect=True)
def test_a_cgroup_holds_every_process_where_the_host_allows(served: Served) -> None:
    """As root (cgroups writable here), every process of a sandbox is in its cgroup, which goes at kill."""
    with served.client() as client:
        sb = client.sandbox.sandboxes.create(**LOCATION)
        sb.run_command("sh", ["-c", "setsid sleep 60 >/dev/null 2>&1 &"])
        time.sleep(0.2)
        found = [p for p in Path("/sys/fs/cgroup").glob(f"**/gravixlayer-sandbox-{sb.sandbox_id}")]
        assert found, "no cgroup was made for the sandbox"
        members = {int(pid) for directory in found for pid in (directory / "cgroup.procs").read_text().split()}
        assert set(_sandbox_processes(sb.sandbox_id)) <= members
        memory = [d for d in found if (d / "memory.limit_in_bytes").exists() or (d / "memory.max").exists()]
        assert memory, "the sandbox's cgroup has no memory limit"
        client.sandbox.sandboxes.kill(sb.sandbox_id)
        assert not any(p.exists() for p in found)


PLANT = """
import os, sys
victim = sys.argv[1]
planted = []
for link in ("link-a", "/tmp/link-b"):
    try:
        os.symlink(victim, link)
        planted.append(link)
    except OSError:
        pass
# Without a mount namespace the sandbox's own directory is its "/": try to swap what Local made there.
for name in ("tmp", "home/user"):
    target = os.path.join(os.environ.get("GLX_ROOT", "/"), name)
    try:
        os.rename(target, target + ".moved")
        os.symlink(victim, target)
        planted.append(target)
    except OSError:
        pass
print(planted)
"""


RESTARTED = [s for s in SETTINGS if s.name in ("root-auto", "root-landlock", "user-landlock")]


@pytest.mark.parametrize("setting", RESTARTED, ids=[s.name for s in RESTARTED])
def test_links_planted_for_the_next_start_are_never_followed(setting: Setting, tmp_path: Path) -> None:
    """Sandbox code plants links where Local works; Local restarts, uses and kills the sandbox: the victim
    directory (private, with a file) keeps its mode, owner and contents."""
    import pwd as _pwd
    import shutil as _shutil
    import tempfile as _tempfile

    from .conftest import TEST_USER

    victim = Path(_tempfile.mkdtemp(prefix="glx-victim-"))
    (victim / "keep.txt").write_text("intact")
    if not setting.root:
        user = _pwd.getpwnam(TEST_USER)
        os.chown(victim, user.pw_uid, user.pw_gid)
    os.chmod(victim, 0o700)
    before = os.stat(victim)
    home = Path(_tempfile.mkdtemp(prefix=f"glx-restart-{setting.name}-"))
    try:
        with serve(setting, reuse=home) as served, served.client() as client:
            sb = client.sandbox.sandboxes.create(**LOCATION, timeout=600)
            root = served.data_dir / "sandboxes" / sb.sandbox_id
            sb.filesystem.write("plant.py", PLANT)
            env = {} if setting.expected.startswith("namespaces") else {"GLX_ROOT": str(root)}
            sb.run_command("python3", ["plant.py", str(victim)], env_vars=env)
        with serve(setting, reuse=home) as served, served.client() as client:
            again = client.sandbox.sandboxes.get(sb.sandbox_id)
            for use in (lambda: again.run_command("true"), lambda: again.filesystem.write("after.txt", "x")):
                try:
                    use()
                except GravixLayerError as exc:  # a sandbox that swapped its own home broke only itself
                    assert 400 <= (getattr(exc, "status_code", None) or 0) < 500, exc
            client.sandbox.sandboxes.kill(sb.sandbox_id)
            assert served.healthy()
        after = os.stat(victim)
        assert (after.st_mode, after.st_uid, after.st_gid) == (before.st_mode, before.st_uid, before.st_gid)
        assert sorted(p.name for p in victim.iterdir()) == ["keep.txt"]
        assert (victim / "keep.txt").read_text() == "intact"
    finally:
        _shutil.rmtree(home, ignore_errors=True)
        _shutil.rmtree(victim, ignore_errors=True)
