"""The request bodies of GravixLayer Local's vector routes (spec §6), as ``_body.RequestModel``s.

Every refusal is a 400 ``invalid_request`` whose message names the field the way the vector routes
always have (``dimension: must be between 1 and 2000, got 0``, ``vectors[3].id: must be a non-empty
string``): the field types below are plain validators with those words, and
``_body.format_validation_error`` puts the field's place in front. Defaults are the platform's: an
index given only ``name``, ``dimension`` and ``metric`` is created (spec §1.3).

Upsert items never hold their numbers as Python floats: ``upsert_body`` has already turned each
embedding into a float32 row when these models see it (``VectorItem.embedding`` is that row), so
validating a batch of 1000 vectors costs the envelope only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainValidator

from ._body import RequestModel
from ._validate import name_problem
from .errors import LocalAPIError
from .vector_index import METRICS
from .vector_store import SearchOptions

__all__ = [
    "MAX_BATCH", "MAX_DIMENSION", "MAX_TOP_K", "DEFAULT_REGION", "between", "CreateIndex", "Update", "Search",
    "SearchText", "DeleteVectors", "Item", "VectorItem", "TextItem", "VectorUpsert", "TextUpsert",
]  # fmt: skip

MAX_BATCH = 1000
"""Vectors per upsert, ids per delete and per fetch."""
MAX_TOP_K = 1000
MAX_DIMENSION = 2000
MAX_NAME = 255
MAX_ID = 512
MAX_REGION = 100
MAX_MODEL = 200
MAX_TEXT = 100_000

CLOUD_PROVIDERS = {"aws": "AWS", "gcp": "GCP", "azure": "Azure", "gravix": "Gravix"}
INDEX_TYPES = ("serverless", "dedicated")
DEFAULT_CLOUD_PROVIDER = "AWS"
DEFAULT_REGION = "us-east-1"
"""Where an index created without `cloud_provider` / `region` says it lives (the SDK's defaults too)."""
_METRIC_ALIASES = {"dotproduct": "dot_product", "dot-product": "dot_product"}


# -- field types: each refusal is a 400 "<field>: <problem>" (``_body.format_validation_error``) ----


def between(low: int, high: int) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        if value is None:
            raise ValueError("field required")
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError("must be an integer")
        if not low <= value <= high:
            raise ValueError(f"must be between {low} and {high}, got {value}")
        return value

    return check


def _flag(value: Any) -> bool | None:
    """A boolean; ``null`` is the same as leaving the field out."""
    if value is not None and not isinstance(value, bool):
        raise ValueError("must be a boolean")
    return value


def _object(value: Any) -> dict[str, Any] | None:
    if value is not None and not isinstance(value, dict):
        raise ValueError("must be a JSON object")
    return value


def _name(max_len: int) -> Callable[[Any], str]:
    """An id or name (``_validate.name_problem``)."""

    def check(value: Any) -> str:
        problem = name_problem(value, max_len=max_len)
        if problem is not None:
            raise ValueError(problem)
        return str(value)

    return check


def _optional(check: Callable[[Any], str]) -> Callable[[Any], str | None]:
    return lambda value: None if value is None else check(value)


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("field required" if value is None else "must be a non-empty string")
    if len(value) > MAX_TEXT:
        raise ValueError(f"at most {MAX_TEXT} characters")
    return value


def _metric(value: Any) -> str:
    name = value.strip().lower() if isinstance(value, str) else ""
    name = _METRIC_ALIASES.get(name, name)
    if name not in METRICS:
        raise ValueError(f"must be one of {', '.join(METRICS)}, got {value!r}")
    return name


def _cloud_provider(value: Any) -> str:
    """Any case of a known provider; ``null`` means the default (spec §1.3)."""
    if value is None:
        return DEFAULT_CLOUD_PROVIDER
    provider = CLOUD_PROVIDERS.get(value.strip().lower()) if isinstance(value, str) else None
    if provider is None:
        raise ValueError(f"must be one of AWS, GCP, Azure, Gravix (any case), got {value!r}")
    return provider


def _vector_type(value: Any) -> str:
    if (value or "dense") != "dense":
        raise ValueError(f"only 'dense' is supported, got {value!r}")
    return "dense"


def _index_type(value: Any) -> str:
    index_type = value or "serverless"
    if index_type not in INDEX_TYPES:
        raise ValueError(f"must be one of {', '.join(INDEX_TYPES)}, got {index_type!r}")
    return str(index_type)


def _batch(value: Any) -> Any:
    if not isinstance(value, list) or not value:
        raise ValueError("must be a non-empty list")
    if len(value) > MAX_BATCH:
        raise ValueError(f"at most {MAX_BATCH} per request, got {len(value)}; send several requests")
    return value


def _id_list(value: Any) -> Any:
    if not isinstance(value, list) or not value:
        raise ValueError("must be a non-empty list of ids")
    if len(value) > MAX_BATCH:
        raise ValueError(f"at most {MAX_BATCH} ids per request, got {len(value)}")
    return value


def _item_object(value: Any) -> Any:
    if not isinstance(value, dict):
        raise ValueError("must be a JSON object")
    return value


Flag = Annotated[bool | None, PlainValidator(_flag)]
JsonObject = Annotated[dict[str, Any] | None, PlainValidator(_object)]
VectorId = Annotated[str, PlainValidator(_name(MAX_ID))]
ModelName = Annotated[str, PlainValidator(_name(MAX_MODEL))]


# -- request bodies -------------------------------------------------------------------------------


class _Stored(RequestModel):
    """The fields an index or a vector keeps as given."""

    metadata: JsonObject = None
    delete_protection: Flag = None


class CreateIndex(_Stored):
    """Only ``name``, ``dimension`` and ``metric`` are required, as on the platform."""

    name: Annotated[str, PlainValidator(_name(MAX_NAME))]
    dimension: Annotated[int, PlainValidator(between(1, MAX_DIMENSION))]
    metric: Annotated[str, PlainValidator(_metric)]
    vector_type: Annotated[str, PlainValidator(_vector_type)] = "dense"
    cloud_provider: Annotated[str, PlainValidator(_cloud_provider)] = DEFAULT_CLOUD_PROVIDER
    region: Annotated[str | None, PlainValidator(_optional(_name(MAX_REGION)))] = None
    index_type: Annotated[str, PlainValidator(_index_type)] = "serverless"


class Update(_Stored):
    """An index or vector update: ``metadata`` given as ``null`` clears it; at least one field."""

    def changes(self) -> tuple[dict[str, Any] | None, bool | None]:
        metadata = (self.metadata or {}) if "metadata" in self.model_fields_set else None
        if metadata is None and self.delete_protection is None:
            raise LocalAPIError(400, "invalid_request", "give metadata and/or delete_protection to update")
        return metadata, self.delete_protection


class _SearchBody(RequestModel):
    top_k: Annotated[int, PlainValidator(between(1, MAX_TOP_K))] = 10
    filter: JsonObject = None
    include_metadata: Flag = None
    include_values: Flag = None

    def options(self) -> SearchOptions:
        return SearchOptions(self.top_k, self.filter, self.include_metadata is not False, self.include_values is True)


class Search(_SearchBody):
    vector: Any = None
    embedding: Any = None
    """What older clients call ``vector``."""


class SearchText(_SearchBody):
    query: Annotated[str, PlainValidator(_text)]
    model: ModelName


class DeleteVectors(RequestModel):
    vector_ids: Annotated[list[VectorId], BeforeValidator(_id_list)]


class Item(_Stored):
    id: Annotated[str | None, PlainValidator(_optional(_name(MAX_ID)))] = None
    """None: a new random id."""


class VectorItem(Item):
    embedding: Any = None
    """A float32 row already (``upsert_body``), or what the client sent when it was not a list."""
    values: Any = None
    """What some clients call ``embedding``."""


class TextItem(Item):
    text: Annotated[str, PlainValidator(_text)]
    model: ModelName


class VectorUpsert(RequestModel):
    vectors: Annotated[list[Annotated[VectorItem, BeforeValidator(_item_object)]], BeforeValidator(_batch)]


class TextUpsert(RequestModel):
    vectors: Annotated[list[Annotated[TextItem, BeforeValidator(_item_object)]], BeforeValidator(_batch)]
