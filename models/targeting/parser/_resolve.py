"""The model resolves what the rules cannot: one condition for each phrase the linker left unresolved.

For every unresolved phrase the MiniLM retriever names the closest catalog keys. For each of those keys the
rules write the one condition the phrase would mean if it named that key (``_condition_for``: the linker
reads the phrase with the key's name beside it, so comparatives, units, time windows and value words are
read by the same rules as everywhere else; a yes/no feature or a count read as presence takes the
phrase's own polarity). The model only chooses among those candidate conditions: the local student
scores them all in one batched pass over the prompt (with the demonstrations most similar to the phrase);
an OpenAI-compatible endpoint answers in text, and its answer is used only through the candidate for the
key it chose. One candidate needs no model at all.

Safety first, since an inverted audience is the worst error a parser can make: the polarity of a yes/no,
presence or category condition is the phrase's (a negation word or none), never the model's; a phrase
in the scope of a negation before it ("without an umbrella or any life policy"), a negation whose scope
the rules were unsure of, a vague phrase (no threshold), the demand's own requests and bare periods of
time, and phrases no key is close to (MiniLM similarity below ``min_similarity``) stay unresolved, with
their closest keys, as does any phrase for which no candidate condition could be written.
"""

from __future__ import annotations

import contextlib
import re
import threading
from dataclasses import dataclass

from features.catalog import Catalog, DType
from models.targeting.logic import (
    And,
    Condition,
    Expr,
    Not,
    Op,
    UnresolvedPhrase,
    canonical,
    conditions_of,
    normalize,
    parse_logic,
)
from models.targeting.parser._backends import Backend
from models.targeting.parser._compose import candidates
from models.targeting.parser._decoding import END, project
from models.targeting.parser._demos import DemoLibrary
from models.targeting.parser._lexicon import lexicon_for
from models.targeting.parser._linking import NEGATION, KeySimilarity, link_demand
from models.targeting.parser._linkrules import FILLER, UNIT_DAYS, says_privative_stem
from models.targeting.parser._namewords import lemma
from models.targeting.parser._prompts import KeyRetriever, build_messages

__all__ = ["MIN_SIMILARITY", "Resolution", "candidate_conditions", "resolve_phrases"]

MIN_SIMILARITY = 0.3  # a phrase must be at least this close (MiniLM cosine) to a key to be resolved
ALONE_SIMILARITY = 0.45  # ... and this close when the linker read nothing else in the demand
# a phrase that asks the system for something, or says nothing but a period of time, is not a condition
_REQUEST = re.compile(r"^\W*(?:send|target|pull|get|find|give|show|list|select|can|could|would|please|we|i|let|"
                      r"need|want|make|build|create|run|email|message|notify|remind)\b")
_TIME = re.compile(r"\b(?:in|within|during|over|for|the|last|past|next|previous|this|\d+|days?|weeks?|months?|years?|"
                   r"us|we|our|with|who|are|is|have|has|had|been|and|or|at|all|any|of|on|to|by)\b")
_CONTENT = re.compile(r"[a-z]{3,}")
# "for the Q1 winback we want policyholders": what comes before a lead-in is the campaign, what follows it
# may only name who the audience is (the catalog's entity, people in general), which is no condition
_LEAD_IN = re.compile(r"^.*\b(?:we|i)(?:'re| are| am|'m)? (?:want|need|(?:are |am )?looking for|"
                      r"would like|wanna|(?:are |am )?trying to reach|(?:are |am )?targeting)\b")
_PEOPLE = re.compile(r"\b(?:users?|customers?|people|persons?|clients?|members?|subscribers?|accounts?|"
                     r"shoppers?|buyers?|everyone|everybody|anyone|anybody|folks|guys|all|any|the|our|of|"
                     r"those|ones?)\b")
