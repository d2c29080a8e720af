"""SSH into a sandbox (spec §8.9): one real SSH server per sandbox that asked for it, on a Local port.

`enable` starts an asyncssh server on a free port of Local's host address and makes an Ed25519 key pair;
only that key logs in (passwords and keyboard-interactive are refused), as the user ``user``. Every
session, ``exec`` request or shell, is a process started through the sandbox's agent, so it runs inside
the sandbox's isolation as its user with the sandbox's environment, starting in ``/home/user``. A shell
with a terminal gets a pseudo-terminal *inside* the sandbox (a small Python relay started there; where the
mode has no pseudo-terminals, as in ``landlock``, the shell runs without one and says so). Port
forwarding, agent forwarding, X11 and SFTP are refused: the only way in is a process in the sandbox.

SSH is refused in the ``best-effort`` mode, where a session would be an unconfined process on the host.
The server of a sandbox stops when the sandbox stops (kill, timeout, Local stopping) or on `disable`.
asyncssh is imported only when a server starts, so Local without it still runs everything else.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from ..errors import LocalAPIError
from .channel import AgentError, AgentGone, SandboxProcess
from .isolation import BEST_EFFORT
from .runtime import Runtime

__all__ = ["SSHService", "USERNAME"]

log = logging.getLogger("gravixlayer.local.sandbox")

USERNAME = "user"
CHUNK = 65536

# Runs inside the sandbox: a shell on a new pseudo-terminal of the sandbox, its size set before the shell
# starts, bytes relayed between the agent's pipes and the terminal; exits with the shell's status.
PTY_RELAY = r"""
import fcntl, os, pty, select, struct, sys, termios
rows, cols = int(sys.argv[1]), int(sys.argv[2])
try:
    pid, fd = pty.fork()
except OSError as exc:  # no pseudo-terminals here (landlock): the same shell without one
    os.write(1, ("gravixlayer-local: no terminal in this sandbox (%s); shell without one\r\n" % exc).encode())
    os.dup2(1, 2)
    os.execvp(sys.argv[3], sys.argv[3:])
if pid == 0:
    try:
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    except OSError:
        pass
    os.execvp(sys.argv[3], sys.argv[3:])
inputs = [0, fd]
while True:
    try:
        ready = select.select(inputs, [], [])[0]
    except InterruptedError:
        continue
    if fd in ready:
        try:
            data = os.read(fd, 65536)
        except OSError:
            data = b""
        if not data:
            break
        os.write(1, data)
    if 0 in ready:
        data = os.read(0, 65536)
        if data:
            os.write(fd, data)
        else:
            inputs.remove(0)
_pid, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status) & 0xFF if os.waitstatus_to_exitcode(status) >= 0
         else 128 - os.waitstatus_to_exitcode(status))
