"""The cheapest HTTP/1.1 client there is: one keep-alive socket, one ``sendall`` and ``recv`` per request.

It separates what GravixLayer Local costs on the wire from what a client library adds: its timings are
the server's share (parsing, routing, the work) plus one loopback round trip. Only for answers framed by
``Content-Length`` (every JSON answer of Local is); anything else fails the benchmark loudly.
"""

from __future__ import annotations

import json
import socket
from typing import Any
from urllib.parse import urlsplit


class WireClient:
    def __init__(self, base_url: str, api_key: str) -> None:
        parts = urlsplit(base_url)
        self._address = (parts.hostname or "127.0.0.1", parts.port or 80)
        self._head = f"Host: {parts.netloc}\r\nAuthorization: Bearer {api_key}\r\n"
        self._sock = self._connect()

    def _connect(self) -> socket.socket:
        sock = socket.create_connection(self._address)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    def close(self) -> None:
        self._sock.close()

    def request(self, method: str, path: str, body: Any = None) -> Any:
        """The decoded JSON answer; raises on anything but a 200 framed by Content-Length."""
        payload = b"" if body is None else json.dumps(body).encode()
        head = f"{method} {path} HTTP/1.1\r\n{self._head}"
        if body is not None:
            head += f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
        message = (head + "\r\n").encode() + payload
        try:
            self._sock.sendall(message)
            data = self._recv()
        except (RuntimeError, ConnectionError):  # the server closed the idle connection: one new one
            self._sock.close()
            self._sock = self._connect()
            self._sock.sendall(message)
            data = self._recv()
        while b"\r\n\r\n" not in data:
            data += self._recv()
        header, _, rest = data.partition(b"\r\n\r\n")
        lines = header.decode("latin-1").split("\r\n")
        if lines[0].split(" ")[1] != "200":
            raise RuntimeError(f"{method} {path}: {lines[0]}")
        fields = dict(line.split(":", 1) for line in lines[1:])
        length = int({k.lower(): v for k, v in fields.items()}["content-length"])
        while len(rest) < length:
            rest += self._recv()
        return json.loads(rest[:length])

    def _recv(self) -> bytes:
        chunk = self._sock.recv(65536)
        if not chunk:
            raise RuntimeError("GravixLayer Local closed the connection")
        return chunk
