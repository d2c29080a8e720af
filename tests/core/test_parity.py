"""Sync and async must not drift: every public resource method has an async twin with the same signature."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import gravixlayer.resources as resources_pkg
from gravixlayer import AsyncGravixLayer, GravixLayer
from gravixlayer._resource import AsyncAPIResource, SyncAPIResource


def resource_pairs() -> list[tuple[type, type]]:
    pairs = []
    for info in pkgutil.walk_packages(resources_pkg.__path__, resources_pkg.__name__ + "."):
        module = importlib.import_module(info.name)
        for name, cls in vars(module).items():
            if not inspect.isclass(cls) or cls.__module__ != module.__name__:
                continue
            if issubclass(cls, SyncAPIResource) and cls is not SyncAPIResource:
                twin = getattr(module, "Async" + name, None)
                assert twin is not None, f"{module.__name__}.{name} has no Async{name}"
                assert issubclass(twin, AsyncAPIResource)
                pairs.append((cls, twin))
    return pairs


def public_methods(cls: type) -> dict[str, object]:
    return {
        name: member
        for name, member in inspect.getmembers(cls)
        if not name.startswith("_") and (inspect.isfunction(member) or isinstance(member, property))
    }


def comparable(sig: inspect.Signature) -> list[tuple[str, object, object]]:
    return [(p.name, p.kind, p.default) for p in sig.parameters.values()]


PAIRS = resource_pairs()


def test_resources_were_found() -> None:
    assert len(PAIRS) >= 4


@pytest.mark.parametrize("sync_cls,async_cls", PAIRS, ids=[f"{s.__module__}.{s.__name__}" for s, _ in PAIRS])
def test_async_twin_has_same_methods_and_signatures(sync_cls: type, async_cls: type) -> None:
    sync_methods = public_methods(sync_cls)
    async_methods = public_methods(async_cls)
    assert sorted(sync_methods) == sorted(async_methods)
    for name, member in sync_methods.items():
        if isinstance(member, property):
            continue
        twin = async_methods[name]
        assert comparable(inspect.signature(member)) == comparable(inspect.signature(twin)), name  # type: ignore[arg-type]


def test_clients_expose_the_same_services() -> None:
    def surface(cls: type) -> set[str]:
        return {n for n in dir(cls) if not n.startswith("_")}

    assert surface(GravixLayer) - {"__enter__", "__exit__"} == surface(AsyncGravixLayer) - {"aclose"}
    for name in ("chat", "completions", "embeddings", "files", "deployments", "accelerators", "vectors", "sandbox", "memory"):
        assert name in surface(GravixLayer)
