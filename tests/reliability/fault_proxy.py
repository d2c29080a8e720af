"""A loopback HTTP/1.1 proxy that injects network and server faults on a seeded random schedule.

Placed between the SDK and a GravixLayer Local, it forwards each request on a fresh upstream
connection and, for a drawn share of requests, misbehaves in one of the ways a real network or
gateway does. Each fault keeps the truth about whether the server acted, because that is what the
SDK's retry rules depend on:

* ``refused``: the listening socket is closed for a short window, so the next connection attempts get
  ECONNREFUSED (the request never left; safe to retry even a create).
* ``reset_before``: the request is read, never forwarded, and the connection is reset.
* ``reset_after``: the request is forwarded, the server acts, and the client's connection is reset.
* ``429_seconds`` / ``429_date``: 429 with ``Retry-After`` in seconds or HTTP-date form (not forwarded).
* ``503``: not forwarded (a gateway refusing work: proves the server did not act).
* ``500`` / ``502`` / ``504``: either forwarded first (server acted) or not; the client cannot know.
* ``slow``: forwarded, then the answer is held back longer than the client timeout.
* ``truncated_body``: forwarded; a JSON answer with its full ``Content-Length`` but half of its body.
* ``truncated_sse``: forwarded; an event stream cut before ``[DONE]``, either ending the chunked body
  cleanly (the sneaky case) or dropping the connection.
* ``malformed_json``: forwarded; the JSON body (or one SSE event's data) replaced by broken JSON.

Every response carries ``Connection: close``, so every request opens a new connection and refusal
windows reach real connection attempts. The proxy runs its own event loop in a daemon thread, so sync
and async clients can use it alike. Counters in ``FaultProxy.counts`` say what was injected.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import random
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import TracebackType

__all__ = ["FAULTS", "FaultPlan", "FaultProxy"]

FAULTS: tuple[str, ...] = (
    "refused",
    "reset_before",
    "reset_after",
    "429_seconds",
    "429_date",
    "500",
    "502",
    "503",
    "504",
    "slow",
    "truncated_body",
    "truncated_sse",
    "malformed_json",
)

_REASONS = {200: "OK", 429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway",
            503: "Service Unavailable", 504: "Gateway Timeout"}  # fmt: skip
_MAX_HEAD = 64 * 1024


@dataclass
class FaultPlan:
    """What to inject and how often.

    ``rate`` is the share of requests that get a fault; the kind is drawn from ``weights`` (every kind
    of ``FAULTS`` by default, equally likely). ``truncated_sse`` drawn for a non-stream answer becomes
    ``truncated_body`` and vice versa, since a cut is a cut. ``slow_seconds`` must exceed the client's
    read timeout. ``paths`` limits faults to request paths starting with one of the given prefixes.
    """

    seed: int = 0
    rate: float = 0.2
    weights: Mapping[str, float] = field(default_factory=lambda: dict.fromkeys(FAULTS, 1.0))
    slow_seconds: float = 2.0
    refuse_window: float = 0.03
    retry_after_seconds: int = 1
    paths: tuple[str, ...] = ("/",)

    def __post_init__(self) -> None:
        unknown = set(self.weights) - set(FAULTS)
        if unknown:
            raise ValueError(f"unknown fault kinds: {sorted(unknown)}")
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError("rate must be within [0, 1]")


@dataclass
class _Message:
    head: bytes  # start line + headers, without the final blank line
    headers: dict[str, str]  # lower-cased names; last value wins
    body: bytes  # the decoded body (chunked framing removed)
    raw_body: bytes  # the body as it was on the wire

    @property
    def start_line(self) -> str:
        return self.head.split(b"\r\n", 1)[0].decode("latin-1")


class _Closed(Exception):
    """The peer closed before a complete message arrived."""


async def _read_message(reader: asyncio.StreamReader, *, response_to: str | None = None) -> _Message:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        raise _Closed from exc
    except asyncio.LimitOverrunError as exc:
        raise _Closed from exc
    head = head[:-4]
    lines = head.split(b"\r\n")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    no_body = False
    if response_to is not None:
        status = int(lines[0].split(b" ", 2)[1])
        no_body = response_to == "HEAD" or status in (204, 304) or 100 <= status < 200
    body = b""
    raw = b""
    try:
        if no_body:
            pass
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            parts: list[bytes] = []
            raw_parts: list[bytes] = []
            while True:
                size_line = await reader.readuntil(b"\r\n")
                raw_parts.append(size_line)
                size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    trailer = await reader.readuntil(b"\r\n")
                    raw_parts.append(trailer)
                    while trailer != b"\r\n":
                        trailer = await reader.readuntil(b"\r\n")
                        raw_parts.append(trailer)
                    break
                data = await reader.readexactly(size + 2)
                raw_parts.append(data)
                parts.append(data[:-2])
            body = b"".join(parts)
            raw = b"".join(raw_parts)
        elif "content-length" in headers:
            body = raw = await reader.readexactly(int(headers["content-length"]))
        elif response_to is not None:
            body = raw = await reader.read()  # close-delimited response
    except (asyncio.IncompleteReadError, ValueError) as exc:
        raise _Closed from exc
    return _Message(head, headers, body, raw)


def _response_bytes(status_line: str, headers: list[tuple[str, str]], body: bytes, *, chunked: bool) -> bytes:
    out = [status_line]
    out += [f"{k}: {v}" for k, v in headers]
    if chunked:
        out.append("Transfer-Encoding: chunked")
    else:
        out.append(f"Content-Length: {len(body)}")
    out.append("Connection: close")
    head = ("\r\n".join(out) + "\r\n\r\n").encode("latin-1")
    return head + (_chunk(body) + b"0\r\n\r\n" if chunked and body else (b"0\r\n\r\n" if chunked else body))


def _chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode("ascii") + data + b"\r\n" if data else b""


def _kept_headers(message: _Message) -> list[tuple[str, str]]:
    skip = {"connection", "transfer-encoding", "content-length", "keep-alive"}
    out: list[tuple[str, str]] = []
    for line in message.head.split(b"\r\n")[1:]:
        name, _, value = line.decode("latin-1").partition(":")
        if name.strip().lower() not in skip:
            out.append((name.strip(), value.strip()))
    return out


def _json_error(status: int, message: str, extra: list[tuple[str, str]] | None = None) -> bytes:
    body = json.dumps({"error": message, "code": "injected_fault"}).encode()
    headers = [("Content-Type", "application/json"), *(extra or [])]
    return _response_bytes(f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}", headers, body, chunked=False)


class FaultProxy:
    """The proxy; a context manager. Point the SDK at ``base_url``.

    ``counts`` holds one entry per injected fault kind plus ``requests`` and ``forwarded``. Change
    ``plan`` (or ``plan.rate``) between phases of a test; draws are made in arrival order.
    """

    def __init__(self, upstream_host: str, upstream_port: int, plan: FaultPlan | None = None) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.plan = plan or FaultPlan()
        self.counts: Counter[str] = Counter()
        self._rng = random.Random(self.plan.seed)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        self._port = 0
        self._reopen: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._stopping = False

    # -- lifecycle -----------------------------------------------------------------------

    @classmethod
    def for_url(cls, base_url: str, plan: FaultPlan | None = None) -> FaultProxy:
        host_port = base_url.split("://", 1)[1].rstrip("/")
        host, _, port = host_port.rpartition(":")
        return cls(host.strip("[]"), int(port), plan)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    def reseed(self, seed: int) -> None:
        self._rng = random.Random(seed)

    def start(self) -> FaultProxy:
        ready = threading.Event()
        errors: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                loop.run_until_complete(self._listen())
            except BaseException as exc:  # reported to start()
                errors.append(exc)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.close()

        self._thread = threading.Thread(target=run, name="fault-proxy", daemon=True)
        self._thread.start()
        ready.wait(10)
        if errors:
            raise RuntimeError("fault proxy failed to start") from errors[0]
        return self

    def stop(self) -> None:
        loop = self._loop
        if loop is None or self._thread is None:
            return

        async def shutdown() -> None:
            self._stopping = True
            if self._reopen is not None:
                self._reopen.cancel()
            if self._server is not None:
                self._server.close()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            loop.stop()

        asyncio.run_coroutine_threadsafe(shutdown(), loop)
        self._thread.join(10)
        self._thread = None
        self._loop = None

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def summary(self) -> str:
        """``N faults injected (kind=n, ...)`` for test output."""
        faults = {k: v for k, v in sorted(self.counts.items()) if k in FAULTS}
        detail = ", ".join(f"{k}={v}" for k, v in faults.items())
        return f"{sum(faults.values())} faults injected in {self.counts['requests']} requests ({detail})"

    # -- listening, and refusing -----------------------------------------------------------

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(
            self._on_connection, "127.0.0.1", self._port, reuse_address=True, limit=_MAX_HEAD * 4
        )
        self._port = self._server.sockets[0].getsockname()[1]

    def _refuse_for_a_while(self) -> None:
        """Stop listening for ``refuse_window`` seconds: connection attempts meanwhile get ECONNREFUSED."""
        assert self._loop is not None
        if self._server is None or self._reopen is not None:
            return
        self._server.close()
        self._server = None

        async def reopen() -> None:
            for _ in range(200):
                if self._stopping:
                    return
                try:
                    await self._listen()
                    return
                except OSError:
                    await asyncio.sleep(0.01)

        def schedule() -> None:
            self._reopen = None
            task = asyncio.ensure_future(reopen())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

        self._reopen = self._loop.call_later(self.plan.refuse_window, schedule)

    # -- one connection = one request ------------------------------------------------------

    def _on_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.ensure_future(self._serve(reader, writer))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _draw(self, path: str) -> str | None:
        plan = self.plan
        if not any(path.startswith(p) for p in plan.paths):
            return None
        if self._rng.random() >= plan.rate:
            return None
        kinds = [k for k, w in plan.weights.items() if w > 0]
        if not kinds:
            return None
        return self._rng.choices(kinds, weights=[plan.weights[k] for k in kinds])[0]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            try:
                request = await _read_message(reader)
            except _Closed:
                return
            self.counts["requests"] += 1
            method, path = (request.start_line.split(" ") + ["", ""])[:2]
            fault = self._draw(path)
            await self._answer(fault, method, request, writer)
        except (ConnectionError, OSError, asyncio.IncompleteReadError):
            pass  # the client went away (its timeout fired): nothing to answer
        except asyncio.CancelledError:
            _reset(writer)
            raise
        finally:
            if not writer.is_closing():
                writer.close()

    async def _answer(
        self, fault: str | None, method: str, request: _Message, writer: asyncio.StreamWriter
    ) -> None:
        if fault is not None and fault not in ("truncated_body", "truncated_sse"):
            self.counts[fault] += 1
        if fault == "refused":
            # This request is answered normally; the attempts that follow are refused.
            self._refuse_for_a_while()
        elif fault == "reset_before":
            _reset(writer)
            return
        elif fault in ("429_seconds", "429_date", "503") or (
            fault in ("500", "502", "504") and self._rng.random() < 0.5
        ):
            writer.write(self._gateway_error(fault))
            await writer.drain()
            return

        response = await self._forward(method, request)
        self.counts["forwarded"] += 1
        if response is None:
            writer.write(_json_error(502, "upstream unreachable"))
            await writer.drain()
            return
        status_line = response.start_line
        headers = _kept_headers(response)
        is_sse = response.headers.get("content-type", "").startswith("text/event-stream")
        body = response.body

        if fault == "reset_after":
            _reset(writer)
            return
        if fault in ("500", "502", "504"):
            self.counts[f"{fault}_after_acting"] += 1
            writer.write(self._gateway_error(fault))
            await writer.drain()
            return
        if fault == "slow":
            await asyncio.sleep(self.plan.slow_seconds)
        if fault in ("truncated_body", "truncated_sse") and body:
            await self._truncate(writer, status_line, headers, body, is_sse)
            return
        if fault == "malformed_json" and body:
            body = _malform(body, is_sse)
        if is_sse:
            await self._send_sse(writer, status_line, headers, body)
        else:
            writer.write(_response_bytes(status_line, headers, body, chunked=False))
            await writer.drain()

    def _gateway_error(self, fault: str) -> bytes:
        if fault == "429_seconds":
            return _json_error(
                429, "rate limited (injected)", [("Retry-After", str(self.plan.retry_after_seconds))]
            )
        if fault == "429_date":
            when = email.utils.formatdate(time.time() + self.plan.retry_after_seconds, usegmt=True)
            return _json_error(429, "rate limited (injected)", [("Retry-After", when)])
        return _json_error(int(fault), f"injected {fault}")

    async def _send_sse(
        self, writer: asyncio.StreamWriter, status_line: str, headers: list[tuple[str, str]], body: bytes
    ) -> None:
        head = _response_bytes(status_line, headers, b"", chunked=True)[: -len(b"0\r\n\r\n")]
        writer.write(head)
        for event in _sse_events(body):
            writer.write(_chunk(event))
        writer.write(b"0\r\n\r\n")
        await writer.drain()

    async def _truncate(
        self,
        writer: asyncio.StreamWriter,
        status_line: str,
        headers: list[tuple[str, str]],
        body: bytes,
        is_sse: bool,
    ) -> None:
        if not is_sse:
            self.counts["truncated_body"] += 1
            head = (
                "\r\n".join(
                    [
                        status_line,
                        *(f"{k}: {v}" for k, v in headers),
                        f"Content-Length: {len(body)}",
                        "Connection: close",
                    ]
                )
                + "\r\n\r\n"
            ).encode("latin-1")
            writer.write(head + body[: len(body) // 2])
            await writer.drain()
            return  # closed by _serve: fewer bytes than announced
        self.counts["truncated_sse"] += 1
        events = _sse_events(body)
        done = [i for i, e in enumerate(events) if e.strip() == b"data: [DONE]"]
        keep = done[0] if done else len(events) - 1
        cut = self._rng.randint(0, max(0, keep))  # events kept (never the [DONE] marker)
        sent = b"".join(events[:cut])
        if self._rng.random() < 0.3 and cut < len(events):  # also split the next event mid-way
            sent += events[cut][: max(1, len(events[cut]) // 2)]
        head = _response_bytes(status_line, headers, b"", chunked=True)[: -len(b"0\r\n\r\n")]
        writer.write(head + _chunk(sent))
        if self._rng.random() < 0.5:
            self.counts["truncated_sse_clean_end"] += 1
            writer.write(b"0\r\n\r\n")  # a well-formed end of the HTTP body, yet no [DONE]
        await writer.drain()

    async def _forward(self, method: str, request: _Message) -> _Message | None:
        host, port = self.upstream
        try:
            up_reader, up_writer = await asyncio.open_connection(host, port, limit=_MAX_HEAD * 4)
        except OSError:
            return None
        try:
            lines = request.head.split(b"\r\n")
            kept = [ln for ln in lines[1:] if not ln.lower().startswith((b"connection:", b"keep-alive:"))]
            up_writer.write(
                b"\r\n".join([lines[0], *kept, b"Connection: close"]) + b"\r\n\r\n" + request.raw_body
            )
            await up_writer.drain()
            return await _read_message(up_reader, response_to=method)
        except (_Closed, OSError):
            return None
        finally:
            up_writer.close()


def _sse_events(body: bytes) -> list[bytes]:
    """The body split after each blank line (event boundaries), keeping every byte."""
    events: list[bytes] = []
    start = 0
    while True:
        end = body.find(b"\n\n", start)
        if end < 0:
            break
        events.append(body[start : end + 2])
        start = end + 2
    if start < len(body):
        events.append(body[start:])
    return events


def _malform(body: bytes, is_sse: bool) -> bytes:
    if not is_sse:
        return body[: max(1, len(body) // 2)].rstrip(b"}]") + b',"broken": '
    events = _sse_events(body)
    for i, event in enumerate(events):
        if event.startswith(b"data: {"):
            events[i] = b'data: {"choices": [{"delta": {"content": "x"\n\n'
            break
    return b"".join(events)


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with RST rather than FIN."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
    writer.transport.abort()
