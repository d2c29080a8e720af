"""`client.memory(...)`: long-term memories of users, stored as vectors (spec §7, decision 21).

There is no memory endpoint: a memory is one vector in the index `index_name`, its text embedded by
the server (`text/upsert`), its owner in the metadata key `user_id`. Every operation is written once
here as a `Step` generator (`_MemoryCore`); `Memory` and `AsyncMemory` only drive it.

What this fixes in the vendor's memory (spec §10, D39-D45):

* isolation: every read filters on `user_id` on the server *and* checks it here; caller metadata
  can never set `user_id`, `content`, `hash` or the timestamps; a memory of another user is
  "not found" to every call;
* `get_all` lists every memory of the user (ids, then fetches), not a search for a fixed word, and
  `delete_all` deletes all of them, however many, checking again until none remain;
* reads never write (no access counters), and reads never create the index;
* failures raise typed errors; nothing is printed;
* the index is looked up across all pages, created once (sized by asking the embedding model for
  one vector), and a concurrent creation (409) is resolved by looking it up again;
* `infer=True` asks the inference model for a JSON array of atomic memories, validates it against a
  strict schema, and stores the conversation as one episodic memory (with a logged warning) when
  the answer is unusable; timestamps are timezone-aware UTC ISO-8601.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
import uuid
from collections.abc import Generator, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote

from typing_extensions import Unpack

from .._base_client import AsyncAPIClient, SyncAPIClient
from .._exceptions import (
    GravixLayerBadRequestError,
    GravixLayerConflictError,
    GravixLayerNotFoundError,
    GravixLayerResponseValidationError,
    GravixLayerValidationError,
)
from .._parse import json_body, parse_model, to_model
from .._request import APIRequest, Step
from .._resource import wrap_public_methods
from .._types import RequestOptions
from .._validation import as_message_dicts, require_positive_int, require_str
from ..types.memory import (
    MEMORY_TYPES,
    MemoryAddResult,
    MemoryDeleteResult,
    MemoryEvent,
    MemoryItem,
    MemoryResults,
)
from ..types.vectors import SearchResponse, UpsertResponse, Vector, VectorIndex
from .vectors.indexes import create_index_request, find_index_step, normalize_cloud_provider
from .vectors.vectors import MAX_BATCH_VECTORS, MAX_DELETE_IDS, MAX_TOP_K, fetch_chunks, fetch_step

__all__ = ["Memory", "AsyncMemory", "EXTRACTION_PROMPT", "parse_extracted_memories"]

log = logging.getLogger("gravixlayer.memory")

RESERVED_KEYS = frozenset({"user_id", "content", "hash", "created_at", "updated_at"})
"""Metadata keys only the memory layer writes (decision 21); caller metadata naming one is refused."""
MAX_MEMORY_CHARS = 4000
_MAX_DELETE_ROUNDS = 100

EXTRACTION_PROMPT = (
    "You extract long-term memories about the user from a conversation. Reply with JSON only, no prose: "
    "an array of objects, one per atomic fact the user stated about themselves (preferences, personal "
    "facts, decisions and plans, habits), each "
    '{"content": <the fact as a short first-person sentence, e.g. "I prefer Python">, '
    '"memory_type": "factual" | "episodic" | "semantic", "importance": <number from 0.1 to 1.0>, '
    '"category": "preferences" | "personal" | "decisions" | "behavior"}. '
    "Use only what the user said, never the assistant. Reply [] when there is nothing worth remembering."
)
"""The system message of the extraction request (asks for the strict schema `parse_extracted_memories` reads)."""

_TYPE_ALIASES = {"preference": "factual", "preferences": "factual", "fact": "factual"}
_FENCE = re.compile(r"^\s*```(?:json)?\s*|\s*```\s*$", re.I)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()


def _hash(content: str) -> str:
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _caller_metadata(metadata: Mapping[str, Any] | None) -> dict[str, Any]:
    if metadata is None:
        return {}
    if not isinstance(metadata, Mapping):
        raise GravixLayerValidationError(f"metadata must be a dict, got {type(metadata).__name__}")
    taken = sorted(RESERVED_KEYS & set(metadata))
    if taken:
        raise GravixLayerValidationError(
            f"metadata may not set {', '.join(taken)}: the memory layer owns those keys "
            "(the owner is the user_id argument)"
        )
    result = dict(metadata)
    if "memory_type" in result:
        result["memory_type"] = _memory_type(result["memory_type"], "metadata['memory_type']")
    if "importance_score" in result:
        result["importance_score"] = _importance(result["importance_score"], "metadata['importance_score']")
    return result


def _memory_type(value: Any, name: str) -> str:
    text = str(value).strip().lower() if isinstance(value, str) else ""
    text = _TYPE_ALIASES.get(text, text)
    if text not in MEMORY_TYPES:
        raise GravixLayerValidationError(f"{name} must be one of {', '.join(MEMORY_TYPES)}; got {value!r}")
    return text


def _importance(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= float(value) <= 1.0:
        raise GravixLayerValidationError(f"{name} must be a number between 0 and 1, got {value!r}")
    return float(value)


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            str(part.get("text", "")) for part in content if isinstance(part, Mapping) and part.get("type") == "text"
        )
    return "" if content is None else str(content)


def _transcript(messages: list[dict[str, Any]]) -> str:
    return "\n".join(f"{str(m['role']).upper()}: {_text_of(m.get('content')).strip()}" for m in messages)


# -- extraction ------------------------------------------------------------------------------------


@dataclass
class _Draft:
    """A memory about to be written."""

    content: str
    memory_type: str = "factual"
    metadata: dict[str, Any] = field(default_factory=dict)


def _json_candidates(text: str) -> Iterable[str]:
    stripped = _FENCE.sub("", text.strip())
    yield stripped
    for opener, closer in (("[", "]"), ("{", "}")):
        start, end = stripped.find(opener), stripped.rfind(closer)
        if 0 <= start < end:
            yield stripped[start : end + 1]


def parse_extracted_memories(text: str) -> list[dict[str, Any]]:
    """The memories in an extraction answer, validated; raises ValueError when the answer is unusable.

    Schema: a JSON array (or `{"memories": [...]}`) of objects with a non-empty string `content`;
    optional `memory_type` (or `type`) among factual/episodic/semantic/working ("preference" means
    factual), optional `importance` in [0, 1], optional string `category` (also read from
    `metadata.category`). Every item must pass, or the whole answer is refused.
    """
    data: Any = None
    for candidate in _json_candidates(text):
        try:
            data = json.loads(candidate)
            break
        except ValueError:
            continue
    else:
        raise ValueError("the answer holds no JSON")
    if isinstance(data, dict) and isinstance(data.get("memories"), list):
        data = data["memories"]
    if not isinstance(data, list):
        raise ValueError(f"expected a JSON array of memories, got {type(data).__name__}")
    memories: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, item in enumerate(data):
        if not isinstance(item, dict):
            raise ValueError(f"item {i} is not an object")
        content = item.get("content")
        if not isinstance(content, str) or not content.strip():
            raise ValueError(f"item {i} has no 'content' string")
        if len(content) > MAX_MEMORY_CHARS:
            raise ValueError(f"item {i} is longer than {MAX_MEMORY_CHARS} characters")
        kind = item.get("memory_type", item.get("type", "factual"))
        try:
            memory_type = _memory_type(kind, "memory_type")
        except GravixLayerValidationError:
            raise ValueError(f"item {i} has an unknown memory_type {kind!r}") from None
        importance = item.get("importance", 0.5)
        if isinstance(importance, bool) or not isinstance(importance, (int, float)) or not math.isfinite(importance):
            raise ValueError(f"item {i} has a non-numeric importance {importance!r}")
        if not 0.0 <= importance <= 1.0:
            raise ValueError(f"item {i} has importance {importance} outside [0, 1]")
        nested = item.get("metadata")
        category = item.get("category", nested.get("category") if isinstance(nested, dict) else None)
        if category is not None and not isinstance(category, str):
            raise ValueError(f"item {i} has a non-string category")
        key = content.strip().lower()
        if key in seen:
            continue
        seen.add(key)
        memories.append(
            {"content": content.strip(), "memory_type": memory_type, "importance": float(importance), "category": category}
        )
    return memories


def _chat_text(data: Any) -> str | None:
    try:
        content = data["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError):
        return None
    return content if isinstance(content, str) else None


# -- the one implementation ------------------------------------------------------------------------


class _MemoryCore:
    """Configuration, the cached index id, and every operation as a `Step`."""

    def __init__(
        self,
        client: SyncAPIClient | AsyncAPIClient,
        *,
        embedding_model: str,
        inference_model: str,
        index_name: str,
        cloud_provider: str,
        region: str,
        delete_protection: bool,
    ) -> None:
        self.client = client
        self.embedding_model = require_str("embedding_model", embedding_model)
        self.inference_model = require_str("inference_model", inference_model)
        self.index_name = require_str("index_name", index_name)
        self.cloud_provider = normalize_cloud_provider(cloud_provider, client)
        self.region = require_str("region", region)
        self.delete_protection = bool(delete_protection)
        self.index_id: str | None = None

    # -- the index ---------------------------------------------------------------------------------

    def resolve_index(self, options: RequestOptions, *, create: bool) -> Step[str | None]:
        """The memory index's id: looked up once (all pages), created when `create` and missing."""
        if self.index_id is not None:
            return self.index_id
        found = yield from find_index_step(self.index_name, options)
        if found is None and create:
            found = yield from self._create_index(options)
        if found is not None:
            self.index_id = found.id
        return self.index_id

    def _forget_deleted_index(self, exc: GravixLayerNotFoundError) -> None:
        """A read found the cached index gone: it holds no memories; the next call looks it up again."""
        if exc.code == "model_not_found":
            raise exc
        self.index_id = None

    def _require_index(self, options: RequestOptions) -> Step[str]:
        index_id = yield from self.resolve_index(options, create=True)
        assert index_id is not None
        return index_id

    def _create_index(self, options: RequestOptions) -> Step[VectorIndex]:
        dimension = yield from self._model_dimension(options)
        request = create_index_request(
            self.client, name=self.index_name, dimension=dimension, metric="cosine",
            cloud_provider=self.cloud_provider, region=self.region, vector_type="dense", index_type="serverless",
            metadata={
                "type": "unified_memory_store", "embedding_model": self.embedding_model, "dimension": dimension,
                "created_at": _now(), "description": "GravixLayer memory store (one vector per memory)",
            },
            delete_protection=self.delete_protection, options=options,
        )  # fmt: skip
        try:
            response = yield request
        except GravixLayerConflictError:
            # Created meanwhile by another process: use that one rather than a second index.
            found = yield from find_index_step(self.index_name, options)
            if found is None:
                raise
            return found
        index = parse_model(VectorIndex, response)
        log.info("created memory index %r (%s, %d dimensions)", self.index_name, index.id, dimension)
        return index

    def _model_dimension(self, options: RequestOptions) -> Step[int]:
        """The embedding model's dimension, asked of the model itself (tables go stale, D45)."""
        request = APIRequest("POST", "inference", "embeddings", options=options).with_body(
            {"model": self.embedding_model, "input": "dimension probe", "encoding_format": "float"}
        )
        response = yield request
        data = json_body(response)
        try:
            vector = data["data"][0]["embedding"]
        except (KeyError, IndexError, TypeError):
            vector = None
        if not isinstance(vector, list) or not vector:
            raise GravixLayerResponseValidationError(
                f"the embeddings answer for {self.embedding_model!r} holds no vector; cannot size the memory index",
                status_code=response.status_code, body=data, response=response,
            )  # fmt: skip
        return len(vector)

    # -- records -----------------------------------------------------------------------------------

    def _record(self, draft: _Draft, user_id: str, now: str) -> dict[str, Any]:
        metadata = {
            **draft.metadata,
            "memory_type": draft.metadata.get("memory_type", draft.memory_type),
            "importance_score": draft.metadata.get("importance_score", 1.0),
            "user_id": user_id,
            "content": draft.content,
            "hash": _hash(draft.content),
            "created_at": now,
            "updated_at": now,
        }
        return {"id": str(uuid.uuid4()), "text": draft.content, "model": self.embedding_model, "metadata": metadata}

    @staticmethod
    def _item(vector_id: str, metadata: Mapping[str, Any], score: float | None = None) -> MemoryItem:
        return MemoryItem(
            id=vector_id,
            memory=str(metadata.get("content") or ""),
            user_id=metadata.get("user_id"),
            memory_type=metadata.get("memory_type"),
            hash=metadata.get("hash"),
            score=score,
            metadata=dict(metadata),
            created_at=_parse_time(metadata.get("created_at")),
            updated_at=_parse_time(metadata.get("updated_at")),
        )

    def _write(self, index_id: str, records: list[dict[str, Any]], options: RequestOptions) -> Step[None]:
        """Store records through `text/batch`; each carries its id, so a retry rewrites the same memories."""
        path = f"{_quoted(index_id)}/text/batch"
        for start in range(0, len(records), MAX_BATCH_VECTORS):
            chunk = records[start : start + MAX_BATCH_VECTORS]
            response = yield APIRequest("POST", "vectors", path, options=options).with_body({"vectors": chunk})
            answer = to_model(UpsertResponse, json_body(response), response)
            if answer.failed_count or answer.upserted_count == 0:
                raise GravixLayerBadRequestError(
                    f"the server stored {answer.upserted_count} of {len(chunk)} memories: {answer.errors}",
                    status_code=response.status_code, body=json_body(response), response=response,
                    request_id=response.headers.get("x-request-id"),
                )  # fmt: skip

    # -- add ---------------------------------------------------------------------------------------

    def add(
        self, messages: Any, user_id: str, metadata: Mapping[str, Any] | None, infer: bool, options: RequestOptions
    ) -> Step[MemoryAddResult]:
        user_id = require_str("user_id", user_id)
        extra = _caller_metadata(metadata)
        if isinstance(messages, str):
            content = require_str("messages", messages)
            if len(content) > MAX_MEMORY_CHARS:
                raise GravixLayerValidationError(f"a memory is at most {MAX_MEMORY_CHARS} characters")
            drafts = [_Draft(content, "factual", {"source": "direct", **extra})]
        else:
            conversation = as_message_dicts(messages)
            if infer:
                drafts = yield from self._infer(conversation, extra, options)
            else:
                drafts = [self._episodic(conversation, extra, "conversation")]
        if not drafts:
            return MemoryAddResult(results=[])
        index_id = yield from self._require_index(options)
        now = _now()
        records = [self._record(draft, user_id, now) for draft in drafts]
        try:
            yield from self._write(index_id, records, options)
        except GravixLayerNotFoundError as exc:
            if exc.code == "model_not_found":
                raise
            # The cached index was deleted meanwhile: find or create it again, once.
            self.index_id = None
            index_id = yield from self._require_index(options)
            yield from self._write(index_id, records, options)
        return MemoryAddResult(
            results=[
                MemoryEvent(id=r["id"], memory=r["text"], event="ADD", memory_type=r["metadata"]["memory_type"])
                for r in records
            ]
        )

    @staticmethod
    def _episodic(conversation: list[dict[str, Any]], extra: dict[str, Any], source: str) -> _Draft:
        text = "Conversation:\n" + _transcript(conversation)
        metadata = {"source": source, "inferred": False, "message_count": len(conversation), **extra}
        return _Draft(text[:MAX_MEMORY_CHARS], "episodic", metadata)

    def _infer(
        self, conversation: list[dict[str, Any]], extra: dict[str, Any], options: RequestOptions
    ) -> Generator[APIRequest, Any, list[_Draft]]:
        body = {
            "model": self.inference_model,
            "messages": [
                {"role": "system", "content": EXTRACTION_PROMPT},
                {"role": "user", "content": "Conversation:\n" + _transcript(conversation)},
            ],
            "temperature": 0,
            "max_tokens": 1000,
            "stream": False,
        }
        # A chat call that fails raises (typed); only an unusable *answer* falls back.
        response = yield APIRequest("POST", "inference", "chat/completions", options=options).with_body(body)
        text = _chat_text(json_body(response))
        try:
            if text is None:
                raise ValueError("the answer has no message content")
            found = parse_extracted_memories(text)
        except ValueError as exc:
            log.warning(
                "memory extraction by %s gave an unusable answer (%s); storing the conversation as one "
                "episodic memory instead", self.inference_model, exc,
            )  # fmt: skip
            return [self._episodic(conversation, extra, "extraction_fallback")]
        return [
            _Draft(
                m["content"],
                m["memory_type"],
                {
                    **({"category": m["category"]} if m["category"] is not None else {}),
                    "importance_score": m["importance"],
                    "inferred": True,
                    "source": "inference",
                    "inference_model": self.inference_model,
                    **extra,
                },
            )
            for m in found
        ]

    # -- reads -------------------------------------------------------------------------------------

    def search(
        self, query: str, user_id: str, limit: int, threshold: float | None, options: RequestOptions
    ) -> Step[MemoryResults]:
        query = require_str("query", query)
        user_id = require_str("user_id", user_id)
        require_positive_int("limit", limit)
        if limit > MAX_TOP_K:
            raise GravixLayerValidationError(f"limit must be between 1 and {MAX_TOP_K}, got {limit}")
        if threshold is not None and (isinstance(threshold, bool) or not isinstance(threshold, (int, float))):
            raise GravixLayerValidationError(f"threshold must be a number or None, got {threshold!r}")
        index_id = yield from self.resolve_index(options, create=False)
        if index_id is None:
            return MemoryResults(results=[])
        body = {
            "query": query, "model": self.embedding_model, "top_k": limit, "filter": {"user_id": user_id},
            "include_metadata": True, "include_values": False,
        }  # fmt: skip
        request = APIRequest("POST", "vectors", f"{_quoted(index_id)}/search/text", options=options).with_body(body)
        try:
            response = yield request
        except GravixLayerNotFoundError as exc:
            self._forget_deleted_index(exc)
            return MemoryResults(results=[])
        hits = parse_model(SearchResponse, response)
        results = []
        for hit in hits:
            metadata = hit.metadata or {}
            if metadata.get("user_id") != user_id:
                log.warning("the server's search returned a memory of another user; it was dropped")
                continue
            if threshold is not None and hit.score < threshold:
                continue
            results.append(self._item(hit.id, metadata, hit.score))
        out = MemoryResults(results=results)
        out._set_request_id(response.headers.get("x-request-id"))
        return out

    def _owned(self, memory_id: str, user_id: str, options: RequestOptions) -> Step[Vector | None]:
        """The memory if it exists and belongs to `user_id`; None otherwise (the two are not told apart)."""
        memory_id = require_str("memory_id", memory_id)
        user_id = require_str("user_id", user_id)
        index_id = yield from self.resolve_index(options, create=False)
        if index_id is None:
            return None
        try:
            response = yield APIRequest("GET", "vectors", f"{_quoted(index_id)}/{_quoted(memory_id)}", options=options)
        except GravixLayerNotFoundError:
            return None
        vector = parse_model(Vector, response)
        if (vector.metadata or {}).get("user_id") != user_id:
            return None
        return vector

    def _must_own(self, memory_id: str, user_id: str, options: RequestOptions) -> Step[Vector]:
        vector = yield from self._owned(memory_id, user_id, options)
        if vector is None:
            raise GravixLayerNotFoundError(
                f"memory {memory_id!r} not found for user {user_id!r}", status_code=404, code="not_found"
            )
        return vector

    def get(self, memory_id: str, user_id: str, options: RequestOptions) -> Step[MemoryItem | None]:
        vector = yield from self._owned(memory_id, user_id, options)
        return None if vector is None else self._item(vector.id, vector.metadata or {})

    def _all_of(self, user_id: str, options: RequestOptions) -> Step[list[MemoryItem]]:
        """Every memory of the user: all ids of the index, fetched in bounded chunks, kept when owned."""
        index_id = yield from self.resolve_index(options, create=False)
        if index_id is None:
            return []
        try:
            response = yield APIRequest("GET", "vectors", f"{_quoted(index_id)}/list", options=options)
        except GravixLayerNotFoundError as exc:
            self._forget_deleted_index(exc)
            return []
        data = json_body(response)
        ids = data.get("vector_ids") if isinstance(data, dict) else None
        if not isinstance(ids, list):
            raise GravixLayerResponseValidationError(
                "list answered without 'vector_ids'", status_code=response.status_code, body=data, response=response
            )
        owned: list[MemoryItem] = []
        for chunk in fetch_chunks([str(i) for i in ids]):
            for vector in (yield from fetch_step(index_id, chunk, options)):
                metadata = vector.metadata or {}
                if metadata.get("user_id") == user_id:  # only the owner's, so memory use stays bounded
                    owned.append(self._item(vector.id, metadata))
        return owned

    def get_all(self, user_id: str, limit: int | None, options: RequestOptions) -> Step[MemoryResults]:
        user_id = require_str("user_id", user_id)
        if limit is not None:
            require_positive_int("limit", limit)
        items = yield from self._all_of(user_id, options)
        oldest = datetime.min.replace(tzinfo=timezone.utc)
        items.sort(key=lambda m: _aware(m.created_at) or oldest, reverse=True)  # newest first
        return MemoryResults(results=items if limit is None else items[:limit])

    # -- writes ------------------------------------------------------------------------------------

    def update(
        self, memory_id: str, user_id: str, data: str, metadata: Mapping[str, Any] | None, options: RequestOptions
    ) -> Step[MemoryItem]:
        content = require_str("data", data)
        if len(content) > MAX_MEMORY_CHARS:
            raise GravixLayerValidationError(f"a memory is at most {MAX_MEMORY_CHARS} characters")
        extra = _caller_metadata(metadata)
        vector = yield from self._must_own(memory_id, user_id, options)
        stored = {**(vector.metadata or {}), **extra, "content": content, "hash": _hash(content), "updated_at": _now()}
        stored["user_id"] = user_id
        item: dict[str, Any] = {"id": vector.id, "text": content, "model": self.embedding_model, "metadata": stored}
        if vector.delete_protection is not None:
            item["delete_protection"] = vector.delete_protection
        index_id = yield from self._require_index(options)
        response = yield APIRequest(
            "POST", "vectors", f"{_quoted(index_id)}/text/upsert", options=options
        ).with_body({"vectors": [item]})
        answer = to_model(UpsertResponse, json_body(response), response)
        if answer.failed_count or answer.upserted_count == 0:
            raise GravixLayerBadRequestError(
                f"the server did not store the update of memory {memory_id!r}: {answer.errors}",
                status_code=response.status_code, response=response,
            )  # fmt: skip
        return self._item(vector.id, stored)

    def _delete_ids(self, index_id: str, ids: list[str], options: RequestOptions) -> Step[None]:
        for start in range(0, len(ids), MAX_DELETE_IDS):
            chunk = ids[start : start + MAX_DELETE_IDS]
            yield APIRequest("POST", "vectors", f"{_quoted(index_id)}/delete", options=options).with_body(
                {"vector_ids": chunk}
            )

    def delete(self, memory_id: str, user_id: str, options: RequestOptions) -> Step[MemoryDeleteResult]:
        vector = yield from self._must_own(memory_id, user_id, options)
        index_id = yield from self._require_index(options)
        yield from self._delete_ids(index_id, [vector.id], options)
        return MemoryDeleteResult(message=f"Memory {vector.id} deleted", deleted_count=1)

    def delete_all(self, user_id: str, options: RequestOptions) -> Step[MemoryDeleteResult]:
        user_id = require_str("user_id", user_id)
        total = 0
        previous: set[str] | None = None
        for _ in range(_MAX_DELETE_ROUNDS):
            ids = [m.id for m in (yield from self._all_of(user_id, options))]
            if not ids:
                return MemoryDeleteResult(message=f"Deleted {total} memories for user {user_id}", deleted_count=total)
            if previous is not None and set(ids) >= previous:
                raise GravixLayerBadRequestError(
                    f"delete_all made no progress: {len(ids)} memories of user {user_id!r} remain after deleting them"
                )
            assert self.index_id is not None
            yield from self._delete_ids(self.index_id, ids, options)
            total += len(ids)
            previous = set(ids)
        raise GravixLayerBadRequestError(f"delete_all gave up after {_MAX_DELETE_ROUNDS} rounds for user {user_id!r}")