_OFF_STATE = re.compile(r"\b(?:opt(?:ed|s|ing)?[- ]?out|unsubscribe[ds]?|unsubscribing)\b")
# how a marketer asks ("is it possible to find users", "how do i get the users", "pls export users"): no condition
_ASKING = re.compile(r"\b(?:is it possible|possible|how|pls|plz|please|sorry|export|pull|send|need|want|would|could|"
                     r"can|it|this|if|dumb|question|i|you|me|my|us|do|does)\b")
_NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?![a-z])")
# "without an umbrella or any life policy": a phrase joined by "or" / "nor" / a comma to what went before,
# in a sentence with a negation before it, may be inside that negation's scope
_LIST_JOIN = re.compile(r"(?:,|\bor|\bnor|\band/or)\s*$")
_SENTENCE = re.compile(r"[.;:!?\n]")
_WINDOW_SUFFIX = re.compile(r"_\d+[dwmy]$")  # "claims_count_3y": its window, not a number the phrase said
_PERIOD = re.compile(r"(\d+) (days?|weeks?|months?|years?)\b")
_MARGIN = 0.1  # keys offered to the model: at most this much less similar to the phrase than the closest
_VAGUE = "(no threshold given)"
_NEGATION_NOTE = " (not sure what the negation covers)"


@dataclass(frozen=True, slots=True)
class Resolution:
    """The condition chosen for one unresolved phrase, and the candidate keys it was chosen among."""

    phrase: UnresolvedPhrase
    condition: str  # one condition, e.g. "(last_login_days#Greater Than#60)"
    keys: tuple[str, ...]


def _text(phrase: UnresolvedPhrase) -> str:
    return phrase.phrase.removesuffix(_NEGATION_NOTE)


def _no_condition(text: str, entity: str) -> bool:
    """A request to the system, a bare period of time, or only who the audience is and how the marketer asks
    ("send a reminder to people", "with us in the last 12 months", "for the winback we want policyholders",
    "how do i get the users")."""
    if _REQUEST.match(text):
        return True
    rest = _ASKING.sub(" ", FILLER.sub(" ", _PEOPLE.sub(" ", _TIME.sub(" ", _LEAD_IN.sub(" ", text)))))
    return not _CONTENT.search(re.sub(rf"\b{re.escape(entity)}s?\b", " ", rest))


def _is_presence(cond: Condition) -> bool:
    return cond.op == Op.GREATER_THAN and cond.value == "0"


def _excludes(expr: Expr, catalog: Catalog) -> bool | None:
    """Whether a one-condition expression excludes (``= false``, ``NOT``, ``Not Equal To``, ``Contains None``,
    no presence); None for a numeric threshold, whose comparative words ("no more than 3") decide."""
    negated = isinstance(expr, Not)
    cond = conditions_of(expr)[0]
    dtype = catalog.features[cond.key].dtype
    if dtype == DType.BOOL:
        return negated != (cond.value == "false")
    if dtype in (DType.CATEGORY, DType.STRING_SET):
        return negated != (cond.op in (Op.NOT_EQUAL_TO, Op.NOT_BELONGS_TO, Op.CONTAINS_NONE))
    return negated if _is_presence(cond) else None


def _reading(text: str, key: str, catalog: Catalog, similarity: KeySimilarity | None) -> Expr | None:
    """The linker's reading of the phrase with the key's name (without a window suffix) beside it, as the one
    condition it puts on that key ("hold 2 or more policies active policy count" → ``>= 2``; "have not
    booked in the last year days since last booking" → ``> 365``)."""
    name = _WINDOW_SUFFIX.sub("", key).replace("_", " ")
    read = next(iter(candidates(link_demand(f"{text} {name}", catalog, similarity=similarity), 1)), None)
    if read is None:
        return None
    expr = normalize(parse_logic(read.logic), catalog)
    items = [e for e in (expr.items if isinstance(expr, And) else (expr,))
             if any(c.key == key for c in conditions_of(e))]
    if len(items) != 1 or not isinstance(items[0], (Condition, Not)) or len(conditions_of(items[0])) != 1:
        return None
    return items[0]


