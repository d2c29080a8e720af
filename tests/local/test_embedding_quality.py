"""How well each embedding source ranks a paraphrase above a look-alike sentence.

Score = the share of triplets where cos(sentence, paraphrase) >
cos(sentence, distractor). Measured when this was written (see the README):
look-alikes 34/40 MiniLM (int8 rewrite and shipped file alike) vs 30/40 wordllama; reordered words
6/20 (shipped file: 5/20) vs 2/20.
"""

from __future__ import annotations

import pytest

from gravixlayer.local.embedding import Embedder

from .embedding_triplets import REORDERED, TRIPLETS

E5 = "microsoft/multilingual-e5-large"


def paraphrase_wins(embedder: Embedder, triplets: list[tuple[str, str, str]]) -> int:
    flat = [sentence for triplet in triplets for sentence in triplet]
    vectors = embedder.embed(flat, E5).reshape(len(triplets), 3, -1)
    anchor, paraphrase, distractor = vectors[:, 0], vectors[:, 1], vectors[:, 2]
    wins = (anchor * paraphrase).sum(axis=1) > (anchor * distractor).sum(axis=1)
    return int(wins.sum())


@pytest.fixture(scope="module")
def wins() -> dict[tuple[str, str], int]:
    sets = {"look-alike": TRIPLETS, "reordered": REORDERED}
    return {
        (engine, name): paraphrase_wins(Embedder(engine=engine), triplets)
        for engine in ("minilm", "wordllama")
        for name, triplets in sets.items()
    }


def test_minilm_ranks_paraphrases_better_than_word_vectors(wins: dict[tuple[str, str], int]) -> None:
    assert wins["minilm", "look-alike"] >= 32, wins  # of 40
    assert wins["minilm", "look-alike"] > wins["wordllama", "look-alike"], wins
    assert wins["minilm", "reordered"] > wins["wordllama", "reordered"], wins
