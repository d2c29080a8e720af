"""The Python kernel of a GravixLayer Local sandbox code context (run as a script, never imported by Local).

One long-lived process per code context keeps the interpreter state between runs, as a Jupyter kernel
does. Protocol (one JSON object per line):

* requests arrive on stdin: ``{"id": n, "code": "...", "env": {...}}``;
* answers leave on the original stdout, each line prefixed with ``PREFIX + token`` so stray output can
  never be mistaken for one: first ``{"ready": true}``, then per request ``{"id", "logs", "results",
  "error"}``.

User code gets /dev/null as stdin and pipes as fd 1 and 2, read by two threads, so output of child
processes is captured too. After each run a sentinel is written to both pipes; the run's output is
everything before it. SIGINT interrupts a run (KeyboardInterrupt) and is ignored between runs.
"""

from __future__ import annotations

import ast
import base64
import json
import linecache
import os
import signal
import sys
import threading
import traceback
import types
from typing import Any

PREFIX = "\x1eGLXK:"
MAX_OUTPUT = int(os.environ.pop("GRAVIXLAYER_KERNEL_MAX_OUTPUT", str(4 * 1024 * 1024)))
TOKEN = os.environ.pop("GRAVIXLAYER_KERNEL_TOKEN", "")
SENTINEL = f"\x00\x1bGLX-END-{TOKEN}\x00".encode()
SENTINEL_WAIT = 5.0
RICH_REPRS = (
    ("_repr_html_", "html"),
    ("_repr_markdown_", "markdown"),
    ("_repr_svg_", "svg"),
    ("_repr_png_", "png"),
    ("_repr_jpeg_", "jpeg"),
    ("_repr_latex_", "latex"),
    ("_repr_json_", "json"),
)


class Capture(threading.Thread):
    """Reads one output pipe; `take()` returns what was written before the next sentinel."""

    def __init__(self, fd: int) -> None:
        super().__init__(daemon=True)
        self.fd = fd
        self.buffer = bytearray()
        self.dropped = 0
        self.done: list[tuple[bytes, int]] = []
        self.cond = threading.Condition()

    def run(self) -> None:
        keep_tail = len(SENTINEL) - 1
        while True:
            try:
                chunk = os.read(self.fd, 65536)
            except OSError:
                return
            if not chunk:
                return
            with self.cond:
                self.buffer += chunk
                while True:
                    index = self.buffer.find(SENTINEL)
                    if index < 0:
                        break
                    self.done.append((bytes(self.buffer[:index]), self.dropped))
                    del self.buffer[: index + len(SENTINEL)]
                    self.dropped = 0
                    self.cond.notify_all()
                excess = len(self.buffer) - MAX_OUTPUT - keep_tail
                if excess > 0:  # keep the first MAX_OUTPUT bytes and a tail that may start a sentinel
                    del self.buffer[MAX_OUTPUT : MAX_OUTPUT + excess]
                    self.dropped += excess

    def take(self) -> tuple[bytes, int]:
        with self.cond:
            self.cond.wait_for(lambda: bool(self.done), timeout=SENTINEL_WAIT)
            if self.done:
                return self.done.pop(0)
            data, dropped = bytes(self.buffer[:MAX_OUTPUT]), self.dropped  # the sentinel never came
            self.buffer.clear()
            self.dropped = 0
            return data, dropped


def lines(data: bytes, dropped: int) -> list[str]:
    text = data.decode("utf-8", errors="replace")
    out = text.split("\n")
    if out and out[-1] == "":
        out.pop()
    out = [line[:-1] if line.endswith("\r") else line for line in out]
    if dropped:
        out.append(f"[output truncated: {dropped} more bytes were not kept]")
    return out


