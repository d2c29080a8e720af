"""Sandbox pipes behave the same on asyncio's loop and on uvloop (which uvicorn picks when installed).

Under uvloop, asyncio's ``connect_read_pipe`` with a file object left the descriptor to garbage
collection, and sandbox commands failed with EBADF once numbers were reused; these tests pin that every
descriptor is closed exactly once, that output is complete and flow-controlled, and that a writer
reports a reader that went away.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
import uvloop

from gravixlayer.local.sandbox.pipes import PipeWriter, read_pipe

LOOPS: dict[str, Callable[[Coroutine[Any, Any, Any]], Any]] = {"asyncio": asyncio.run, "uvloop": uvloop.run}


def _identity(fd: int) -> tuple[int, int] | None:
    """What `fd` refers to now (other threads of the test run may reuse a number we closed)."""
    try:
        info = os.fstat(fd)
    except OSError:
        return None
    return info.st_dev, info.st_ino


def _is_open(fd: int, identity: tuple[int, int] | None) -> bool:
    return _identity(fd) == identity


@pytest.mark.parametrize("loop_name", LOOPS)
def test_a_read_pipe_gets_everything_and_closes_its_descriptor_once(loop_name: str) -> None:
    payload = os.urandom(3 * 65536 + 17)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        for _ in range(50):
            read_fd, write_fd = os.pipe()
            pipe = _identity(read_fd)
            reader = read_pipe(loop, read_fd, limit=4096)  # small limit: the feed must pause and resume
            writer = PipeWriter(loop, write_fd)
            writer.write(payload)
            writer.close()  # closes once the payload is out
            received = bytearray()
            while chunk := await reader.read(1000):
                received += chunk
            assert bytes(received) == payload
            await asyncio.sleep(0)
            assert not _is_open(read_fd, pipe) and not _is_open(write_fd, pipe)
            # A new descriptor may reuse the number: nothing of the old pipe may close it later.
            reused = os.open(os.devnull, os.O_RDONLY)
            devnull = _identity(reused)
            await asyncio.sleep(0.001)
            assert _is_open(reused, devnull)
            os.close(reused)

    LOOPS[loop_name](main())


@pytest.mark.parametrize("loop_name", LOOPS)
def test_a_writer_whose_reader_went_away_says_so_on_drain(loop_name: str) -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        read_fd, write_fd = os.pipe()
        pipe = _identity(write_fd)
        writer = PipeWriter(loop, write_fd)
        os.close(read_fd)
        writer.write(b"x" * 10)
        with pytest.raises(BrokenPipeError):
            await writer.drain()
        assert not _is_open(write_fd, pipe)
        with pytest.raises(BrokenPipeError):
            writer.write(b"more")
        writer.close()  # closing twice is harmless

    LOOPS[loop_name](main())


@pytest.mark.parametrize("loop_name", LOOPS)
def test_lines_split_across_reads_come_back_whole(loop_name: str) -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        read_fd, write_fd = os.pipe()
        reader = read_pipe(loop, read_fd, limit=1 << 16)
        writer = PipeWriter(loop, write_fd)
        writer.write(b"first li")
        await writer.drain()
        await asyncio.sleep(0.01)
        writer.write(b"ne\nsecond line\n")
        writer.close()
        assert await reader.readline() == b"first line\n"
        assert await reader.readline() == b"second line\n"
        assert await reader.readline() == b""

    LOOPS[loop_name](main())
