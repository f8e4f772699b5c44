"""The model resolves what the rules cannot: one condition for each phrase the linker left unresolved.

For every unresolved phrase the MiniLM retriever names the closest catalog keys; the model (the distilled
student through the local backend, or an OpenAI-compatible endpoint) is shown the demonstrations most
similar to that phrase and writes ONE condition over those keys. A local model writes it under the grammar
(``decode_condition``: key among the top keys, an operator for its dtype, a value among the linked or
allowed values); an endpoint's text is parsed, validated and kept only when it is one condition over those
keys. Phrases no key is close to (MiniLM similarity below ``min_similarity``), vague ones ("big spenders",
no threshold), negations whose scope the rules were unsure of, and the demand's own instructions stay
unresolved.
"""

from __future__ import annotations

import contextlib
import re
import threading
from dataclasses import dataclass

from features.catalog import Catalog, DType
from models.targeting.logic import UnresolvedPhrase, conditions_of, parse_logic
from models.targeting.parser._backends import Backend
from models.targeting.parser._decoding import decode_condition, project
from models.targeting.parser._demos import DemoLibrary
from models.targeting.parser._lexicon import lexicon_for
from models.targeting.parser._linking import NEGATION, KeySimilarity, Linking, is_negative, link_demand
from models.targeting.parser._prompts import KeyRetriever, build_messages

__all__ = ["MIN_SIMILARITY", "Resolution", "resolve_phrases"]

MIN_SIMILARITY = 0.3  # a phrase must be at least this close (MiniLM cosine) to a key to be resolved
ALONE_SIMILARITY = 0.45  # ... and this close when the linker read nothing else in the demand
# a phrase that asks the system for something, or says nothing but a period of time, is not a condition
_REQUEST = re.compile(r"^\W*(?:send|target|pull|get|find|give|show|list|select|can|could|would|please|we|i|let|"
                      r"need|want|make|build|create|run|email|message|notify|remind)\b")
_TIME = re.compile(r"\b(?:in|within|during|over|for|the|last|past|next|previous|this|\d+|days?|weeks?|months?|years?|"
                   r"us|we|our|with|who|are|is|have|has|had|been|and|or|at|all|any|of|on|to|by)\b")
_CONTENT = re.compile(r"[a-z]{3,}")
_MARGIN = 0.1  # keys offered to the model: at most this much less similar to the phrase than the closest
_VAGUE = "(no threshold given)"
_NEGATION_NOTE = " (not sure what the negation covers)"


@dataclass(frozen=True, slots=True)
class Resolution:
    """The condition the model wrote for one unresolved phrase, and the keys it chose among."""

    phrase: UnresolvedPhrase
    condition: str  # one condition, e.g. "(last_login_days#Greater Than#60)"
    keys: tuple[str, ...]


def _text(phrase: UnresolvedPhrase) -> str:
    return phrase.phrase.removesuffix(_NEGATION_NOTE)


def _fits(catalog: Catalog, key: str, linking: Linking) -> bool:
    """Keys the phrase gives the model a value for: a number whose range holds the phrase's numbers; without
    numbers, a yes/no feature or a count read as presence ("hosted a group order" → > 0); a category or set
    only when the phrase names one of its values (otherwise the model would be guessing the value)."""
    nums = [float(x) for x in re.findall(r"(?<![\w.])\d+(?:\.\d+)?(?![a-z])", linking.text)]
    f = catalog.features[key]
    if f.dtype in (DType.CATEGORY, DType.STRING_SET):
        return bool(linking.values_for(key))
    if f.dtype == DType.BOOL:
        return not nums
    if not nums:
        return key in lexicon_for(catalog).roles.presence_keys
    return f.range is None or any(f.range[0] <= x <= f.range[1] for x in nums)


def resolve_phrases(phrases: list[UnresolvedPhrase], *, catalog: Catalog, backend: Backend,
                    retriever: KeyRetriever, library: DemoLibrary, demos: int, keys: int = 4,
                    min_similarity: float = MIN_SIMILARITY, lock: threading.Lock | None = None,
                    similarity: KeySimilarity | None = None, read_something: bool = True,
                    used: frozenset[str] = frozenset()) -> list[Resolution]:
    """One condition per resolvable phrase (see the module docstring); phrases it leaves alone are absent.
    Keys in ``used`` (the linker's reading already has a condition on them) are not offered again."""
    out: list[Resolution] = []
    vague = [p.phrase.removesuffix(_VAGUE).strip() for p in phrases if _VAGUE in p.phrase]
    # with nothing the rules could read, a phrase must be closer to a key to be more than small talk
    floor = min_similarity if read_something else max(min_similarity, ALONE_SIMILARITY)
    for phrase in phrases:
        text = _text(phrase)
        if _VAGUE in phrase.phrase or any(v in text or text in v for v in vague):
            continue  # the key is known, the threshold is not: the model would invent one
        if phrase.phrase.endswith(_NEGATION_NOTE):
            continue  # the rules could not tell what the negation covers: neither can the polarity given here
        if _REQUEST.match(text) or not _CONTENT.search(_TIME.sub(" ", text)):
            continue  # "send a reminder to people", "with us in the last 12 months": nothing about the users
        linking = link_demand(text, catalog, similarity=similarity)
        scores = retriever.scores(text)
        top = [k for k in (*phrase.candidates, *retriever.top(text, keys * 2)) if k in catalog.features
               and k not in used and _fits(catalog, k, linking)]
        top = sorted(dict.fromkeys(top), key=lambda k: -scores.get(k, 0.0))
        if not top or scores.get(top[0], 0.0) < floor:
            continue
        top = [k for k in top if scores.get(k, 0.0) >= scores[top[0]] - _MARGIN][:keys]
        msgs = build_messages(catalog, text, top, library.similar(text, demos) if demos else [])
        # the polarity is the rules' reading of the phrase (a negation word or none), not the model's guess
        negated = bool(NEGATION.search(linking.text))
        if hasattr(backend, "start"):
            with lock or contextlib.nullcontext():  # one KV cache: only the decode is serialised, not linking
                condition = decode_condition(backend.start(msgs, "Logic: "), catalog, top, linking,
                                             negated=negated).logic
        else:
            answer = backend.generate(msgs, prefix="Logic: ", max_tokens=48)
            projected = project(answer[0] if answer else "", catalog, set(top))
            if projected is None or len(conditions_of(parse_logic(projected))) != 1:
                continue
            if (projected.startswith("NOT") or is_negative(conditions_of(parse_logic(projected))[0])) != negated:
                continue  # the endpoint's polarity disagrees with the phrase's
            condition = projected
        out.append(Resolution(phrase, condition, tuple(top)))
    return out
