"""Local's side of a sandbox agent: the control socket, and processes started through it.

`AgentChannel.start` launches the agent (see ``isolation.launch``) with one end of a ``SOCK_SEQPACKET``
socket pair and waits for its ready message. Requests are JSON messages answered in order by the
single-threaded agent; descriptors travel as ``SCM_RIGHTS``. A process the agent starts is a
`SandboxProcess`: Local holds the other ends of its pipes, wrapped as asyncio streams, and learns its
exit status from the agent's ``exit`` events.
"""

from __future__ import annotations

import array
import asyncio
import contextlib
import itertools
import json
import logging
import os
import signal
import socket
import subprocess
from collections.abc import Sequence
from typing import Any

from ..errors import LocalAPIError
from .isolation import Launch
from .pipes import PipeWriter, read_pipe

__all__ = ["AgentChannel", "SandboxProcess", "AgentError", "AgentGone"]

log = logging.getLogger("gravixlayer.local.sandbox")

MAX_FRAME = 256 * 1024
START_TIMEOUT = 30.0


class AgentGone(Exception):
    """The agent (and with it the sandbox's processes) is gone."""


class AgentError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class SandboxProcess:
    """A process inside the sandbox, seen from Local: pipes, pid (as the sandbox numbers it), status."""

    def __init__(self, channel: AgentChannel, pid: int) -> None:
        self.channel = channel
        self.pid = pid
        self.returncode: int | None = None
        self.stdin: PipeWriter | None = None
        self.stdout: asyncio.StreamReader | None = None
        self.stderr: asyncio.StreamReader | None = None
        self._exited = asyncio.get_running_loop().create_future()

    def _set_exit(self, status: int) -> None:
        if self.returncode is None:
            self.returncode = status
        if not self._exited.done():
            self._exited.set_result(status)

    async def wait(self) -> int:
        return await asyncio.shield(self._exited)

    async def signal(self, signum: int, *, group: bool = True) -> None:
        with contextlib.suppress(AgentGone, AgentError):
            await self.channel.request(
                {"op": "signal", "pid": self.pid, "signal": int(signum), "group": group}
            )


