"""Which catalogue model answers a requested model id (chat and text completions).

Programs written for the platform name models in many ways: a catalogue id in any case
(`Qwen/Qwen-2.5-VL-7B-Instruct`), an Ollama or Hugging Face id (`llama3.1:8b`,
`meta-llama/Llama-3.2-3B-Instruct`), or one of their own deployments, by name or id. The platform serves
all of these; so does Local, in this order:

1. a catalogue id (``standin.CHAT_MODELS``, any case);
2. a deployment of the caller's key, by name or id, while it is ``running`` (its model answers; a
   deployment that is still ``creating`` or ``failed`` is a 409 saying so);
3. an alias: the operator's (``--model-alias NAME=TARGET``, ``LocalConfig.model_aliases``) first, then
   ``DEFAULT_ALIASES`` below (any case);
4. with ``--any-model`` (``LocalConfig.any_model``, ``GRAVIXLAYER_LOCAL_ANY_MODEL=1``) every other id is
   served by ``ANY_MODEL_TARGET``; without it (the default) an unknown id is a 404 that names the
   catalogue and both options.

Only the mapping lives here; what produces the answer for a catalogue id is the inference engine's job.
With an upstream server (``GRAVIXLAYER_LOCAL_UPSTREAM``) model ids are forwarded unchanged.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from starlette.requests import Request

from . import standin
from .errors import LocalAPIError
from .storage import Storage, tenant_of

if TYPE_CHECKING:
    from ._config import LocalConfig

__all__ = [
    "DEFAULT_ALIASES",
    "ANY_MODEL_TARGET",
    "Resolution",
    "resolve",
    "resolve_request",
    "check_aliases",
    "parse_alias",
]

_LLAMA_8B = "meta-llama/llama-3.1-8b-instruct"
_LLAMA_70B = "meta-llama/llama-3.1-70b-instruct"
_QWEN_VL_7B = "qwen/qwen-2.5-vl-7b-instruct"
_NEMO = "mistralai/mistral-nemo-instruct-2407"

DEFAULT_ALIASES: Mapping[str, str] = {
    # Ollama tags
    "llama3.1": _LLAMA_8B,
    "llama3.1:8b": _LLAMA_8B,
    "llama3.1:latest": _LLAMA_8B,
    "llama3.1:70b": _LLAMA_70B,
    "llama3": _LLAMA_8B,
    "llama3:8b": _LLAMA_8B,
    "llama3.2": _LLAMA_8B,
    "llama3.2:1b": _LLAMA_8B,
    "llama3.2:3b": _LLAMA_8B,
    "qwen2.5": _QWEN_VL_7B,
    "qwen2.5:7b": _QWEN_VL_7B,
    "qwen2.5vl": _QWEN_VL_7B,
    "qwen2.5vl:7b": _QWEN_VL_7B,
    "mistral-nemo": _NEMO,
    "mistral-nemo:12b": _NEMO,
    # Hugging Face / OpenRouter-style ids (matched in any case)
    "meta-llama/llama-3.2-1b-instruct": _LLAMA_8B,
    "meta-llama/llama-3.2-3b-instruct": _LLAMA_8B,
    "meta-llama/meta-llama-3.1-8b-instruct": _LLAMA_8B,
    "meta-llama/meta-llama-3.1-70b-instruct": _LLAMA_70B,
    "meta-llama/llama-3-8b-instruct": _LLAMA_8B,
    "qwen/qwen2.5-vl-7b-instruct": _QWEN_VL_7B,
    "qwen/qwen2.5-7b-instruct": _QWEN_VL_7B,
    "mistralai/mistral-nemo-instruct-2407-fp8": _NEMO,
    # Provider-less names of hosted models
    "gpt-4o-mini": "openai/gpt-4o-mini",
    "claude-3-haiku-20240307": "anthropic/claude-3-haiku-20240307",
}
"""Common open-model ids and where Local sends them (the nearest catalogue model by family and size)."""

ANY_MODEL_TARGET = standin.CHAT_MODELS[0]
"""What answers an otherwise unknown id when ``any_model`` is on: the default catalogue model, so the
local language model (not the stand-in) answers, and the answer's ``model`` says which one did."""

