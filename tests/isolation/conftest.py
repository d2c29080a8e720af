"""GravixLayer Local started the way users start it, as root and as an unprivileged user, per isolation mode.

Each setting runs ``python -m gravixlayer.local`` in its own process with two tenants' keys passed through
the environment (never on a command line), a data directory of its own and, for the non-root settings, as a
user this fixture creates. Where a setting cannot be made here (no root, no useradd, no interpreter the
unprivileged user can run), the test fails and says why: CI must not pass by skipping the attacks.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from gravixlayer import GravixLayer

REPO = Path(__file__).resolve().parents[2]
TEST_USER = "glx-sandbox-test"
VICTIM_KEY = "victim-key-5c1e7a0b9d"
ATTACKER_KEY = "attacker-key-77f3c2a1e4"


@dataclass(frozen=True)
class Setting:
    name: str
    root: bool
    mode: str
    """The ``--sandbox-isolation`` value given."""
    expected: str
    """The mode that must be in force."""


SETTINGS = [
    Setting("root-auto", True, "auto", "namespaces"),
    Setting("root-require", True, "require", "namespaces"),
    Setting("root-no-proc", True, "namespaces-no-proc", "namespaces-no-proc"),
    Setting("root-landlock", True, "landlock", "landlock"),
    Setting("root-best-effort", True, "best-effort", "best-effort"),
    Setting("user-auto", False, "auto", "namespaces"),
    Setting("user-landlock", False, "landlock", "landlock"),
    Setting("user-best-effort", False, "best-effort", "best-effort"),
]


@dataclass
class Served:
    setting: Setting
    base_url: str
    port: int
    pid: int
    data_dir: Path
    process: subprocess.Popen[bytes]

    def client(self, key: str = ATTACKER_KEY) -> GravixLayer:
        return GravixLayer(api_key=key, base_url=self.base_url, max_retries=0, timeout=120)

    def healthy(self) -> bool:
        try:
            return httpx.get(self.base_url + "/health", timeout=10).status_code == 200
        except httpx.HTTPError:
            return False


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _unprivileged_python() -> tuple[str, str]:
    """An interpreter the test user can run, and a PYTHONPATH giving it this project and its packages."""
    import sysconfig

    site = sysconfig.get_paths()["purelib"]
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    for candidate in (sys.executable, f"/usr/bin/python{version}", "/usr/local/bin/python" + version):
        if not os.path.exists(candidate):
            continue
        user = pwd.getpwnam(TEST_USER)
        try:
            probe = subprocess.run(
                [candidate, "-c", "import sys; print(sys.version_info[:2])"], capture_output=True, text=True,
                check=False, env={"PATH": "/usr/bin:/bin"}, user=user.pw_uid, group=user.pw_gid, extra_groups=[],
                cwd="/",
            )  # fmt: skip
        except OSError:
            continue
        if probe.returncode == 0 and probe.stdout.strip() == str(tuple(sys.version_info[:2])):
            return candidate, os.pathsep.join([str(REPO), site])
    pytest.fail(
        f"no Python {version} that the unprivileged user {TEST_USER} can run (tried {sys.executable} and "
        f"/usr/bin/python{version}): install Debian's python{version} or a Python outside a private home"
    )


def _ensure_user() -> None:
    try:
        pwd.getpwnam(TEST_USER)
        return
    except KeyError:
        pass
    useradd = shutil.which("useradd") or next(
        (p for p in ("/usr/sbin/useradd", "/sbin/useradd") if os.path.exists(p)), None
    )
    if useradd is None:
        pytest.fail("useradd is missing: the non-root sandbox tests need an unprivileged user")
    done = subprocess.run(
        [useradd, "--system", "--no-create-home", TEST_USER], capture_output=True, check=False
    )
    if done.returncode != 0:
        pytest.fail(f"cannot create the test user {TEST_USER}: {done.stderr.decode(errors='replace')}")


@contextlib.contextmanager
def serve(setting: Setting, *, reuse: Path | None = None, **options: str) -> Iterator[Served]:
    """Local in its own process; `reuse` (a directory made by an earlier `serve`) restarts on its data."""
    if os.geteuid() != 0:
        pytest.fail("the isolation suite runs as root (it also creates an unprivileged user to run Local as)")
    data_dir = reuse or Path(tempfile.mkdtemp(prefix=f"glx-iso-{setting.name}-"))
    os.chmod(data_dir, 0o700)
    port = _free_port()
    argv = ["-m", "gravixlayer.local", "--port", str(port), "--data-dir", str(data_dir / "data")]
    argv += ["--sandbox-isolation", setting.mode, "--log-level", "warning"]
    for name, value in options.items():
        argv += [f"--{name.replace('_', '-')}", value]
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "GRAVIXLAYER_LOCAL_API_KEYS": f"{VICTIM_KEY}\n{ATTACKER_KEY}",
        "HOME": str(data_dir),
    }
    as_user: dict[str, object] = {}
    if setting.root:
        command = [sys.executable, *argv]
        env["PYTHONPATH"] = str(REPO)
    else:
        _ensure_user()
        python, path = _unprivileged_python()
        user = pwd.getpwnam(TEST_USER)
        os.chown(data_dir, user.pw_uid, user.pw_gid)
        env["PYTHONPATH"] = path
        command = [python, *argv]
        as_user = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
    log = open(data_dir.parent / f"{data_dir.name}.log", "wb")
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd="/", **as_user)  # type: ignore[call-overload]
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(base_url + "/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                log.flush()
                text = Path(log.name).read_text(errors="replace")[-2000:]
                pytest.fail(f"GravixLayer Local ({setting.name}) did not start: {text}")
            time.sleep(0.1)
        yield Served(setting, base_url, port, process.pid, data_dir / "data", process)
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        if reuse is None:
            shutil.rmtree(data_dir, ignore_errors=True)
        with contextlib.suppress(OSError):
            os.unlink(log.name)


@pytest.fixture(scope="module", params=SETTINGS, ids=[s.name for s in SETTINGS])
def served(request: pytest.FixtureRequest) -> Iterator[Served]:
    with serve(request.param) as server:
        yield server