def _aware(value: datetime | None) -> datetime | None:
    """Naive timestamps (the vendor SDK's) are taken as UTC, so they sort with aware ones."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value


def _quoted(value: str) -> str:
    return quote(value, safe="")


# -- the two thin twins ----------------------------------------------------------------------------


class _MemoryBase:
    _core: _MemoryCore

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        wrap_public_methods(cls)  # a misspelt keyword raises TypeError instead of vanishing into **options

    @property
    def embedding_model(self) -> str:
        return self._core.embedding_model

    @property
    def inference_model(self) -> str:
        return self._core.inference_model

    @property
    def index_name(self) -> str:
        return self._core.index_name

    @property
    def index_id(self) -> str | None:
        """The memory index's id once an operation has found or created it."""
        return self._core.index_id

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} index_name={self.index_name!r} embedding_model={self.embedding_model!r} "
            f"inference_model={self.inference_model!r}>"
        )


class Memory(_MemoryBase):
    """Long-term memories of users in the vector index `index_name` (created on first write)."""

    def __init__(
        self,
        client: SyncAPIClient,
        *,
        embedding_model: str,
        inference_model: str,
        index_name: str,
        cloud_provider: str,
        region: str,
        delete_protection: bool = False,
    ) -> None:
        self._client = client
        self._core = _MemoryCore(
            client, embedding_model=embedding_model, inference_model=inference_model, index_name=index_name,
            cloud_provider=cloud_provider, region=region, delete_protection=delete_protection,
        )  # fmt: skip

    def add(
        self,
        messages: str | Iterable[Mapping[str, Any]],
        user_id: str,
        metadata: Mapping[str, Any] | None = None,
        infer: bool = True,
        **options: Unpack[RequestOptions],
    ) -> MemoryAddResult:
        """Remember a statement, or what a conversation (`[{"role", "content"}, ...]`) says about the user.

        A string is stored as one factual memory. A conversation with `infer=True` is turned into
        atomic memories by the inference model (falling back to one episodic memory, with a logged
        warning, when its answer is unusable); with `infer=False` it is stored as one episodic memory.
        """
        return self._client.run(self._core.add(messages, user_id, metadata, infer, options))

    def search(
        self,
        query: str,
        user_id: str,
        limit: int = 10,
        threshold: float | None = None,
        **options: Unpack[RequestOptions],
    ) -> MemoryResults:
        """The user's memories closest to `query`, best first; `threshold` drops those scoring below it."""
        return self._client.run(self._core.search(query, user_id, limit, threshold, options))

    def get(self, memory_id: str, user_id: str, **options: Unpack[RequestOptions]) -> MemoryItem | None:
        """One memory of the user, or None when it does not exist or belongs to someone else."""
        return self._client.run(self._core.get(memory_id, user_id, options))

    def get_all(self, user_id: str, limit: int | None = 100, **options: Unpack[RequestOptions]) -> MemoryResults:
        """The user's memories, newest first (at most `limit`; None for all). A listing, not a search."""
        return self._client.run(self._core.get_all(user_id, limit, options))

    def update(
        self,
        memory_id: str,
        user_id: str,
        data: str,
        metadata: Mapping[str, Any] | None = None,
        **options: Unpack[RequestOptions],
    ) -> MemoryItem:
        """Replace a memory's text (re-embedded) and merge `metadata`; `GravixLayerNotFoundError` if not the user's."""
        return self._client.run(self._core.update(memory_id, user_id, data, metadata, options))

    def delete(self, memory_id: str, user_id: str, **options: Unpack[RequestOptions]) -> MemoryDeleteResult:
        """Delete one memory of the user; `GravixLayerNotFoundError` when it is not theirs or does not exist."""
        return self._client.run(self._core.delete(memory_id, user_id, options))

    def delete_all(self, user_id: str, **options: Unpack[RequestOptions]) -> MemoryDeleteResult:
        """Delete every memory of the user, however many; other users' memories are untouched."""
        return self._client.run(self._core.delete_all(user_id, options))


