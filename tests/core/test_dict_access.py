"""Response models read the way dict-based code reads them, without losing what models offer."""

from __future__ import annotations

import pytest

from gravixlayer.types.chat import ChatCompletion
from gravixlayer.types.files import FileList, FileObject
from gravixlayer.types.memory import MemoryItem, MemoryResults
from gravixlayer.types.sandbox import FileList as SandboxFileList
from gravixlayer.types.sandbox import SandboxInfo
from gravixlayer.types.vectors import VectorIdList

COMPLETION = {
    "id": "c1",
    "object": "chat.completion",
    "created": 1,
    "model": "m",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    "system_fingerprint": "fp-1",
}


def test_openai_v0_style_subscripts_reach_the_same_values() -> None:
    completion = ChatCompletion.model_validate(COMPLETION)
    assert completion["choices"][0]["message"]["content"] == completion.choices[0].message.content == "hi"
    assert completion["usage"]["total_tokens"] == 2
    assert completion["system_fingerprint"] == "fp-1"  # a field the server added
    assert completion.get("missing", "x") == "x" and completion.get("missing") is None
    with pytest.raises(KeyError):
        completion["missing"]
    with pytest.raises(TypeError):
        completion[0]  # type: ignore[index]
    assert "choices" in completion and "missing" not in completion


def test_none_counts_as_absent_for_in_and_get() -> None:
    item = MemoryItem(id="m1", memory="likes tea", score=None)
    assert item["score"] is None  # a declared field is readable even when unset
    assert "score" not in item and item.get("score", 0.0) == 0.0
    assert "memory" in item and item.get("memory") == "likes tea"
    assert "_request_id" not in item
    with pytest.raises(KeyError):
        item["_request_id"]


def test_properties_are_readable_by_name() -> None:
    info = SandboxInfo.model_validate({"sandbox_id": "s1", "status": "running"})
    assert info["id"] == "s1" and info["status"] == "running" and info.get("template") is None


def test_lists_index_by_position_and_by_name() -> None:
    results = MemoryResults(results=[MemoryItem(id="a", memory="one"), MemoryItem(id="b", memory="two")])
    assert results[0].id == "a" and [m.id for m in results[0:2]] == ["a", "b"]
    assert results["results"][1]["memory"] == "two"
    assert [m["memory"] for m in results.get("results", [])] == ["one", "two"]
    assert "results" in results and results[0] in results
    assert [m.id for m in results] == ["a", "b"] and len(results) == 2  # iteration unchanged
    files = FileList(data=[FileObject(id="f1", filename="a.jsonl")])
    assert files["data"][0]["filename"] == "a.jsonl" and files[0].id == "f1" and "data" in files
    listing = SandboxFileList.model_validate({"files": [{"name": "a", "size": 1, "is_dir": False}]})
    assert listing["files"][0]["name"] == "a" and listing[0].name == "a" and "files" in listing
    assert "a" in listing and "b" not in listing  # by name, as code written for name lists asks


def test_a_list_of_ids_answers_membership_about_its_ids() -> None:
    ids = VectorIdList(data=["data", "x"])
    assert "x" in ids and "data" in ids and "y" not in ids
    assert VectorIdList(data=[])["data"] == [] and "data" not in VectorIdList(data=[])


def test_model_behaviour_is_kept() -> None:
    item = MemoryItem(id="m1", memory="likes tea", metadata={"k": 1})
    assert dict(item)["memory"] == "likes tea"  # pydantic's (field, value) iteration
    assert item.model_dump()["metadata"] == {"k": 1} and item.to_dict()["id"] == "m1"
    assert item.model_copy(update={"memory": "x"})["memory"] == "x"