_DEPLOYMENT_HINT = "a running deployment's name or id"


@dataclass(frozen=True)
class Resolution:
    """The catalogue id that answers, and how the requested id was matched."""

    model: str
    via: str
    """``catalogue``, ``deployment``, ``alias`` or ``any-model``."""


def parse_alias(text: str) -> tuple[str, str]:
    """``NAME=TARGET`` (the ``--model-alias`` syntax) as a pair; ValueError saying what is wrong."""
    name, sep, target = text.partition("=")
    if not sep or not name.strip() or not target.strip():
        raise ValueError(f"model alias must look like NAME=TARGET, got {text!r}")
    return name.strip(), target.strip()


def check_aliases(aliases: Mapping[str, str]) -> dict[str, str]:
    """The operator's aliases keyed in lower case, each target a catalogue id (ValueError otherwise)."""
    checked: dict[str, str] = {}
    for name, target in aliases.items():
        model = standin.resolve_chat_model(target)
        if model is None:
            raise ValueError(
                f"model alias {name}={target}: {target!r} is not a catalogue model "
                f"({', '.join(standin.CHAT_MODELS)})"
            )
        checked[name.lower()] = model
    return checked


def _deployment(storage: Storage, tenant: str, ref: str) -> sqlite3.Row | None:
    return storage.query_one(
        "SELECT name, model_name, ready_at, outcome, failure_reason FROM deployments_items"
        " WHERE tenant = ? AND (name = ? OR id = ?)",
        (tenant, ref, ref),
    )


def _from_deployment(row: sqlite3.Row, requested: str) -> Resolution:
    if time.time() < row["ready_at"]:
        raise LocalAPIError(
            409, "deployment_not_ready", f"deployment {row['name']!r} is still creating; wait until it is running"
        )
    if row["outcome"] != "running":
        reason = f": {row['failure_reason']}" if row["failure_reason"] else ""
        raise LocalAPIError(409, "deployment_failed", f"deployment {row['name']!r} failed{reason}")
    return Resolution(str(row["model_name"]), "deployment")


def _not_found(requested: str) -> LocalAPIError:
    return LocalAPIError(
        404,
        "model_not_found",
        f"unknown model {requested!r}; available chat models: {', '.join(standin.CHAT_MODELS)}, or "
        f"{_DEPLOYMENT_HINT}. Map other ids with --model-alias NAME=TARGET (LocalConfig.model_aliases), "
        "or serve every id with --any-model (GRAVIXLAYER_LOCAL_ANY_MODEL=1)",
    )


def resolve(
    requested: str, config: LocalConfig, storage: Storage | None = None, tenant: str | None = None
) -> Resolution:
    """The catalogue model that answers `requested` for `tenant`, or a 404/409 `LocalAPIError`."""
    model = standin.resolve_chat_model(requested)
    if model is not None:
        return Resolution(model, "catalogue")
    if storage is not None and tenant is not None:
        row = _deployment(storage, tenant, requested)
        if row is not None:
            return _from_deployment(row, requested)
    key = requested.lower()
    target = config.model_aliases.get(key) or DEFAULT_ALIASES.get(key)
    if target is not None:
        return Resolution(target, "alias")
    if config.any_model:
        return Resolution(ANY_MODEL_TARGET, "any-model")
    raise _not_found(requested)


def resolve_request(request: Request, requested: str) -> Resolution:
    """`resolve` for an inference request: the app's config and storage, the caller's tenant."""
    state = request.app.state
    storage: Storage | None = getattr(state, "storage", None)
    return resolve(requested, state.config, storage, tenant_of(request))
