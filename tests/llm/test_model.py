"""The numpy forward pass, tokenizer and template against reference ids computed once.

References: the prompt ids of the file's chat template and the greedy answer
ids, computed once with this implementation and checked against the design
note's transformers run on the same file ("The capital of France is Paris.").
Greedy choices may differ between CPUs on near-tied logits, so agreement is
checked by teacher forcing: at every step the reference token must be the
model's top choice or within ``NEAR_TIE`` of it.
"""

from __future__ import annotations

import numpy as np
import pytest

from gravixlayer.local.llm import LocalLLM

NEAR_TIE = 0.5
FRANCE_PROMPT = [
    1,
    9690,
    198,
    2683,
    359,
    253,
    5356,
    5646,
    11173,
    3365,
    3511,
    308,
    34519,
    28,
    7018,
    411,
    407,
    19712,
    8182,
    2,
    198,
    1,
    4093,
    198,
    1780,
    314,
    260,
    3575,
    282,
    4649,
    47,
    2,
    198,
    1,
    520,
    9531,
    198,
]
FRANCE_ANSWER = [504, 3575, 282, 4649, 314, 7042, 30]  # "The capital of France is Paris."
CPU_ANSWER = [
    49,
    17756,
    365,
    20486,
    18784,
    4730,
    25,
    314,
    260,
    2106,
    282,
    253,
    2583,
]  # "A CPU (Central Processing Unit) is the brain of a computer"


def test_chat_template_and_tokenizer_match_the_reference(llm: LocalLLM) -> None:
    assert (
        llm.chat_prompt_ids([{"role": "user", "content": "What is the capital of France?"}]) == FRANCE_PROMPT
    )
    tokenizer = llm.load().tokenizer
    text = "Hello, world! 12345 café"
    assert tokenizer.decode(tokenizer.encode(text)) == text
    assert tokenizer.encode("12345") == [33, 34, 35, 36, 37]  # SmolLM splits digits


@pytest.mark.parametrize(
    ("question", "answer"),
    [("What is the capital of France?", FRANCE_ANSWER), ("What is a CPU?", CPU_ANSWER)],
)
def test_greedy_answer_agrees_with_reference_ids(llm: LocalLLM, question: str, answer: list[int]) -> None:
    loaded = llm.load()
    prompt = llm.chat_prompt_ids([{"role": "user", "content": question}])
    logits = loaded.model.forward(prompt + answer, loaded.model.new_cache(), all_logits=True)
    for step, expected in enumerate(answer):
        row = logits[len(prompt) - 1 + step]
        assert row[expected] >= row.max() - NEAR_TIE, (step, int(row.argmax()), expected)
    assert logits.dtype == np.float32


def test_kv_cache_gives_the_same_logits_as_one_pass(llm: LocalLLM) -> None:
    model = llm.load().model
    ids = FRANCE_PROMPT + FRANCE_ANSWER[:3]
    whole = model.forward(ids, model.new_cache())
    cache = model.new_cache(capacity=8)  # also exercises the cache growing
    model.forward(ids[:20], cache)
    model.forward(ids[20:-1], cache)
    stepped = model.forward(ids[-1:], cache)
    assert cache.length == len(ids)
    np.testing.assert_allclose(stepped, whole, atol=2e-3, rtol=0)