class AsyncMemory(_MemoryBase):
    """Long-term memories of users in the vector index `index_name` (created on first write)."""

    def __init__(
        self,
        client: AsyncAPIClient,
        *,
        embedding_model: str,
        inference_model: str,
        index_name: str,
        cloud_provider: str,
        region: str,
        delete_protection: bool = False,
    ) -> None:
        self._client = client
        self._core = _MemoryCore(
            client, embedding_model=embedding_model, inference_model=inference_model, index_name=index_name,
            cloud_provider=cloud_provider, region=region, delete_protection=delete_protection,
        )  # fmt: skip

    def __await__(self) -> Generator[Any, None, AsyncMemory]:
        """`await client.memory(...)` (the vendor's async form) gives the same object; nothing is sent."""
        return self._self().__await__()

    async def _self(self) -> AsyncMemory:
        return self

    async def add(
        self,
        messages: str | Iterable[Mapping[str, Any]],
        user_id: str,
        metadata: Mapping[str, Any] | None = None,
        infer: bool = True,
        **options: Unpack[RequestOptions],
    ) -> MemoryAddResult:
        """Remember a statement, or what a conversation (`[{"role", "content"}, ...]`) says about the user.

        A string is stored as one factual memory. A conversation with `infer=True` is turned into
        atomic memories by the inference model (falling back to one episodic memory, with a logged
        warning, when its answer is unusable); with `infer=False` it is stored as one episodic memory.
        """
        return await self._client.run(self._core.add(messages, user_id, metadata, infer, options))

    async def search(
        self,
        query: str,
        user_id: str,
        limit: int = 10,
        threshold: float | None = None,
        **options: Unpack[RequestOptions],
    ) -> MemoryResults:
        """The user's memories closest to `query`, best first; `threshold` drops those scoring below it."""
        return await self._client.run(self._core.search(query, user_id, limit, threshold, options))

    async def get(self, memory_id: str, user_id: str, **options: Unpack[RequestOptions]) -> MemoryItem | None:
        """One memory of the user, or None when it does not exist or belongs to someone else."""
        return await self._client.run(self._core.get(memory_id, user_id, options))

    async def get_all(
        self, user_id: str, limit: int | None = 100, **options: Unpack[RequestOptions]
    ) -> MemoryResults:
        """The user's memories, newest first (at most `limit`; None for all). A listing, not a search."""
        return await self._client.run(self._core.get_all(user_id, limit, options))

    async def update(
        self,
        memory_id: str,
        user_id: str,
        data: str,
        metadata: Mapping[str, Any] | None = None,
        **options: Unpack[RequestOptions],
    ) -> MemoryItem:
        """Replace a memory's text (re-embedded) and merge `metadata`; `GravixLayerNotFoundError` if not the user's."""
        return await self._client.run(self._core.update(memory_id, user_id, data, metadata, options))

    async def delete(self, memory_id: str, user_id: str, **options: Unpack[RequestOptions]) -> MemoryDeleteResult:
        """Delete one memory of the user; `GravixLayerNotFoundError` when it is not theirs or does not exist."""
        return await self._client.run(self._core.delete(memory_id, user_id, options))

    async def delete_all(self, user_id: str, **options: Unpack[RequestOptions]) -> MemoryDeleteResult:
        """Delete every memory of the user, however many; other users' memories are untouched."""
        return await self._client.run(self._core.delete_all(user_id, options))
