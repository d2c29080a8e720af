"""The API key never appears in logs, reprs, exceptions or notebook outputs, at any log level.

A Local with debug logging and access logs serves calls of every service (successes, typed errors, a
wrong key, retries through the fault proxy, sync and async); every log record of every logger at
DEBUG (gravixlayer, gravixlayer.local, uvicorn, httpx, httpcore, asyncio...), everything written to
stdout/stderr, the repr/str/traceback of every object and exception met, and their notebook renderings
are searched for the keys.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import traceback
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from gravixlayer import AsyncGravixLayer, GravixLayer, GravixLayerError
from gravixlayer.local import LocalServer

from ._known_ids import DEPLOYABLE_MODEL, gpu_model
from ._local_process import LocalProcess
from .fault_proxy import FaultPlan, FaultProxy

KEY = "gl-leakcheck-" + uuid.uuid4().hex
OTHER = "gl-leakcheck-other-" + uuid.uuid4().hex
WRONG = "gl-leakcheck-wrong-" + uuid.uuid4().hex
SECRETS = (KEY, OTHER, WRONG)
# Pieces long enough to identify a key (a masked key shows only 3 + 4 characters).
FRAGMENTS = [
    s[i : i + 12] for s in SECRETS for i in range(0, len(s) - 12, 6) if "leakcheck" not in s[i : i + 12]
]
MODEL = "qwen/qwen-2.5-vl-7b-instruct"
EMBED = "microsoft/multilingual-e5-large"


class Everything(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def texts(self) -> list[str]:
        out = []
        for record in self.records:
            out.append(self.format(record))  # message, args, exc_info and stack_info
            out.append(repr(record.__dict__))
        return out


@pytest.fixture
def all_logs() -> Iterator[Everything]:
    handler = Everything()
    root = logging.getLogger()
    saved = {
        name: (lg.level, lg.propagate)
        for name, lg in logging.Logger.manager.loggerDict.items()
        if isinstance(lg, logging.Logger)
    }
    old_root = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    names = [
        "gravixlayer",
        "gravixlayer.local",
        "uvicorn",
        "uvicorn.error",
        "uvicorn.access",
        "httpx",
        "httpcore",
        "asyncio",
        "starlette",
    ]
    for name in [*names, *saved]:
        lg = logging.getLogger(name)
        lg.setLevel(logging.DEBUG)
        lg.propagate = True
    yield handler
    root.removeHandler(handler)
    root.setLevel(old_root)
    for name, (level, propagate) in saved.items():
        logging.getLogger(name).setLevel(level)
        logging.getLogger(name).propagate = propagate


def _texts_of(obj: Any) -> list[str]:
    out = [repr(obj), str(obj)]
    if isinstance(obj, BaseException):
        out.append("".join(traceback.format_exception(type(obj), obj, obj.__traceback__)))
        out.append(repr(getattr(obj, "__dict__", {})) if not hasattr(obj, "response") else repr(obj.args))
    with contextlib.suppress(ImportError):
        from gravixlayer_notebook import _display

        if isinstance(obj, BaseException):
            out += [_display.error_html(obj), _display.error_markdown(obj)]
        elif hasattr(obj, "model_dump"):
            out += [_display.model_html(obj) or "", _display.model_markdown(obj)]
    return out


def _exercise(client: GravixLayer, seen: list[Any]) -> None:
    def keep(call: Callable[[], Any]) -> None:
        try:
            seen.append(call())
        except GravixLayerError as exc:
            seen.append(exc)

    keep(lambda: client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}]))
    keep(
        lambda: list(
            client.chat.completions.create(
                model=MODEL, messages=[{"role": "user", "content": "hi"}], stream=True
            )
        )
    )
    keep(lambda: client.completions.create(model=MODEL, prompt="once upon"))
    keep(lambda: client.embeddings.create(model=EMBED, input="hello"))
    keep(
        lambda: client.chat.completions.create(
            model="no/such-model", messages=[{"role": "user", "content": "x"}]
        )
    )
    keep(lambda: client.chat.completions.create(model="", messages=[]))
    keep(lambda: client.files.create(file=b"secret file\n", purpose="fine-tune", filename="k.jsonl"))
    keep(lambda: client.files.list())
    keep(lambda: client.files.retrieve("file-does-not-exist"))
    keep(
        lambda: client.deployments.create(
            deployment_name=f"k-{uuid.uuid4().hex[:6]}",
            model_name=DEPLOYABLE_MODEL,
            gpu_model=gpu_model(client),
        )
    )
    keep(lambda: client.deployments.get("nope"))
    keep(lambda: client.accelerators.list())
    keep(
        lambda: client.vectors.indexes.create(
            name=f"k-{uuid.uuid4().hex[:6]}",
            dimension=2,
            metric="cosine",
            cloud_provider="AWS",
            region="us-east-1",
        )
    )
    keep(lambda: client.vectors.indexes.get("no-such-index"))
    keep(lambda: client.sandbox.templates.list())
    keep(lambda: client.sandbox.sandboxes.get(str(uuid.uuid4())))

    def sandbox_round_trip() -> Any:
        sb = client.sandbox.sandboxes.create(provider="gravix", region="local", timeout=60)
        try:
            return sb.run_code("import os; print(sorted(os.environ))")  # the server's key is not in its env
        finally:
            sb.kill()

    keep(sandbox_round_trip)


def test_keys_never_leak_from_the_cli_server(tmp_path: Path) -> None:
    """`python -m gravixlayer.local --log-level debug --access-log` (keys from the environment): output is clean."""
    server = LocalProcess(
        tmp_path / "data", KEY, OTHER, log_level="debug", extra_args=("--access-log",)
    ).start()
    seen: list[Any] = []
    try:
        with GravixLayer(api_key=KEY, base_url=server.base_url, max_retries=0) as client:
            _exercise(client, seen)
        with GravixLayer(api_key=WRONG, base_url=server.base_url, max_retries=0) as wrong:
            _exercise(wrong, seen)
    finally:
        server.stop()
    output = "".join(server.output)
    assert "/v1/accelerators" in output, "access log lines missing"
    assert "DEBUG" in output
    haystack = [output, *(t for obj in seen for t in _texts_of(obj))]
    leaks = [text[:200] for text in haystack for piece in (*SECRETS, *FRAGMENTS) if piece in text]
    assert not leaks, leaks[:5]


def test_keys_never_leak(
    all_logs: Everything, capfd: pytest.CaptureFixture[str], fast_retries: float
) -> None:
    seen: list[Any] = []
    with LocalServer(
        api_keys=[KEY, OTHER], log_level="debug", access_log=True, deployment_ready_delay=0, chat_engine="standin"
    ) as server:
        seen += [server, server.config]
        client = GravixLayer(api_key=KEY, base_url=server.base_url, max_retries=2)
        seen += [client, client.with_options(timeout=5)]
        _exercise(client, seen)
        with GravixLayer(api_key=WRONG, base_url=server.base_url) as wrong:
            seen.append(wrong)
            _exercise(wrong, seen)  # every call a 401
        with FaultProxy.for_url(server.base_url, FaultPlan(seed=7, rate=0.5, slow_seconds=1.2)) as proxy:
            flaky = GravixLayer(api_key=KEY, base_url=proxy.base_url, timeout=1.0, max_retries=3)
            for _ in range(4):
                _exercise(flaky, seen)
            flaky.close()
            assert proxy.counts["requests"] > 0

        async def run_async() -> None:
            async with AsyncGravixLayer(api_key=OTHER, base_url=server.base_url) as aclient:
                seen.append(aclient)
                seen.append(await aclient.embeddings.create(model=EMBED, input="hi"))
                try:
                    await aclient.files.retrieve("nope")
                except GravixLayerError as exc:
                    seen.append(exc)

        asyncio.run(run_async())
        client.close()

    out, err = capfd.readouterr()
    haystack = [out, err, *all_logs.texts()]
    for obj in seen:
        haystack += _texts_of(obj)
    errors = [o for o in seen if isinstance(o, GravixLayerError)]
    assert len(errors) >= 20, "the exercise produced too few errors to check"
    assert any(r.name.startswith("uvicorn") for r in all_logs.records), "uvicorn logs were not captured"
    assert any(r.name.startswith("httpcore") or r.name.startswith("httpx") for r in all_logs.records)
    assert any(r.name == "gravixlayer" and "retrying" in r.getMessage() for r in all_logs.records)
    leaks = [text[:200] for text in haystack for piece in (*SECRETS, *FRAGMENTS) if piece in text]
    assert not leaks, leaks[:5]
