"""A sandbox process's pipes on Local's event loop, each descriptor closed exactly once, by its owner.

asyncio's ``connect_read_pipe``/``connect_write_pipe`` take file objects, and each loop treats them its
own way: uvloop (which uvicorn picks whenever it is installed) works on a duplicate and leaves the
original descriptor to the file object's garbage collection. Under uvloop that made a sandbox command
fail with EBADF: a descriptor number was closed after the kernel had handed it out again. Here a pipe is
watched with ``add_reader``/``add_writer`` and closed by the one object that owns it, on any loop. It is
also lighter: no transport, protocol or file object per pipe.
"""

from __future__ import annotations

import asyncio
import os

__all__ = ["read_pipe", "PipeWriter"]

CHUNK = 65536


class _Feed:
    """Moves bytes from a pipe into a ``StreamReader``; also its transport, for flow control."""

    def __init__(self, loop: asyncio.AbstractEventLoop, fd: int, reader: asyncio.StreamReader) -> None:
        self.loop, self.fd, self.reader = loop, fd, reader
        self.reading = False
        self.closed = False
        os.set_blocking(fd, False)
        reader.set_transport(self)  # type: ignore[arg-type]  # StreamReader only pauses and resumes it
        self.resume_reading()

    def _readable(self) -> None:
        try:
            data = os.read(self.fd, CHUNK)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if data:
            self.reader.feed_data(data)  # may pause_reading() while the consumer is behind
        else:
            self.close()
            self.reader.feed_eof()

    def pause_reading(self) -> None:
        if self.reading and not self.closed:
            self.loop.remove_reader(self.fd)
            self.reading = False

    def resume_reading(self) -> None:
        if not self.reading and not self.closed:
            self.loop.add_reader(self.fd, self._readable)
            self.reading = True

    def close(self) -> None:
        if not self.closed:
            self.pause_reading()
            self.closed = True
            os.close(self.fd)


def read_pipe(loop: asyncio.AbstractEventLoop, fd: int, limit: int) -> asyncio.StreamReader:
    """A ``StreamReader`` fed from `fd` (owned from here on: closed at end of file)."""
    reader = asyncio.StreamReader(limit=limit, loop=loop)
    _Feed(loop, fd, reader)
    return reader


class PipeWriter:
    """The writing end of a sandbox process's stdin: ``write``, ``drain``, ``close``, as a StreamWriter."""

    def __init__(self, loop: asyncio.AbstractEventLoop, fd: int) -> None:
        self.loop, self.fd = loop, fd
        self.pending = bytearray()
        self.waiters: list[asyncio.Future[None]] = []
        self.error: OSError | None = None
        self.closing = False
        self.closed = False
        os.set_blocking(fd, False)

    def write(self, data: bytes) -> None:
        if self.closing or self.closed:  # closed includes a failed write: drain() then says why
            raise BrokenPipeError("the sandbox process's input is closed")
        if not self.pending:
            try:
                data = data[os.write(self.fd, data) :]
            except (BlockingIOError, InterruptedError):
                pass
            except OSError as exc:
                self._fail(exc)
                return
            if not data:
                return
            self.loop.add_writer(self.fd, self._writable)
        self.pending += data

    def _writable(self) -> None:
        try:
            del self.pending[: os.write(self.fd, self.pending)]
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self._fail(exc)
            return
        if not self.pending:
            self.loop.remove_writer(self.fd)
            self._wake()
            if self.closing:
                self._close_now()

    def _fail(self, exc: OSError) -> None:
        self.error = exc
        self.pending.clear()
        self.loop.remove_writer(self.fd)
        self._wake()
        self._close_now()

    def _wake(self) -> None:
        waiters, self.waiters = self.waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def drain(self) -> None:
        if self.pending and self.error is None:
            waiter = self.loop.create_future()
            self.waiters.append(waiter)
            await waiter
        if self.error is not None:
            raise BrokenPipeError(str(self.error))

    def close(self) -> None:
        """Close once everything written has gone out (at once if nothing is pending)."""
        if self.closing or self.closed:
            return
        self.closing = True
        if not self.pending:
            self._close_now()

    def _close_now(self) -> None:
        if not self.closed:
            self.closed = True
            os.close(self.fd)
