"""``get_host_url`` for sandboxes with their own network: a loopback port of Local that leads inside.

A server started in the sandbox listens on the sandbox's own loopback, which the host cannot reach.
For each port asked about, Local listens on a free port of its own host address; every connection
there makes the agent open a connection to that port *inside* the sandbox and hand it over as a
descriptor, and Local copies bytes both ways. Nothing inside the sandbox can reach the host this way:
connections only ever go inward.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket

from .channel import AgentChannel, AgentError, AgentGone

__all__ = ["Forwarders"]

CHUNK = 65536


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            data = await reader.read(CHUNK)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        with contextlib.suppress(OSError, RuntimeError):
            if writer.can_write_eof():
                writer.write_eof()


class Forwarders:
    """The forwarded ports of one sandbox."""

    def __init__(self, channel: AgentChannel, host: str) -> None:
        self.channel = channel
        self.host = host
        self.servers: dict[int, asyncio.Server] = {}

    async def port_for(self, inner: int) -> int:
        server = self.servers.get(inner)
        if server is None:

            async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
                await self._connect(inner, reader, writer)

            server = await asyncio.start_server(serve, self.host, 0)
            self.servers[inner] = server
        return int(server.sockets[0].getsockname()[1])

    async def _connect(self, inner: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            answer = await self.channel.request({"op": "connect", "port": inner})
        except (AgentError, AgentGone):
            writer.close()
            return
        sock = socket.socket(fileno=int(answer["fds"][0]))
        sock.setblocking(False)
        inner_reader, inner_writer = await asyncio.open_connection(sock=sock)
        try:
            await asyncio.gather(_pump(reader, inner_writer), _pump(inner_reader, writer))
        finally:
            for w in (writer, inner_writer):
                w.close()
                with contextlib.suppress(Exception):
                    await w.wait_closed()

    async def close(self) -> None:
        for server in self.servers.values():
            server.close()
        self.servers.clear()