class AgentChannel:
    """One running agent: its process, its control socket, the processes it started."""

    def __init__(self, process: subprocess.Popen[bytes], sock: socket.socket, launch: Launch) -> None:
        self.process = process
        self.sock = sock
        self.launch = launch
        self.loop = asyncio.get_running_loop()
        self.ids = itertools.count(1)
        self.pending: dict[int, tuple[asyncio.Future[Any], list[dict[str, Any]]]] = {}
        self.processes: dict[int, SandboxProcess] = {}
        self.unclaimed: dict[int, int] = {}
        self.closed = False
        self.ready: asyncio.Future[dict[str, Any]] = self.loop.create_future()
        self.agent_pid = -1
        """The agent's pid as the sandbox numbers it."""
        self.lock = asyncio.Lock()
        sock.setblocking(False)
        self.loop.add_reader(sock.fileno(), self._readable)

    @classmethod
    async def start(cls, make_launch: Any, *, join: Any = None) -> AgentChannel:
        """Start the agent; `make_launch(control_fd)` returns the `Launch` to use; `join` (in the child,
        before anything else) moves it into the sandbox's cgroup."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        launch: Launch | None = None
        try:
            launch = make_launch(theirs.fileno())
            assert launch is not None
            preexec = launch.preexec
            if join is not None:
                inner = preexec

                def preexec() -> None:
                    join()
                    if inner is not None:
                        inner()

            process = subprocess.Popen(
                launch.argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                pass_fds=launch.pass_fds, preexec_fn=preexec, close_fds=True, cwd="/",
                env={"PATH": os.environ.get("PATH", os.defpath), "LANG": "C.UTF-8"},
            )  # fmt: skip
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
            if launch is not None:
                for fd in launch.close_after_start:
                    with contextlib.suppress(OSError):
                        os.close(fd)
                for cleanup in launch.cleanup:
                    cleanup()
        channel = cls(process, ours, launch)
        try:
            await asyncio.wait_for(asyncio.shield(channel.ready), START_TIMEOUT)
        except (asyncio.TimeoutError, AgentGone):
            stderr = await channel.close_and_read_error()
            raise AgentGone(f"the sandbox environment did not start: {stderr or 'no answer'}") from None
        return channel

    async def close_and_read_error(self) -> str:
        await self.kill()
        assert self.process.stderr is not None
        data = await asyncio.to_thread(self.process.stderr.read, 4000)
        return data.decode(errors="replace").strip()

    # -- socket ------------------------------------------------------------------------------------------

    def _readable(self) -> None:
        while True:
            fds = array.array("i")
            try:
                data, ancdata, _flags, _addr = self.sock.recvmsg(
                    MAX_FRAME, socket.CMSG_SPACE(16 * fds.itemsize)
                )
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                data, ancdata = b"", []
            for level, kind, payload in ancdata:
                if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                    fds.frombytes(payload[: len(payload) - (len(payload) % fds.itemsize)])
            if not data:
                for fd in fds:
                    os.close(fd)
                self._gone()
                return
            try:
                message = json.loads(data)
            except ValueError:
                for fd in fds:
                    os.close(fd)
                continue
            self._dispatch(message, list(fds))

    def _dispatch(self, message: dict[str, Any], fds: list[int]) -> None:
        event = message.get("event")
        if event == "exit":
            pid, status = int(message.get("pid", -1)), int(message.get("status", -1))
            process = self.processes.pop(pid, None)
            if process is not None:
                process._set_exit(status)
            else:  # ended before its spawn answer was read by the waiting coroutine
                self.unclaimed[pid] = status
            return
        if event == "ready":
            if not self.ready.done():
                self.agent_pid = int(message.get("pid", -1))
                self.ready.set_result(message)
            return
        waiter = self.pending.get(message.get("id"))  # type: ignore[arg-type]
        if waiter is None:
            for fd in fds:
                os.close(fd)
            return
        future, frames = waiter
        if fds:
            message["fds"] = fds
        frames.append(message)
        if not message.get("more"):
            del self.pending[message["id"]]
            if not future.done():
                future.set_result(frames)
            else:
                for frame in frames:
                    for fd in frame.get("fds", []):
                        os.close(fd)

    def _gone(self) -> None:
        if self.closed:
            return
        self.closed = True
        with contextlib.suppress(Exception):
            self.loop.remove_reader(self.sock.fileno())
        with contextlib.suppress(OSError):
            self.sock.close()
        for future, _frames in self.pending.values():
            if not future.done():
                future.set_exception(AgentGone("the sandbox environment has ended"))
        self.pending.clear()
        if not self.ready.done():
            self.ready.set_exception(AgentGone("the sandbox environment has ended"))
            self.ready.exception()
        for process in list(self.processes.values()):
            process._set_exit(-signal.SIGKILL)
        self.processes.clear()

    async def _send(self, data: bytes, fds: Sequence[int]) -> None:
        ancillary = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))] if fds else []
        while True:
            if self.closed:
                raise AgentGone("the sandbox environment has ended")
            try:
                self.sock.sendmsg([data], ancillary)
                return
            except (BlockingIOError, InterruptedError):
                ready = self.loop.create_future()
                self.loop.add_writer(self.sock.fileno(), ready.set_result, None)
                try:
                    await ready
                finally:
                    self.loop.remove_writer(self.sock.fileno())
            except OSError:
                self._gone()
                raise AgentGone("the sandbox environment has ended") from None

    async def request_frames(self, message: dict[str, Any], fds: Sequence[int] = ()) -> list[dict[str, Any]]:
        ident = next(self.ids)
        future: asyncio.Future[list[dict[str, Any]]] = self.loop.create_future()
        self.pending[ident] = (future, [])
        try:
            await self._send(json.dumps({**message, "id": ident}).encode(), fds)
        except BaseException:
            self.pending.pop(ident, None)
            raise
        frames = await future
        last = frames[-1]
        if "error" in last:
            for frame in frames:
                for fd in frame.get("fds", []):
                    os.close(fd)
            raise AgentError(str(last["error"]), str(last.get("message", "")))
        return frames

    async def request(self, message: dict[str, Any], fds: Sequence[int] = ()) -> dict[str, Any]:
        return (await self.request_frames(message, fds))[-1]

    # -- processes ---------------------------------------------------------------------------------------

    async def spawn(
        self, argv: Sequence[str], *, cwd: str, env: dict[str, str], stdin: bool, capture_stderr: bool,
        cpu_seconds: float | None = None, limit: int = 2**16,
    ) -> SandboxProcess:  # fmt: skip
        """Start `argv` inside the sandbox in its own session; stdout (and stderr) come back as streams."""
        ours: list[int] = []
        theirs: list[int] = []
        try:
            if stdin:
                in_read, in_write = os.pipe()
                ours.append(in_write)
                theirs.append(in_read)
            else:
                theirs.append(os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC))
            out_read, out_write = os.pipe()
            ours.append(out_read)
            theirs.append(out_write)
            if capture_stderr:
                err_read, err_write = os.pipe()
                ours.append(err_read)
                theirs.append(err_write)
            else:
                theirs.append(os.open(os.devnull, os.O_WRONLY | os.O_CLOEXEC))
            answer = await self.request(
                {"op": "spawn", "argv": list(argv), "cwd": cwd, "env": env, "cpu_seconds": cpu_seconds},
                theirs,
            )
        except BaseException:
            for fd in ours:
                os.close(fd)
            raise
        finally:
            for fd in theirs:
                os.close(fd)
        process = SandboxProcess(self, int(answer["pid"]))
        if process.pid in self.unclaimed:
            process._set_exit(self.unclaimed.pop(process.pid))
        else:
            self.processes[process.pid] = process
        index = 0
        if stdin:
            process.stdin = PipeWriter(self.loop, ours[0])
            index = 1
        process.stdout = read_pipe(self.loop, ours[index], limit)
        if capture_stderr:
            process.stderr = read_pipe(self.loop, ours[index + 1], limit)
        return process

    # -- ending ------------------------------------------------------------------------------------------

    async def kill(self) -> None:
        """End the agent and, with it, every process of the sandbox (namespace teardown)."""
        with contextlib.suppress(ProcessLookupError):
            self.process.kill()
        await asyncio.to_thread(self.process.wait)
        self._gone()


def error_for(exc: AgentError, path: Any = None) -> LocalAPIError:
    """An agent refusal as the API's answer (always a 4xx: the caller named something that cannot be)."""
    where = f"{path!r}: " if path is not None and repr(path) not in exc.message else ""
    message = where + exc.message
    if exc.code == "ENOENT":
        return LocalAPIError(404, "not_found", message or f"no such file or directory: {path!r}")
    if exc.code in ("EISDIR",):
        return LocalAPIError(400, "is_a_directory", message)
    if exc.code in ("ENOTDIR",):
        return LocalAPIError(400, "not_a_directory", message)
    if exc.code == "EEXIST":
        return LocalAPIError(409, "conflict", message)
    if exc.code in ("ENOSPC", "EDQUOT", "EFBIG"):
        return LocalAPIError(507, "insufficient_storage", message)
    if exc.code == "EINVAL" and "not a regular file" in exc.message:
        return LocalAPIError(400, "not_a_file", message)
    return LocalAPIError(400, "invalid_path", message)
