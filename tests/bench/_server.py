"""GravixLayer Local in its own process, so benchmarks measure the client, not a GIL shared with the server."""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass
class LocalProcess:
    base_url: str
    api_key: str
    data_dir: str
    pid: int


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def local_process(*extra: str) -> Iterator[LocalProcess]:
    key = "bench-" + secrets.token_hex(8)
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="gl-bench-") as data_dir:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gravixlayer.local", "--port", str(port), "--data-dir", data_dir,
             "--deployment-delay", "0", *extra],
            env={**os.environ, "GRAVIXLAYER_LOCAL_API_KEYS": key},
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )  # fmt: skip
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            if "listening" not in line:
                raise RuntimeError(f"GravixLayer Local did not start: {line!r}")
            yield LocalProcess(f"http://127.0.0.1:{port}", key, data_dir, proc.pid)
        finally:
            proc.terminate()
            proc.wait(timeout=10)