class Kernel:
    def __init__(self) -> None:
        self.requests = os.fdopen(os.dup(0), "rb")
        self.answers = os.dup(1)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        os.dup2(out_w, 1)
        os.dup2(err_w, 2)
        os.close(out_w)
        os.close(err_w)
        for fd in (self.answers, out_r, err_r):
            os.set_inheritable(fd, False)
        self.stdout = Capture(out_r)
        self.stderr = Capture(err_r)
        self.stdout.start()
        self.stderr.start()
        self.namespace: dict[str, Any] = {"__name__": "__main__", "__builtins__": __builtins__}
        self.pid = os.getpid()
        self.count = 0
        self.running = False
        self.loop: Any = None
        signal.signal(signal.SIGINT, self.on_sigint)

    def on_sigint(self, signum: int, frame: types.FrameType | None) -> None:
        if self.running:
            raise KeyboardInterrupt

    def send(self, message: dict[str, Any]) -> None:
        data = (PREFIX + TOKEN + json.dumps(message, default=str) + "\n").encode("utf-8")
        view = memoryview(data)
        while view:
            written = os.write(self.answers, view)
            view = view[written:]

    def serve(self) -> None:
        self.send({"ready": True, "pid": os.getpid(), "python": sys.version.split()[0]})
        while True:
            line = self.requests.readline()
            if not line:
                return
            try:
                request = json.loads(line)
            except ValueError:
                continue
            answer = self.run(str(request.get("code", "")), request.get("env") or {})
            answer["id"] = request.get("id")
            self.send(answer)

    def run(self, code: str, env: dict[str, str]) -> dict[str, Any]:
        self.count += 1
        saved = {key: os.environ.get(key) for key in env}
        os.environ.update({str(k): str(v) for k, v in env.items()})
        results: list[dict[str, Any]] = []
        error: dict[str, str] | None = None
        try:
            self.running = True
            value = self.execute(code, f"<cell-{self.count}>")
            self.running = False
            if value is not None:
                self.namespace["_"] = value
                results.append({**display(value), "is_main_result": True})
        except BaseException as exc:  # noqa: B036 - the user's exit() and Ctrl-C are reported, not obeyed
            self.running = False
            error = describe(exc)
        finally:
            self.leave_if_forked()
            self.running = False
            for key, old in saved.items():
                if old is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = old
        results.extend(figures())
        out, err = self.finish_output()
        return {"logs": {"stdout": out, "stderr": err}, "results": results, "error": error}

    def leave_if_forked(self) -> None:
        """A process forked by the user's code must not come back here and answer (or steal) requests."""
        if os.getpid() != self.pid:
            for stream in (sys.stdout, sys.stderr):
                try:
                    stream.flush()
                except Exception:  # the clone exits either way
                    pass
            os._exit(0)

    def execute(self, code: str, filename: str) -> Any:
        linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
        flags = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
        tree = ast.parse(code, filename, "exec")
        last: ast.Expression | None = None
        final = tree.body[-1] if tree.body else None
        if isinstance(final, ast.Expr):
            tree.body.pop()
            last = ast.Expression(final.value)
        body = compile(tree, filename, "exec", flags=flags, dont_inherit=True)
        self.evaluate(body)
        if last is None:
            return None
        return self.evaluate(compile(last, filename, "eval", flags=flags, dont_inherit=True))

    def evaluate(self, compiled: types.CodeType) -> Any:
        result = eval(compiled, self.namespace)  # running the caller's code is the purpose
        if compiled.co_flags & 0x80 and isinstance(result, types.CoroutineType):  # top-level await
            import asyncio

            if self.loop is None:
                self.loop = asyncio.new_event_loop()
            return self.loop.run_until_complete(result)
        return result

    def finish_output(self) -> tuple[list[str], list[str]]:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # user code may have replaced or closed the stream
                pass
        for fd in (1, 2):
            try:
                os.write(fd, SENTINEL)
            except OSError:
                pass
        out, out_dropped = self.stdout.take()
        err, err_dropped = self.stderr.take()
        return lines(out, out_dropped), lines(err, err_dropped)


def describe(exc: BaseException) -> dict[str, str]:
    """name, value and a traceback without this script's own frames."""
    if isinstance(exc, SyntaxError):
        text = "".join(traceback.format_exception_only(type(exc), exc))
    else:
        summary = traceback.TracebackException(type(exc), exc, exc.__traceback__)
        summary.stack = traceback.StackSummary.from_list([f for f in summary.stack if f.filename != __file__])
        text = "".join(summary.format())
    return {"name": type(exc).__name__, "value": str(exc), "traceback": text}


def display(value: Any) -> dict[str, Any]:
    """The value's text form plus every rich form it offers, as a Jupyter kernel shows them."""
    try:
        data: dict[str, Any] = {"text": repr(value)}
    except Exception as exc:
        data = {"text": f"<unrepresentable {type(value).__name__}: {exc!r}>"}
    if isinstance(value, type):
        return data
    for method, key in RICH_REPRS:
        try:
            produce = getattr(value, method, None)
            rich = produce() if callable(produce) else None
        except Exception:
            continue
        if isinstance(rich, tuple):
            rich = rich[0] if rich else None
        if rich is None:
            continue
        if isinstance(rich, (bytes, bytearray)):
            rich = base64.b64encode(rich).decode("ascii")
        if key == "json":
            try:
                json.dumps(rich)
            except (TypeError, ValueError):
                continue
        data[key] = rich
    if "png" not in data and type(value).__module__.startswith("matplotlib") and hasattr(value, "savefig"):
        data["png"] = figure_png(value)
    return data


def figure_png(figure: Any) -> str:
    import io

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def figures() -> list[dict[str, Any]]:
    """Open matplotlib figures become PNG results (and are closed), as `plt.show()` would display them."""
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is None:
        return []
    found = []
    try:
        for number in pyplot.get_fignums():
            figure = pyplot.figure(number)
            found.append({"text": repr(figure), "png": figure_png(figure), "is_main_result": False})
        pyplot.close("all")
    except Exception:  # a broken figure must not lose the run's other output
        pass
    return found


def main() -> None:
    sys.path[0] = ""  # like `python -c`: the working directory, not this script's directory, is importable
    answers = os.dup(1)
    try:
        kernel = Kernel()
    except Exception as exc:  # e.g. no thread can start at the process limit: say so instead of vanishing
        message = {"ready": False, "error": f"{type(exc).__name__}: {exc}"}
        os.write(answers, (PREFIX + TOKEN + json.dumps(message) + "\n").encode())
        raise SystemExit(1) from None
    os.close(answers)
    kernel.serve()


if __name__ == "__main__":
    main()
