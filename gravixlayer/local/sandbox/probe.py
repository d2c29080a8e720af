"""Which isolation mode really holds on this host, found once by trying each with a real sandbox.

A mode counts only if, from inside a sandbox started that way, a canary file of the server cannot be
read and a loopback "bait" port of the server cannot be reached; ``namespaces`` also needs ``/proc`` to
show only the sandbox's own processes, ``namespaces-no-proc`` needs ``/proc`` absent. The first mode
(strongest first) that passes is used; a weaker one is logged as a warning.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
import shutil
import socket
from pathlib import Path

from .channel import AgentChannel, AgentError, AgentGone
from .files import SandboxFiles
from .isolation import BEST_EFFORT, LANDLOCK, MODES, NAMESPACES, NAMESPACES_NO_PROC, Limits, Mode, launch

__all__ = ["choose_mode", "check_mode"]

log = logging.getLogger("gravixlayer.local.sandbox")

_CHECK = r"""
import json, os, socket, sys
canary, port = sys.argv[1], int(sys.argv[2])
found = {}
try:
    with open(canary) as f:
        found["canary"] = f.read() != ""
except OSError:
    found["canary"] = False
try:
    s = socket.create_connection(("127.0.0.1", port), timeout=2)
    s.close()
    found["bait"] = True
except OSError:
    found["bait"] = False
try:
    pids = [n for n in os.listdir("/proc") if n.isdigit()]
    found["proc"] = "own" if len(pids) < 16 else "host"
except OSError:
    found["proc"] = "none"
sys.stdout.write(json.dumps(found))
"""


async def check_mode(mode: Mode, workdir: Path, uid: int | None) -> tuple[bool, str]:
    """Whether `mode` works here and holds its promises; the reason when it does not."""
    directory = workdir / f"probe-{secrets.token_hex(4)}"
    canary = workdir / f"canary-{secrets.token_hex(4)}"
    bait = socket.socket()
    channel: AgentChannel | None = None
    try:
        canary.write_text("secret")
        os.chmod(canary, 0o644)
        bait.bind(("127.0.0.1", 0))
        bait.listen(1)
        files = SandboxFiles(directory)
        files.create((uid, uid) if uid is not None else None)
        channel = await AgentChannel.start(lambda fd: launch(mode, directory, uid, Limits(), fd))
        launch_ = channel.launch
        process = await channel.spawn(
            [launch_.python, "-I", "-S", "-c", _CHECK, str(canary), str(bait.getsockname()[1])],
            cwd=launch_.home, env={"PATH": "/usr/bin:/bin", "HOME": launch_.home}, stdin=False,
            capture_stderr=True,
        )  # fmt: skip
        assert process.stdout is not None and process.stderr is not None
        out, err, _status = await asyncio.wait_for(
            asyncio.gather(process.stdout.read(), process.stderr.read(), process.wait()), 30
        )
        try:
            found = json.loads(out)
        except ValueError:
            return False, f"the check did not run: {err.decode(errors='replace')[-300:]}"
        if mode == BEST_EFFORT:
            return True, ""
        if found.get("canary"):
            return False, "a host file was readable from inside"
        if found.get("bait"):
            return False, "the host's loopback was reachable from inside"
        if mode == NAMESPACES and found.get("proc") != "own":
            return False, f"/proc shows {found.get('proc')} processes"
        if mode == NAMESPACES_NO_PROC and found.get("proc") == "host":
            return False, "/proc shows the host's processes"
        return True, ""
    except (OSError, AgentGone, AgentError, asyncio.TimeoutError) as exc:
        return False, str(exc) or type(exc).__name__
    finally:
        if channel is not None:
            await channel.kill()
        bait.close()
        with contextlib.suppress(OSError):
            canary.unlink()
        await asyncio.to_thread(shutil.rmtree, directory, True)


async def choose_mode(requested: str, workdir: Path, uid: int | None) -> tuple[Mode | None, str]:
    """The mode to use (None: none acceptable) and a one-line account of the choice."""
    candidates = list(MODES) if requested in ("auto", "require") else [requested]
    if requested == "require":
        candidates = [NAMESPACES]
    reasons: list[str] = []
    for mode in candidates:
        ok, why = await check_mode(mode, workdir, uid)
        if ok:
            note = f"sandbox isolation: {mode}"
            if reasons:
                note += " (" + "; ".join(reasons) + ")"
            return mode, note
        reasons.append(f"{mode}: {why}")
    return None, "no sandbox isolation mode works here: " + "; ".join(reasons)


def weak(mode: Mode) -> bool:
    return mode in (LANDLOCK, BEST_EFFORT)
