"""Outbound network for a sandbox that asks for it (``internet_access=True``): slirp4netns.

The sandbox keeps its own network namespace; slirp4netns gives it a user-space NAT to the outside
world with ``--disable-host-loopback``, so the host's ``127.0.0.1`` (Local itself, databases, other
services) stays unreachable. Without slirp4netns the create is refused; the host network is never shared.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import shutil
import subprocess

from .channel import AgentChannel

__all__ = ["start_network"]

READY_TIMEOUT = 10.0
_NS_GET_USERNS = 0xB701


def _agent_host_pid(channel: AgentChannel) -> int:
    import psutil

    outer = psutil.Process(channel.process.pid)
    for inner in outer.children():
        for child in inner.children():
            return int(child.pid)
        return int(inner.pid)
    raise OSError("the sandbox's processes were not found")


async def start_network(channel: AgentChannel) -> subprocess.Popen[bytes]:
    slirp = shutil.which("slirp4netns")
    if slirp is None:
        raise OSError("slirp4netns is not installed")
    pid = _agent_host_pid(channel)
    ready_read, ready_write = os.pipe()
    keep = [ready_write]
    argv = [slirp, "--configure", "--mtu=65520", "--disable-host-loopback", "--ready-fd", str(ready_write)]
    try:
        if os.geteuid() != 0:
            # The network namespace belongs to the user namespace bubblewrap made first (the sandbox itself
            # runs in a nested one, --disable-userns): slirp4netns must join that owner.
            with open(f"/proc/{pid}/ns/net", "rb") as netns:
                owner = fcntl.ioctl(netns.fileno(), _NS_GET_USERNS)
            keep.append(owner)
            argv += [f"--userns-path=/proc/self/fd/{owner}", "--netns-type=path", f"/proc/{pid}/ns/net", "tap0"]
        else:
            argv += [str(pid), "tap0"]
        process = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            pass_fds=keep, start_new_session=True,
        )  # fmt: skip
    finally:
        for fd in keep:
            os.close(fd)
    try:
        ready = await asyncio.wait_for(asyncio.to_thread(os.read, ready_read, 1), READY_TIMEOUT)
    except asyncio.TimeoutError:
        ready = b""
    finally:
        os.close(ready_read)
    if ready != b"1":
        process.kill()
        error = process.stderr.read(2000).decode(errors="replace") if process.stderr else ""
        raise OSError(f"slirp4netns did not start: {error.strip() or 'no answer'}")
    return process