"""


@dataclass
class SSHState:
    """The SSH server of one sandbox."""

    sandbox_id: str
    server: Any
    host: str
    port: int
    private_key: Any
    sessions: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def fingerprint(self) -> str:
        return str(self.private_key.get_fingerprint("sha256"))

    def private_key_text(self) -> str:
        return bytes(self.private_key.export_private_key("openssh")).decode()

    def public_key_text(self) -> str:
        return bytes(self.private_key.export_public_key("openssh")).decode().strip()


def _asyncssh() -> Any:
    try:
        import asyncssh
    except ImportError:
        raise LocalAPIError(
            501, "ssh_unavailable",
            "SSH needs the asyncssh package on the machine running GravixLayer Local "
            "(pip install 'gravixlayer[local]')",
        ) from None  # fmt: skip
    return asyncssh


class SSHService:
    """The SSH servers of one Local. `runtime_of(sandbox_id)` gives a sandbox's live environment."""

    def __init__(self, runtime_of: Callable[[str], Awaitable[Runtime]]) -> None:
        self.runtime_of = runtime_of
        self.states: dict[str, SSHState] = {}
        self.host_key: Any = None
        self._lock = asyncio.Lock()

    def get(self, sandbox_id: str) -> SSHState | None:
        return self.states.get(sandbox_id)

    async def enable(self, sandbox_id: str, mode: str, host: str, *, regenerate: bool) -> SSHState:
        """Start (or keep) the sandbox's server; `regenerate` replaces its key (old sessions go on)."""
        if mode == BEST_EFFORT:
            raise LocalAPIError(
                400, "ssh_unavailable",
                "SSH needs a sandbox isolation mode that confines processes (namespaces or landlock); this "
                "Local runs 'best-effort', where an SSH session would be an unconfined process on this host",
            )  # fmt: skip
        asyncssh = _asyncssh()
        async with self._lock:
            state = self.states.get(sandbox_id)
            if state is not None:
                if regenerate:
                    state.private_key = asyncssh.generate_private_key("ssh-ed25519")
                return state
            if self.host_key is None:
                self.host_key = asyncssh.generate_private_key("ssh-ed25519")
            key = asyncssh.generate_private_key("ssh-ed25519")
            holder: list[SSHState] = []
            server = await asyncssh.create_server(
                lambda: _make_server(asyncssh, holder), host, 0,
                server_host_keys=[self.host_key], process_factory=lambda p: self._session(holder[0], p),
                encoding=None, line_editor=False, allow_scp=False, sftp_factory=None,
                agent_forwarding=False, x11_forwarding=False, login_timeout=30, keepalive_interval=30,
            )  # fmt: skip
            port = int(server.sockets[0].getsockname()[1])
            state = SSHState(sandbox_id, server, host, port, key)
            holder.append(state)
            self.states[sandbox_id] = state
            log.info("SSH for sandbox %s listens on %s:%d", sandbox_id, host, port)
            return state

    async def disable(self, sandbox_id: str) -> bool:
        """Stop the sandbox's server and end its sessions; False when it had none."""
        state = self.states.pop(sandbox_id, None)
        if state is None:
            return False
        state.server.close()
        for task in list(state.sessions):
            task.cancel()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(state.server.wait_closed(), 5)
        return True

    async def close(self) -> None:
        for sandbox_id in list(self.states):
            await self.disable(sandbox_id)

    # -- sessions ------------------------------------------------------------------------------------------

    async def _session(self, state: SSHState, process: Any) -> None:
        task = asyncio.current_task()
        if task is not None:
            state.sessions.add(task)
        try:
            await self._run(state, process)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                process.exit(255)
            raise
        except Exception:
            log.exception("SSH session of sandbox %s failed", state.sandbox_id)
            with contextlib.suppress(Exception):
                process.stderr.write(b"gravixlayer-local: the session failed\r\n")
                process.exit(255)
        finally:
            if task is not None:
                state.sessions.discard(task)

    async def _run(self, state: SSHState, process: Any) -> None:
        try:
            runtime = await self.runtime_of(state.sandbox_id)
        except LocalAPIError as exc:
            process.stderr.write(f"gravixlayer-local: {exc.message}\r\n".encode())
            process.exit(1)
            return
        launch = runtime.channel.launch
        command: str | None = process.command
        term = process.get_terminal_type()
        extra = {"TERM": term} if term else {}
        if command is not None:
            argv = ["/bin/sh", "-c", command]
            tty = False
        elif term:
            cols, rows = (process.get_terminal_size() or (80, 24, 0, 0))[:2]
            argv = [launch.python, "-I", "-S", "-c", PTY_RELAY, str(rows or 24), str(cols or 80), "/bin/sh", "-i"]
            tty = True
        else:  # like sshd: no terminal, the shell reads commands from the channel without prompts
            argv = ["/bin/sh"]
            tty = False
        try:
            child = await runtime.channel.spawn(
                argv, cwd=launch.home, env=runtime.environment(extra={**extra, "SHELL": "/bin/sh"}), stdin=True,
                capture_stderr=not tty,
            )  # fmt: skip
        except (AgentError, AgentGone) as exc:
            process.stderr.write(f"gravixlayer-local: the sandbox could not start a shell: {exc}\r\n".encode())
            process.exit(1)
            return
        runtime.groups.add(child.pid)
        try:
            status = await _relay(process, child)
        finally:
            runtime.groups.discard(child.pid)
            if child.returncode is None:
                await child.signal(signal.SIGKILL)
        process.exit(status if status >= 0 else 128 - status)


def _make_server(asyncssh: Any, holder: list[SSHState]) -> Any:
    """An asyncssh server that lets in only `user` with the sandbox's current key."""

    class SandboxSSHServer(asyncssh.SSHServer):  # type: ignore[misc]
        def begin_auth(self, username: str) -> bool:
            return True

        def password_auth_supported(self) -> bool:
            return False

        def kbdint_auth_supported(self) -> bool:
            return False

        def public_key_auth_supported(self) -> bool:
            return True

        def validate_public_key(self, username: str, key: Any) -> bool:
            if username != USERNAME or not holder:
                return False
            expected = holder[0].private_key.convert_to_public()
            return bool(key.public_data == expected.public_data)

    return SandboxSSHServer()


async def _relay(process: Any, child: SandboxProcess) -> int:
    """Copy bytes between the SSH channel and the sandbox process until it exits; its exit status."""

    async def inward() -> None:
        assert child.stdin is not None
        try:
            while True:
                try:
                    data = await process.stdin.read(CHUNK)
                except Exception as exc:  # a terminal resize arrives as an exception; the size stays
                    if type(exc).__name__ == "TerminalSizeChanged":
                        continue
                    break
                if not data:
                    break
                child.stdin.write(data)
                await child.stdin.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            with contextlib.suppress(OSError, RuntimeError):
                child.stdin.close()

    async def outward(stream: asyncio.StreamReader | None, writer: Any) -> None:
        if stream is None:
            return
        while True:
            data = await stream.read(CHUNK)
            if not data:
                return
            with contextlib.suppress(Exception):
                writer.write(data)
                await writer.drain()

    feeding = asyncio.ensure_future(inward())
    copies = [
        asyncio.ensure_future(outward(child.stdout, process.stdout)),
        asyncio.ensure_future(outward(child.stderr, process.stderr)),
    ]
    exited = asyncio.ensure_future(child.wait())
    closed = asyncio.ensure_future(process.wait_closed())
    try:
        await asyncio.wait([exited, closed], return_when=asyncio.FIRST_COMPLETED)
        if not exited.done():  # the client went away: the session's processes end with it
            await child.signal(signal.SIGKILL)
        status = await exited
        # Output still in the pipes is delivered; background children holding them are not waited for.
        await asyncio.wait(copies, timeout=0.5)
    finally:
        closed.cancel()
        feeding.cancel()
        for copy in copies:
            copy.cancel()
    return status
