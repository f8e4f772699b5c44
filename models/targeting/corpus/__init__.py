"""The training corpus: (demand, four-step reasoning chain, logic) triples generated from the catalog,
and the hand-written held-out development set (``dev.jsonl``) in phrasings the generator does not use.

>>> items = generate_corpus(4, seed=1)
>>> len(items), items == generate_corpus(4, seed=1)
(4, True)
"""

from models.targeting.corpus._cases import DEV_SET_PATH, Case, load_cases
from models.targeting.corpus._generate import (
    CorpusItem,
    example_demands,
    generate_corpus,
    random_logic,
    render_demands,
    write_jsonl,
)

__all__ = [
    "DEV_SET_PATH",
    "Case",
    "CorpusItem",
    "example_demands",
    "generate_corpus",
    "load_cases",
    "random_logic",
    "render_demands",
    "write_jsonl",
]