def candidate_conditions(text: str, keys: list[str], catalog: Catalog, *,
                         similarity: KeySimilarity | None = None) -> dict[str, str]:
    """key → the one condition (conventional canonical text) ``text`` means if it names that key, for the
    keys the rules can write one for; see the module docstring."""
    said_negation = bool(NEGATION.search(text))
    has_numbers = bool(_NUMBER.search(text))
    roles = lexicon_for(catalog).roles
    out: dict[str, str] = {}
    for key in keys:
        f = catalog.features[key]
        dtype = f.dtype
        # "opted out of marketing emails" is the off state of an opt-in, unless the key is the opt-out itself
        off = bool(_OFF_STATE.search(text)) and not _OFF_STATE.search(" ".join([key.replace("_", " "),
                                                                                 f.description, *f.aliases]))
        negated = (said_negation != off) != says_privative_stem(text, key)  # "paper bills": not paperless
        if _named_elsewhere(text, key, catalog):
            continue
        if dtype == DType.BOOL:  # the polarity is the phrase's; a number must be the feature's own window
            if not has_numbers or _only_window(text, roles.window_of(key)):
                out[key] = f"({key}#Equal To#{'false' if negated else 'true'})"
        elif key in roles.presence_keys and not has_numbers:
            out[key] = f"{'NOT ' if negated else ''}({key}#Greater Than#0)"
        elif (expr := _reading(text, key, catalog, similarity)) is not None:
            # a threshold's comparative words decide its direction ("no more than 3", "not in the last year"
            # on a days-since key is > 365); presence and values take the phrase's polarity
            numeric = dtype in (DType.INT, DType.FLOAT)
            allowed = (None, negated) if numeric else (negated,)
            if numeric and has_numbers or _excludes(expr, catalog) in allowed:
                out[key] = canonical(expr)
    return out


def _only_window(text: str, window: int | None) -> bool:
    """Every number of the phrase is the feature's own window ("active in the app in the last 90 days" and a
    yes/no feature over 90 days), so the phrase gives no threshold the yes/no feature cannot take."""
    spans = [(m.start(), m.end()) for m in _PERIOD.finditer(text)
             if window is not None and float(m.group(1)) * UNIT_DAYS[m.group(2)] == window]
    return bool(spans) and all(any(s <= m.start() < e for s, e in spans) for m in _NUMBER.finditer(text))


def _words(text: str) -> set[str]:
    """Content words, crudely singular ("families" → "family", "policies" → "policy", "kids" → "kid")."""
    out = set()
    for w in re.findall(r"[a-z][a-z0-9]{2,}", text.lower().replace("_", " ")):
        singular = w[:-1] if w.endswith("s") and not w.endswith("ss") else w
        out.add(w[:-3] + "y" if w.endswith("ies") else singular)
    return out


def _named_elsewhere(text: str, key: str, catalog: Catalog) -> bool:
    """A word of the phrase is a word of another feature's values but nothing the key itself says ("any life
    policy" next to ``term_life`` / ``whole_life``; "live with family" next to ``lives_with_family``): the
    phrase is about those values, which the rules could not read whole, and a condition on ``key`` would be
    a guess."""
    f = catalog.features[key]
    own = _words(" ".join([key, f.description, *f.aliases, *(f.values or ()),
                           *(a for aliases in f.value_aliases.values() for a in aliases)]))
    said = _words(_TIME.sub(" ", text)) - own  # "last month" is not about a "month_to_month" contract
    return any(said & _words(" ".join(other.values or ())) for other in catalog.features.values()
               if other.name != key and other.dtype in (DType.CATEGORY, DType.STRING_SET))


def _names_a_used_key(text: str, used: frozenset[str]) -> bool:
    """The phrase is one content word, and a word of the name of a key the reading already has a condition on
    ("pay" beside ``payment_method``): it says nothing the reading does not."""
    words = _CONTENT.findall(_ASKING.sub(" ", FILLER.sub(" ", text)))
    return len(words) == 1 and any(lemma(words[0]) == lemma(w) for k in used for w in k.split("_") if len(w) >= 3)


