"""`client.memory(...)`: long-term memories of users, stored as vectors (spec §7, decision 21).

There is no memory endpoint: a memory is one vector in the index `index_name`, its text embedded by
the server (`text/upsert`), its owner in the metadata key `user_id`. Every operation is written once
as a `Step` generator (`_core._MemoryCore`), built from the vector steps of `vectors._steps` (no
request is built twice); `Memory` and `AsyncMemory` (`_facades`) only drive it.

Modules: `_records` (a memory's stored form and metadata rules), `_extraction` (the inference
model's extraction of memories from a conversation), `_core` (index, add, search, get, get_all,
update, delete), `_facades` (the sync and async classes).

What this fixes in the vendor's memory (spec §10, D39-D45):

* isolation: every read filters on `user_id` on the server *and* checks it here; caller metadata
  can never set `user_id`, `content`, `hash` or the timestamps; a memory of another user is
  "not found" to every call;
* `get_all` lists every memory of the user (a search filtered on `user_id` for metadata only, or
  ids then fetches from 1000 memories on; never a semantic search for a fixed word), and
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

from ._extraction import EXTRACTION_PROMPT, parse_extracted_memories
from ._facades import AsyncMemory, Memory
from ._records import MAX_MEMORY_CHARS as MAX_MEMORY_CHARS
from ._records import RESERVED_KEYS as RESERVED_KEYS

__all__ = ["Memory", "AsyncMemory", "EXTRACTION_PROMPT", "parse_extracted_memories"]
