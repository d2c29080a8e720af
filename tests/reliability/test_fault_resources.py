"""Writes through injected faults: nothing lost, nothing duplicated, nothing half-written, nothing hangs.

Calls go through the fault proxy; what the server really holds is then read directly (no proxy) and
compared with what each call reported.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import uuid
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

import numpy as np

from gravixlayer import AsyncGravixLayer, GravixLayer, GravixLayerError
from gravixlayer.local import LocalServer

from ._config import KEYS
from ._known_ids import DEPLOYABLE_MODEL, gpu_model
from ._outcomes import Outcomes, budget, gather_limited, must
from .conftest import ProxyFactory, Report, RetryLog
from .fault_proxy import FaultPlan

TENANT = KEYS[0]


def _clients(
    server: LocalServer, proxy_url: str, timeout: float, retries: int
) -> tuple[GravixLayer, GravixLayer]:
    """A client through the proxy, and a direct one that reads the truth."""
    flaky = GravixLayer(api_key=TENANT, base_url=proxy_url, timeout=timeout, max_retries=retries)
    direct = GravixLayer(api_key=TENANT, base_url=server.base_url, max_retries=0)
    return flaky, direct


# -- 10,000 vector upserts ------------------------------------------------------------------------------------

VECTORS = 10_000
DIM = 64
BATCH = 100


def test_10000_vector_upserts_through_faults(
    rel_server: LocalServer,
    proxy_factory: ProxyFactory,
    fast_retries: float,
    retry_log: RetryLog,
    report: Report,
) -> None:
    timeout, retries = 2.0, 4
    proxy = proxy_factory(FaultPlan(seed=10_000, rate=0.2, slow_seconds=timeout + 0.5))
    flaky, direct = _clients(rel_server, proxy.base_url, timeout, retries)
    index = direct.vectors.indexes.create(
        name=f"faults-{uuid.uuid4().hex[:8]}",
        dimension=DIM,
        metric="cosine",
        cloud_provider="AWS",
        region="us-east-1",
    )
    rng = np.random.default_rng(7)
    values = rng.standard_normal((VECTORS, DIM)).astype(np.float32)
    ids = [f"vec-{i:05d}" for i in range(VECTORS)]
    outcomes = Outcomes(budget(timeout=timeout, max_retries=retries))
    resent = 0
    target = flaky.vectors.index(index.id)
    for start in range(0, VECTORS, BATCH):
        batch = [
            {"id": ids[i], "embedding": values[i].tolist(), "metadata": {"n": i, "even": i % 2 == 0}}
            for i in range(start, start + BATCH)
        ]
        # What a caller does with a typed error on an idempotent write: send it again.
        for _attempt in range(10):
            if (
                outcomes.run(f"batch {start}", partial(target.upsert_many, batch, batch_size=BATCH))
                is not None
            ):
                break
            resent += 1
        else:
            raise AssertionError(f"batch {start} never got through")
    flaky.close()

    truth = direct.vectors.index(index.id)
    listed = list(truth.list_ids())
    stored = {v.id: v for v in truth.list()}
    assert len(listed) == len(set(listed)), "duplicate ids listed"
    assert sorted(listed) == ids, "the index does not hold exactly the upserted ids"
    assert sorted(stored) == ids
    got = np.array([stored[i].embedding for i in ids], dtype=np.float32)
    assert np.array_equal(got, values), "values changed on the way"
    assert all(stored[ids[i]].metadata == {"n": i, "even": i % 2 == 0} for i in range(0, VECTORS, 97))
    report(
        f"{VECTORS} upserts in batches of {BATCH} through {proxy.plan.rate:.0%} faults: {len(listed)} vectors, "
        f"{len(listed) - len(set(listed))} duplicates, values bit-identical; {proxy.summary()}; "
        f"{resent} batches re-sent by the caller after a typed error; SDK retries: {retry_log.summary()}; "
        f"slowest call {outcomes.slowest:.2f}s of a {outcomes.budget:.1f}s budget"
    )
    assert not outcomes.broken, outcomes.broken[:10]
    assert proxy.counts["reset_after"] and proxy.counts["malformed_json"] and proxy.counts["slow"]
    direct.vectors.indexes.delete(index.id)
    direct.close()


# -- 200 deployment creates -------------------------------------------------------------------------------------

DEPLOYMENTS = 200


def test_200_deployment_creates_through_faults(
    rel_server: LocalServer,
    proxy_factory: ProxyFactory,
    fast_retries: float,
    retry_log: RetryLog,
    report: Report,
) -> None:
    timeout, retries = 1.5, 3
    proxy = proxy_factory(FaultPlan(seed=200, rate=0.25, slow_seconds=timeout + 0.5))
    flaky, direct = _clients(rel_server, proxy.base_url, timeout, retries)
    gpu = gpu_model(direct)
    run = uuid.uuid4().hex[:6]
    names = [f"flt-{run}-{i:03d}" for i in range(DEPLOYMENTS)]
    # Every fourth name is already taken, so those calls go through a 409 and auto_retry's new name:
    # a create repeated after the server acted would show up here as a second, suffixed deployment.
    taken = {n for i, n in enumerate(names) if i % 4 == 0}
    for name in taken:
        direct.deployments.create(deployment_name=name, model_name=DEPLOYABLE_MODEL, gpu_model=gpu)
    outcomes = Outcomes(budget(timeout=timeout, max_retries=retries, requests=3))
    returned: dict[str, Any] = {}

    def create_sync(name: str) -> Any:
        return flaky.deployments.create(
            deployment_name=name, model_name=DEPLOYABLE_MODEL, gpu_model=gpu, auto_retry=True
        )

    for name in names[: DEPLOYMENTS // 2]:
        returned[name] = outcomes.run(name, partial(create_sync, name))
    flaky.close()

    async def run_async() -> None:
        async with AsyncGravixLayer(
            api_key=TENANT, base_url=proxy.base_url, timeout=timeout, max_retries=retries
        ) as ac:

            def job(name: str) -> Callable[[], Awaitable[None]]:
                async def go() -> None:
                    returned[name] = await outcomes.arun(
                        name,
                        lambda: ac.deployments.create(
                            deployment_name=name, model_name=DEPLOYABLE_MODEL, gpu_model=gpu, auto_retry=True
                        ),
                    )

                return go

            await gather_limited(8, [job(n) for n in names[DEPLOYMENTS // 2 :]])

    asyncio.run(run_async())

    everything = list(direct.deployments.list())
    duplicates, ambiguous = [], 0
    for name in names:
        made = [
            d
            for d in everything
            if d.deployment_name == name or (d.deployment_name or "").startswith(name + "-")
        ]
        made = [d for d in made if not (name in taken and d.deployment_name == name)]  # the pre-existing one
        if len(made) > 1:
            duplicates.append(f"{name}: {[d.deployment_name for d in made]}")
        result = returned[name]
        if result is not None:
            assert [d.deployment_id for d in made] == [result.deployment_id], name
            assert result.deployment_name in (name, *(d.deployment_name for d in made))
        elif made:
            ambiguous += 1  # the server acted but the answer was lost: a typed error, and one deployment
    report(
        f"{DEPLOYMENTS} deployment creates (auto_retry, {len(taken)} names pre-taken) through "
        f"{proxy.plan.rate:.0%} faults: {outcomes.summary()}; {len(duplicates)} calls made two deployments; "
        f"{ambiguous} typed errors where the server had acted; {proxy.summary()}; SDK retries: {retry_log.summary()}"
    )
    assert not duplicates, duplicates[:5]
    assert not outcomes.broken, outcomes.broken[:10]
    assert outcomes.calls == DEPLOYMENTS
    assert proxy.counts["reset_after"] and proxy.counts["slow"] and proxy.counts["refused"]
    for d in everything:
        if (d.deployment_name or "").startswith(f"flt-{run}-"):
            direct.deployments.delete(d.deployment_id or "")
    direct.close()


# -- 100 file uploads -------------------------------------------------------------------------------------------

UPLOADS = 100


def test_100_file_uploads_through_faults(
    rel_server: LocalServer,
    proxy_factory: ProxyFactory,
    fast_retries: float,
    retry_log: RetryLog,
    report: Report,
) -> None:
    timeout, retries = 2.0, 3
    proxy = proxy_factory(FaultPlan(seed=100, rate=0.25, slow_seconds=timeout + 0.5))
    flaky, direct = _clients(rel_server, proxy.base_url, timeout, retries)
    run = uuid.uuid4().hex[:6]
    rnd = random.Random(100)
    sources = {
        f"up-{run}-{i:03d}.jsonl": rnd.randbytes(rnd.choice([1, 100, 4096, 65_536, 300_000]))
        for i in range(UPLOADS)
    }
    digests = {name: hashlib.sha256(data).hexdigest() for name, data in sources.items()}
    outcomes = Outcomes(budget(timeout=timeout, max_retries=retries, requests=2))
    returned: dict[str, Any] = {}
    torn: list[str] = []

    def audit() -> None:
        """Every file of this run that is listed is whole: its size and bytes are the source's."""
        for f in direct.files.list():
            if f.filename in sources:
                data = direct.files.content(must(f.id))
                if (
                    f.bytes != len(sources[f.filename])
                    or hashlib.sha256(data).hexdigest() != digests[f.filename]
                ):
                    torn.append(f"{f.filename}: listed {f.bytes} bytes, content {len(data)} bytes")

    names = list(sources)
    for i, name in enumerate(names[: UPLOADS // 2]):
        returned[name] = outcomes.run(
            name, partial(flaky.files.create, file=sources[name], purpose="fine-tune", filename=name)
        )
        if i % 10 == 9:
            audit()
    flaky.close()

    async def run_async() -> None:
        async with AsyncGravixLayer(
            api_key=TENANT, base_url=proxy.base_url, timeout=timeout, max_retries=retries
        ) as ac:

            def job(name: str) -> Callable[[], Awaitable[None]]:
                async def go() -> None:
                    returned[name] = await outcomes.arun(
                        name, lambda: ac.files.create(file=sources[name], purpose="fine-tune", filename=name)
                    )

                return go

            await gather_limited(6, [job(n) for n in names[UPLOADS // 2 :]])

    asyncio.run(run_async())
    audit()

    listed = [f for f in direct.files.list() if f.filename in sources]
    per_name: dict[str, list[str]] = {}
    for f in listed:
        per_name.setdefault(f.filename or "", []).append(must(f.id))
    duplicates = {n: ids for n, ids in per_name.items() if len(ids) > 1}
    ambiguous = 0
    for name in names:
        result = returned[name]
        if result is not None:
            assert per_name.get(name) == [result.id], (
                f"{name}: call returned {result.id}, listed {per_name.get(name)}"
            )
        elif name in per_name:
            ambiguous += 1
    report(
        f"{UPLOADS} file uploads through {proxy.plan.rate:.0%} faults: {outcomes.summary()}; {len(listed)} files "
        f"registered, all byte-identical to their source ({len(torn)} partial seen in "
        f"{UPLOADS // 10 + 1} audits), {len(duplicates)} duplicated; {ambiguous} typed errors where the server had "
        f"stored the file; {proxy.summary()}; SDK retries: {retry_log.summary()}"
    )
    assert not torn, torn[:5]
    assert not duplicates, duplicates
    assert not outcomes.broken, outcomes.broken[:10]
    assert outcomes.calls == UPLOADS
    assert proxy.counts["reset_after"] and proxy.counts["slow"] and proxy.counts["refused"]
    for f in listed:
        direct.files.delete(must(f.id))
    direct.close()


def test_outcome_tally_flags_untyped_errors_and_overruns() -> None:
    """The tally the scenarios rely on does catch a broken promise (so those tests can fail)."""
    outcomes = Outcomes(budget=0.0)

    def boom() -> None:
        raise KeyError("x")

    def typed() -> None:
        raise GravixLayerError("fine")

    outcomes.run("untyped", boom)
    outcomes.run("typed", typed)
    assert outcomes.ended["GravixLayerError"] == 1
    assert any("untyped KeyError" in b for b in outcomes.broken)
    assert any("budget" in b for b in outcomes.broken)


# -- 200 sandbox creates ----------------------------------------------------------------------------------------

SANDBOXES = 200


def _named(sandboxes: list[Any], name: str) -> list[Any]:
    return [s for s in sandboxes if s.name == name]


def test_200_sandbox_creates_through_faults(
    rel_server: LocalServer,
    proxy_factory: ProxyFactory,
    fast_retries: float,
    retry_log: RetryLog,
    report: Report,
) -> None:
    """Local lets a tenant run 16 sandboxes at once, so each call's sandboxes are counted and then killed."""
    timeout, retries = 2.0, 3
    proxy = proxy_factory(FaultPlan(seed=201, rate=0.25, slow_seconds=timeout + 0.5))
    flaky, direct = _clients(rel_server, proxy.base_url, timeout, retries)
    run = uuid.uuid4().hex[:6]
    names = [f"sbx-{run}-{i:03d}" for i in range(SANDBOXES)]
    outcomes = Outcomes(budget(timeout=timeout, max_retries=retries))
    returned: dict[str, Any] = {}
    made: dict[str, list[str]] = {}

    def settle_sync(name: str) -> None:
        found = _named(list(direct.sandbox.sandboxes.list(limit=1000)), name)
        made[name] = [s.sandbox_id for s in found]
        for s in found:
            direct.sandbox.sandboxes.kill(s.sandbox_id)

    for name in names[: SANDBOXES // 2]:
        returned[name] = outcomes.run(
            name,
            partial(
                flaky.sandbox.sandboxes.create, provider="gravix", region="local", name=name, timeout=300
            ),
        )
        settle_sync(name)
    flaky.close()

    async def run_async() -> None:
        async with (
            AsyncGravixLayer(
                api_key=TENANT, base_url=proxy.base_url, timeout=timeout, max_retries=retries
            ) as ac,
            AsyncGravixLayer(api_key=TENANT, base_url=rel_server.base_url, max_retries=0) as truth,
        ):

            def job(name: str) -> Callable[[], Awaitable[None]]:
                async def go() -> None:
                    returned[name] = await outcomes.arun(
                        name,
                        lambda: ac.sandbox.sandboxes.create(
                            provider="gravix", region="local", name=name, timeout=300
                        ),
                    )
                    found = _named(list(await truth.sandbox.sandboxes.list(limit=1000)), name)
                    made[name] = [s.sandbox_id for s in found]
                    for s in found:
                        await truth.sandbox.sandboxes.kill(s.sandbox_id)

                return go

            await gather_limited(6, [job(n) for n in names[SANDBOXES // 2 :]])

    asyncio.run(run_async())

    duplicates = {n: ids for n, ids in made.items() if len(ids) > 1}
    ambiguous = 0
    for name in names:
        result = returned[name]
        if result is not None:
            assert made[name] == [result.sandbox_id], (
                f"{name}: returned {result.sandbox_id}, found {made[name]}"
            )
        elif made[name]:
            ambiguous += 1
    report(
        f"{SANDBOXES} sandbox creates through {proxy.plan.rate:.0%} faults: {outcomes.summary()}; "
        f"{sum(map(len, made.values()))} sandboxes made, {len(duplicates)} calls made two; {ambiguous} typed errors "
        f"where the server had acted; {proxy.summary()}; SDK retries: {retry_log.summary()}"
    )
    direct.close()
    assert not duplicates, duplicates
    assert not outcomes.broken, outcomes.broken[:10]
    assert outcomes.calls == SANDBOXES
    assert outcomes.ended["ok"] > SANDBOXES // 2
    assert proxy.counts["reset_after"] and proxy.counts["slow"] and proxy.counts["refused"]
