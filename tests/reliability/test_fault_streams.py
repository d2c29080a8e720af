"""500 chat streams through injected faults: the whole text or a typed error, never a silent partial."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from gravixlayer import AsyncGravixLayer, GravixLayer
from gravixlayer.local import LocalServer

from ._outcomes import Outcomes, budget, gather_limited
from .conftest import ProxyFactory, Report, RetryLog
from .fault_proxy import FaultPlan

MODEL = "qwen/qwen-2.5-vl-7b-instruct"
PROMPTS = [f"Tell me about topic number {i}, please, in some detail." for i in range(10)]
TIMEOUT = 1.0
RETRIES = 3
SYNC_CALLS = 200
ASYNC_CALLS = 300


def _expected(server: LocalServer) -> list[str]:
    """The stand-in is deterministic: the same prompt gives the same text, fetched without faults."""
    out = []
    for prompt in PROMPTS:
        reply = server.client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": prompt}]
        )
        out.append(reply.choices[0].message.content or "")  # type: ignore[union-attr]
    return out


def test_500_chat_streams_through_faults(
    rel_server: LocalServer,
    proxy_factory: ProxyFactory,
    fast_retries: float,
    retry_log: RetryLog,
    report: Report,
) -> None:
    expected = _expected(rel_server)
    assert all(len(text) > 40 for text in expected)
    proxy = proxy_factory(FaultPlan(seed=500, rate=0.3, slow_seconds=TIMEOUT + 0.5))
    outcomes = Outcomes(budget(timeout=TIMEOUT, max_retries=RETRIES))

    def check(i: int, text: str | None) -> None:
        if text is not None and text != expected[i % len(PROMPTS)]:
            outcomes.broken.append(f"stream {i}: silent partial answer {text[:40]!r}...")

    sync = GravixLayer(
        api_key=rel_server.api_key, base_url=proxy.base_url, timeout=TIMEOUT, max_retries=RETRIES
    )
    with sync:
        for i in range(SYNC_CALLS):

            def stream_sync(i: int = i) -> str:
                messages = [{"role": "user", "content": PROMPTS[i % len(PROMPTS)]}]
                with sync.chat.completions.create(model=MODEL, messages=messages, stream=True) as stream:  # type: ignore[union-attr]
                    return "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)

            check(i, outcomes.run(f"sync stream {i}", stream_sync))

    async def run_async() -> None:
        async with AsyncGravixLayer(
            api_key=rel_server.api_key, base_url=proxy.base_url, timeout=TIMEOUT, max_retries=RETRIES
        ) as client:

            def job(i: int) -> Callable[[], Awaitable[None]]:
                async def stream_async() -> str:
                    messages = [{"role": "user", "content": PROMPTS[i % len(PROMPTS)]}]
                    stream = await client.chat.completions.create(model=MODEL, messages=messages, stream=True)
                    parts = []
                    async with stream:  # type: ignore[union-attr]
                        async for chunk in stream:  # type: ignore[union-attr]
                            if chunk.choices:
                                parts.append(chunk.choices[0].delta.content or "")
                    return "".join(parts)

                async def go() -> None:
                    check(i, await outcomes.arun(f"async stream {i}", stream_async))

                return go

            await gather_limited(16, [job(SYNC_CALLS + i) for i in range(ASYNC_CALLS)])

    asyncio.run(run_async())

    report(
        f"{outcomes.calls} chat streams through {proxy.plan.rate:.0%} faults: {outcomes.summary()}; "
        f"{proxy.summary()}; SDK retries: {retry_log.summary()}"
    )
    assert outcomes.calls == SYNC_CALLS + ASYNC_CALLS
    assert not outcomes.broken, outcomes.broken[:10]
    # The scenario must have met the faults it is about, or it proves nothing.
    for kind in (
        "truncated_sse",
        "truncated_sse_clean_end",
        "malformed_json",
        "reset_after",
        "slow",
        "refused",
    ):
        assert proxy.counts[kind] > 0, f"no {kind} fault was injected"
    assert retry_log.reasons, "the SDK never retried"
    assert outcomes.ended["ok"] > outcomes.calls // 2
