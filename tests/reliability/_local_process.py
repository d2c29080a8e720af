"""GravixLayer Local as a child process (its own interpreter and core), started the way users start it."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path


class LocalProcess:
    """``python -m gravixlayer.local`` as a child process on a free port."""

    def __init__(
        self, data_dir: Path, *keys: str, log_level: str = "warning", extra_args: tuple[str, ...] = ()
    ) -> None:
        self.data_dir = data_dir
        self.keys = keys
        self.log_level = log_level
        self.extra_args = extra_args
        self.output: list[str] = []
        self.proc: subprocess.Popen[str] | None = None
        self._drainer: threading.Thread | None = None
        self.base_url = ""

    def start(self) -> LocalProcess:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gravixlayer.local", "--port", "0",
             "--data-dir", str(self.data_dir), "--log-level", self.log_level, "--deployment-delay", "0", *self.extra_args],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env={**os.environ, "GRAVIXLAYER_LOCAL_API_KEYS": "\n".join(self.keys)},  # never on a command line
        )  # fmt: skip
        assert self.proc.stdout is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            self.output.append(line)
            if not line:
                break
            found = re.search(r"listening on (http://\S+?) ", line)
            if found:
                self.base_url = found.group(1)
                self._drainer = threading.Thread(target=self._drain, daemon=True)
                self._drainer.start()
                return self
        raise AssertionError(f"Local did not start (exit code {self.proc.poll()})")

    def _drain(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            self.output.append(line)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        self._join()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
        self._join()

    def _join(self) -> None:
        """Read the output to its end (the pipe outlives the process by a moment)."""
        if self._drainer is not None:
            self._drainer.join(10)
