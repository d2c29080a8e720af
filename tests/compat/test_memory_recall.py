"""A chat app's memory recall written against the vendor SDK, whose memory methods return dicts:
`res.get("results")`, `m["memory"]`, `m.get("metadata", {})`."""

from __future__ import annotations

import uuid

from gravixlayer import GravixLayer
from gravixlayer.local import LocalServer

EMBEDDING = "microsoft/multilingual-e5-large"
CHAT = "qwen/qwen-2.5-vl-7b-instruct"


def test_dict_style_memory_recall(program_env: LocalServer) -> None:
    # --- the program, unchanged ---
    client = GravixLayer()
    memory = client.memory(
        embedding_model=EMBEDDING, inference_model=CHAT, index_name=f"user-memories-{uuid.uuid4().hex[:8]}",
        cloud_provider="aws", region="us-east-1",
    )  # fmt: skip
    added = memory.add("I prefer coding in Python", user_id="alice")
    memory.add("My favourite drink is green tea", user_id="alice")
    memory.add("I live in Lisbon", user_id="bob")
    first_id = added["results"][0]["id"]

    res = memory.search("What programming language does the user prefer?", user_id="alice", limit=5)
    recalled = [m["memory"] for m in res.get("results", [])]
    scores = [m.get("score", 0.0) for m in res["results"]]
    context = "\n".join(f"- {m['memory']}" for m in res.get("results", []) if "memory" in m)

    everything = memory.get_all(user_id="alice")
    owners = {m.get("metadata", {}).get("user_id") for m in everything["results"]}
    one = memory.get(first_id, user_id="alice")
    client.close()
    # --- what it must have seen ---
    assert recalled and recalled[0] == "I prefer coding in Python"
    assert set(recalled) <= {"I prefer coding in Python", "My favourite drink is green tea"}
    assert all(isinstance(s, float) for s in scores) and scores == sorted(scores, reverse=True)
    assert context.startswith("- I prefer coding in Python")
    assert len(everything["results"]) == 2 and owners == {"alice"}
    assert one is not None and one["memory"] == "I prefer coding in Python" and one["id"] == first_id