def _in_negated_list(text: str, context: str) -> bool:
    """The phrase continues a list ("..., or X") after a negation in the same sentence: the negation may
    cover it ("without an umbrella or any life policy"), so no polarity can be given with confidence."""
    at = context.find(text)
    if at < 0:
        return False
    before = _SENTENCE.split(context[:at])[-1]
    return bool(_LIST_JOIN.search(before) and NEGATION.search(before))


def _choose(backend: Backend, msgs: list[dict[str, str]], options: dict[str, str], catalog: Catalog,
            lock: threading.Lock | None) -> str | None:
    """The candidate condition the model prefers: the local model's likeliest continuation after
    ``Logic: `` (all scored in one batched pass); an endpoint's answer through the candidate of its key."""
    if hasattr(backend, "start"):
        conds = list(options.values())
        with lock or contextlib.nullcontext():  # one KV cache: only the model's pass is serialised
            scores = backend.start(msgs, "Logic: ").score([f"{c}{END}" for c in conds])
        return conds[int(scores.argmax())]
    answer = backend.generate(msgs, prefix="Logic: ", max_tokens=48)
    projected = project(answer[0] if answer else "", catalog, set(options))
    if projected is None or len(conditions_of(parse_logic(projected))) != 1:
        return None
    return options[conditions_of(parse_logic(projected))[0].key]


def resolve_phrases(phrases: list[UnresolvedPhrase], *, catalog: Catalog, backend: Backend,
                    retriever: KeyRetriever, library: DemoLibrary, demos: int, keys: int = 4,
                    min_similarity: float = MIN_SIMILARITY, lock: threading.Lock | None = None,
                    similarity: KeySimilarity | None = None, read_something: bool = True,
                    used: frozenset[str] = frozenset(), context: str = "") -> list[Resolution]:
    """One condition per resolvable phrase (see the module docstring); phrases it leaves alone are absent.
    Keys in ``used`` (the linker's reading already has a condition on them) are not offered again;
    ``context`` is the whole (normalised) demand the phrases come from."""
    out: list[Resolution] = []
    vague = [p.phrase.removesuffix(_VAGUE).strip() for p in phrases if _VAGUE in p.phrase]
    # with nothing the rules could read, a phrase must be closer to a key to be more than small talk
    floor = min_similarity if read_something else max(min_similarity, ALONE_SIMILARITY)
    for phrase in phrases:
        text = _text(phrase)
        if _VAGUE in phrase.phrase or any(v in text or text in v for v in vague):
            continue  # the key is known, the threshold is not: the model would invent one
        if phrase.phrase.endswith(_NEGATION_NOTE) or _in_negated_list(text, context):
            continue  # the rules could not tell what the negation covers: neither can the polarity given here
        if _no_condition(text, retriever.entity or ""):
            continue  # nothing about the users: the model would make a condition up
        if _names_a_used_key(text, used):
            continue  # "pay" left between "who" and "with bpay": a word of the payment key already read
        scores = retriever.scores(text)
        need = floor
        near = [k for k in dict.fromkeys((*phrase.candidates, *retriever.top(text, keys * 2)))
                if k in catalog.features and k not in used and scores.get(k, 0.0) >= need]
        options = candidate_conditions(text, near, catalog, similarity=similarity)
        top = sorted(options, key=lambda k: -scores.get(k, 0.0))
        if not top or scores.get(top[0], 0.0) < need:
            continue
        top = [k for k in top if scores.get(k, 0.0) >= scores[top[0]] - _MARGIN][:keys]
        offered = {k: options[k] for k in top}
        if len(offered) == 1:
            condition: str | None = offered[top[0]]  # one condition the phrase can mean: nothing to choose
        else:
            msgs = build_messages(catalog, text, top, library.similar(text, demos) if demos else [])
            condition = _choose(backend, msgs, offered, catalog, lock)
        if condition is not None:
            out.append(Resolution(phrase, condition, tuple(top)))
    return out
