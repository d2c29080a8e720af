"""Who gets in: each API key is a tenant; no key or a wrong key is a 401.

Tenant A creates one of every resource; tenant B tries to list, read, change and delete each of them
and must see "not found" every time (never A's data, never a 403 that confirms it exists), and A's
resources must be unchanged afterwards.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from gravixlayer import GravixLayer, GravixLayerNotFoundError
from gravixlayer.local import LocalServer

from ._config import KEYS
from ._known_ids import DEPLOYABLE_MODEL, gpu_model
from ._outcomes import must
from .test_bad_input import ROUTES, _fill

MEMORY_MODEL = "microsoft/multilingual-e5-large"


@pytest.fixture(scope="module")
def tenants(rel_server: LocalServer) -> Iterator[tuple[GravixLayer, GravixLayer]]:
    a = GravixLayer(api_key=KEYS[0], base_url=rel_server.base_url, max_retries=0)
    b = GravixLayer(api_key=KEYS[1], base_url=rel_server.base_url, max_retries=0)
    with a, b:
        yield a, b


def _served(client: GravixLayer, path: str) -> bool:
    """Whether Local serves this path at all (a service may not have landed yet)."""
    with httpx.Client(
        base_url=client.base_url, headers={"authorization": f"Bearer {client.api_key}"}
    ) as http:
        body = http.get(path).json()
    return not (isinstance(body, dict) and str(body.get("error", "")).startswith("no route"))


def _refused(attempts: dict[str, Callable[[], Any]]) -> None:
    """Every attempt must end in not-found; collect the ones that did not."""
    leaked = []
    for name, attempt in attempts.items():
        try:
            result = attempt()
        except GravixLayerNotFoundError:
            continue
        except Exception as exc:
            leaked.append(f"{name}: {type(exc).__name__}: {exc}")
        else:
            leaked.append(f"{name}: answered {result!r}"[:300])
    assert not leaked, leaked


def test_files_are_private(tenants: tuple[GravixLayer, GravixLayer]) -> None:
    a, b = tenants
    content = b'{"prompt": "private", "completion": "data"}\n' * 5
    fid = must(
        a.files.create(file=content, purpose="fine-tune", filename=f"secret-{uuid.uuid4().hex[:6]}.jsonl").id
    )
    assert fid not in {x.id for x in b.files.list()}
    _refused(
        {
            "retrieve": lambda: b.files.retrieve(fid),
            "content": lambda: b.files.content(fid),
            "delete": lambda: b.files.delete(fid),
        }
    )
    assert a.files.content(fid) == content
    assert fid in {x.id for x in a.files.list()}
    a.files.delete(fid)


def test_deployments_are_private(tenants: tuple[GravixLayer, GravixLayer]) -> None:
    a, b = tenants
    gpu = gpu_model(a)
    name = f"private-{uuid.uuid4().hex[:8]}"
    d = a.deployments.create(deployment_name=name, model_name=DEPLOYABLE_MODEL, gpu_model=gpu)
    did = must(d.deployment_id)
    seen_by_b = {(x.deployment_id, x.deployment_name) for x in b.deployments.list()}
    assert not any(did == i or name == n for i, n in seen_by_b)
    _refused(
        {
            "get by id": lambda: b.deployments.get(did),
            "get by name": lambda: b.deployments.get(name),
            "delete by id": lambda: b.deployments.delete(did),
            "delete by name": lambda: b.deployments.delete(name),
        }
    )
    # Names are per tenant: B may use the same name without touching A's deployment.
    mine = b.deployments.create(deployment_name=name, model_name=DEPLOYABLE_MODEL, gpu_model=gpu)
    assert mine.deployment_id != d.deployment_id
    assert a.deployments.get(name).deployment_id == d.deployment_id
    b.deployments.delete(must(mine.deployment_id))
    assert a.deployments.get(did).deployment_name == name
    a.deployments.delete(did)


def test_indexes_and_vectors_are_private(tenants: tuple[GravixLayer, GravixLayer]) -> None:
    a, b = tenants
    if not _served(a, "/v1/vectors/indexes"):
        pytest.skip("the vectors service is not served yet")
    name = f"private-{uuid.uuid4().hex[:8]}"
    index = a.vectors.indexes.create(
        name=name, dimension=3, metric="cosine", cloud_provider="AWS", region="us-east-1"
    )
    va = a.vectors.index(index.id)
    va.upsert([1.0, 0.0, 0.0], id="v1", metadata={"owner": "a"})
    va.upsert([0.0, 1.0, 0.0], id="v2", metadata={"owner": "a"})
    vb = b.vectors.index(index.id)
    assert index.id not in {x.id for x in b.vectors.indexes.list()}
    assert b.vectors.indexes.find(name) is None
    _refused(
        {
            "index get": lambda: b.vectors.indexes.get(index.id),
            "index update": lambda: b.vectors.indexes.update(index.id, metadata={"owner": "b"}),
            "index delete": lambda: b.vectors.indexes.delete(index.id),
            "upsert": lambda: vb.upsert([0.0, 0.0, 1.0], id="v3"),
            "upsert over a's id": lambda: vb.upsert([0.0, 0.0, 1.0], id="v1"),
            "batch upsert": lambda: vb.upsert_many([{"id": "v4", "embedding": [1.0, 1.0, 0.0]}]),
            "search": lambda: vb.search([1.0, 0.0, 0.0], limit=5),
            "get vector": lambda: vb.get("v1"),
            "list vectors": lambda: vb.list(),
            "list ids": lambda: vb.list_ids(),
            "update vector": lambda: vb.update("v1", metadata={"owner": "b"}),
            "delete vector": lambda: vb.delete("v1"),
            "batch delete": lambda: vb.batch_delete(["v1", "v2"]),
        }
    )
    # B's own index of the same name is separate.
    other = b.vectors.indexes.create(
        name=name, dimension=3, metric="cosine", cloud_provider="AWS", region="us-east-1"
    )
    assert other.id != index.id
    assert list(b.vectors.index(other.id).list_ids()) == []
    b.vectors.indexes.delete(other.id)
    # A's data is untouched.
    assert sorted(va.list_ids()) == ["v1", "v2"]
    assert va.get("v1").metadata == {"owner": "a"}
    assert [h.id for h in va.search([1.0, 0.0, 0.0], limit=1)] == ["v1"]
    a.vectors.indexes.delete(index.id)


def test_memories_are_private(tenants: tuple[GravixLayer, GravixLayer]) -> None:
    a, b = tenants
    if not _served(a, "/v1/vectors/indexes"):
        pytest.skip("the vectors service is not served yet")
    index_name = f"mem-{uuid.uuid4().hex[:8]}"
    args: dict[str, Any] = {
        "embedding_model": MEMORY_MODEL,
        "inference_model": DEPLOYABLE_MODEL,
        "index_name": index_name,
        "cloud_provider": "AWS",
        "region": "us-east-1",
    }
    ma, mb = a.memory(**args), b.memory(**args)
    added = ma.add("I keep my savings in a blue jar", user_id="alice", infer=False)
    memory_id = added.results[0].id
    # The same user id under another key is another person.
    assert mb.get_all(user_id="alice").results == []
    assert mb.search("savings jar", user_id="alice").results == []
    assert mb.get(memory_id, user_id="alice") is None
    assert [m.id for m in ma.get_all(user_id="alice").results] == [memory_id]
    ma.delete_all(user_id="alice")


def test_sandboxes_are_private(tenants: tuple[GravixLayer, GravixLayer]) -> None:
    a, b = tenants
    if not _served(a, "/v1/agents/templates"):
        pytest.skip("the sandbox service is not served yet")
    sb = a.sandbox.sandboxes.create(provider="gravix", region="local", timeout=120)
    sid = sb.sandbox_id
    try:
        a.sandbox.sandboxes.write_file(sid, "/home/user/secret.txt", "a's secret")
        s = b.sandbox.sandboxes
        assert sid not in {x.sandbox_id for x in s.list()}
        _refused(
            {
                "get": lambda: s.get(sid),
                "run_code": lambda: s.run_code(sid, "print(open('/home/user/secret.txt').read())"),
                "run_command": lambda: s.run_command(sid, "cat", args=["secret.txt"]),
                "read_file": lambda: s.read_file(sid, "/home/user/secret.txt"),
                "write_file": lambda: s.write_file(sid, "/home/user/secret.txt", "b was here"),
                "list_files": lambda: s.list_files(sid, "/home/user"),
                "delete_file": lambda: s.delete_file(sid, "/home/user/secret.txt"),
                "download_file": lambda: s.download_file(sid, "/home/user/secret.txt"),
                "make_directory": lambda: s.make_directory(sid, "/home/user/b"),
                "create_code_context": lambda: s.create_code_context(sid),
                "metrics": lambda: s.get_metrics(sid),
                "set_timeout": lambda: s.set_timeout(sid, 600),
                "host url": lambda: s.get_host_url(sid, 8080),
                "kill": lambda: s.kill(sid),
            }
        )
        assert a.sandbox.sandboxes.read_file(sid, "/home/user/secret.txt").content == "a's secret"
        assert a.sandbox.sandboxes.get(sid).status in ("running", "started", "active")
    finally:
        a.sandbox.sandboxes.kill(sid)


@pytest.mark.parametrize(
    "auth", [None, "Bearer wrong-key", f"Basic {KEYS[0]}", f"Bearer {KEYS[0]}x", "Bearer"]
)
def test_every_route_refuses_a_missing_or_wrong_key(rel_server: LocalServer, auth: str | None) -> None:
    headers = {"authorization": auth} if auth is not None else {}
    with httpx.Client(base_url=rel_server.base_url, headers=headers) as http:
        for method, path in ROUTES:
            if path == "/health":
                continue
            url = _fill(path, {})
            response = http.request(method, url, json={} if method in ("POST", "PUT", "PATCH") else None)
            assert response.status_code == 401, f"{method} {url}: {response.status_code}"
            assert response.json()["code"] == "unauthorized"
            assert KEYS[0] not in response.text
