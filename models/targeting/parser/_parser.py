"""The demand parser and its variants: linking → retrieval → prompt → constrained model choice.

Every variant shares the front end (value/key linking, unresolved phrases, bad-input checks) and
differs in how the model is used:

``linker``            the linker's first reading, no model (the floor every model variant must beat);
``zero_shot`` / ``fixed_few_shot`` / ``random_few_shot`` / ``analogical``
                      the base SmolLM2 model writes the logic under grammar-constrained decoding, prompted
                      with no, the first, random or the most similar demonstrations;
``student``           the distilled LoRA student writes the logic (analogical prompt, constrained);
``rerank``            the linker proposes complete readings and the student (the base model when no
                      adapter is installed) scores them all in one batched pass; the model overrides the
                      linker's order only by more than ``rank_prior`` nats per rank step, and with one
                      reading it is not consulted at all;
``default``           reads as ``DEFAULT_READS_AS`` (today ``resolve``: at least the linker alone on execution
                      on every held-out set, never worse on inverted audiences; docs/targeting.md "The
                      model resolves what the rules cannot"); on the blind held-out sets ``rerank``
                      overrode the linker 7 times and was right once, and ``student`` alone reaches
                      0.53-0.67 execution;
``openai``            an OpenAI-compatible endpoint writes the logic; the text is projected onto the
                      grammar (parsed, validated, restricted to linked keys), self-consistency optional;
``resolve``           the linker's first reading plus, for each phrase it left unresolved, ONE condition: the
                      rules write a candidate per close key (MiniLM) and the model only chooses among two or
                      more (``_resolve``; the student, loaded on first use, or the OpenAI-compatible
                      endpoint).
"""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.errors import InvalidArgument
from core.settings import ParserSettings, Settings
from features.catalog import Catalog, configured_catalog
from models.targeting.logic import (
    ParseResult,
    ReasoningChain,
    UnresolvedPhrase,
    canonical,
    conditions_of,
    normalize,
    parse_logic,
)
from models.targeting.parser._adapters import SHIPPED_ADAPTER, adapter_for, check_adapter
from models.targeting.parser._backends import (
    Backend,
    OpenAIChatBackend,
    ScoringSession,
    TransformersBackend,
    smollm2_dir,
)
from models.targeting.parser._compose import Candidate, candidates
from models.targeting.parser._decoding import decode_logic, pick_candidate, project
from models.targeting.parser._demos import DemoLibrary, Demonstration, library_demonstrations
from models.targeting.parser._embeddings import get_embedder
from models.targeting.parser._linking import Linking, link_demand
from models.targeting.parser._polarity import audit_polarity, unattached_numbers
from models.targeting.parser._prompts import KeyRetriever, build_messages
from models.targeting.parser._provenance import DemandSpans, explain_parse
from models.targeting.parser._resolve import Resolution, resolve_phrases

__all__ = ["DEFAULT_ADAPTER", "DEFAULT_READS_AS", "DemandParser", "MAX_DEMAND_CHARS", "ParserConfig",
           "VARIANTS", "get_parser", "shared_library"]

MAX_DEMAND_CHARS = 500
DEFAULT_ADAPTER = SHIPPED_ADAPTER
# What ``default`` reads as: the variant measured best against the linker alone on every held-out set
# (docs/targeting.md, "The model resolves what the rules cannot"); switching it is this one line.
DEFAULT_READS_AS = "resolve"
VARIANTS = ("default", "linker", "resolve", "rerank", "zero_shot", "fixed_few_shot", "random_few_shot",
            "analogical", "student", "openai")
# "write me a poem about autumn in Hangzhou" names a city but asks for no audience.
_OTHER_TASK = re.compile(r"\b(?:write|compose|draft|translate|summari[sz]e|give me|need|suggest|come up with|"
                         r"brainstorm|create|send me|email me|share|re-?run|refresh|retrain|update)\b(?:\s+[\w-]+){0,4}?\s+(?:a |an |the |some )?"
                         r"(?:short |quick |catchy |new |punchy )?(?:poem|slogan|essay|story|tagline|headline|copy|song|"
                         r"haiku|joke|article|post|title|subject line|caption|copy ideas?|text ideas?|e-?mail|letter|message|reply|"
                         r"script|faq|blurb|report|deck|trends?|analysis|summary|dashboard|chart|presentation|slides?|model|forecast)s?\b"
                         r"|\b(?:for|in) (?:a|an|our|the) blog(?: post)?\b")
# "what's the weather in Hangzhou tomorrow?": a question that names a city but no audience
_QUESTION = re.compile(r"^\s*(?:what|what's|how|when|why|where|is|are|will|do|does)\b[^?]*\?\s*$")
_AUDIENCE = re.compile(r"\b(?:users?|customers?|people|persons?|members?|buyers?|shoppers?|clients?|audience|"
                       r"segment|wom[ae]n|m[ae]n|lad(?:y|ies)|guys|anyone|everyone|those|who|whose|ones|students|"
                       r"parents|moms?|dads?|holders?|owners?|borrowers?|investors?|subscribers?|accounts?|"
                       r"policyholders?|households?|travell?ers?|drivers?|viewers?|guests?|passengers?|patients?|"
                       r"players?|riders?|visitors?|residents?|fans?)\b")
# "What was our Q3 retention rate for bundled customers?": a question about a measure, not for an audience
_METRIC_QUESTION = re.compile(r"^\s*(?!how many\b)(?:what|what's|how)\b(?: is| was| are| were| has| have)?"
                              r"(?: our| the| their)?(?: [\w-]+){0,3} (?:rate|ratio|average|mean|median|percentage|"
                              r"share|trend|growth|revenue|margin|roi|lift|conversion|retention|performance|"
                              r"breakdown|distribution)s?\b"
                              r"[^?]*\?\s*$")


# "can you send me the Q3 attendance report for ...", "please rerun the churn model for NSW": work asked of the
# team, not an audience (a place or a number in it is where the work is about)
_WORK_REQUEST = re.compile(r"\b(?:send (?:me|us|over)|share)\b(?:\s+[\w-]+){0,5}?\s+(?:report|deck|dashboard|"
                           r"analysis|breakdown|spreadsheet|numbers|figures|stats|metrics|kpis?)\b"
                           r"|\b(?:re-?run|retrain|refresh|rebuild)\b(?:\s+[\w-]+){0,3}?\s+(?:models?|forecasts?|"
                           r"reports?|dashboards?|analys[ie]s|pipelines?)\b")


# "draft 3 push notification ideas for ...", "give me 5 ideas for a bundle", "summarize last month's campaign
# results": writing or summary work; no word on the way names people ("give me members who ..." is an audience)
_IDEAS_REQUEST = re.compile(rf"\b(?:write|draft|compose|give me|suggest|come up with|brainstorm|summari[sz]e)\b"
                            rf"(?:\s+(?!{_AUDIENCE.pattern[2:-2]}\b)[\w'$-]+){{0,5}}?\s+"
                            r"(?:ideas?|variants?|versions?|options|notifications?|results|recap|learnings)\b")


def _asks_for_no_audience(text: str) -> bool:
    """Writing work, work on reports and models, a question about a measure, or a question that names no one
    ("what's the weather in Hangzhou?")."""
    return bool(_OTHER_TASK.search(text) or _WORK_REQUEST.search(text) or _IDEAS_REQUEST.search(text)
                or _METRIC_QUESTION.search(text)
                or _QUESTION.search(text) and not _AUDIENCE.search(text))


_INJECTION = re.compile(r"\b(?:ignore|disregard|forget|override|bypass|drop|delete|truncate|insert|update|"
                        r"select \*|system prompt|instructions?|rules|jailbreak|sql|table)\b")


# The parser's knobs are deployment settings (MDS_PARSER__<KNOB>): one definition, in core.settings.
ParserConfig = ParserSettings


@dataclass
class _Shared:
    """Heavy objects shared by every parser of a process (model weights, embeddings, library)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    backends: dict[tuple[str, str], TransformersBackend] = field(default_factory=dict)
    libraries: dict[int, tuple[Catalog, DemoLibrary, KeyRetriever]] = field(default_factory=dict)
    decode_locks: dict[int, threading.Lock] = field(default_factory=dict)  # one per local model (one KV cache)
    lazy: dict[tuple[str, str, str], _OnFirstUse] = field(default_factory=dict)  # loaded on first use


_SHARED = _Shared()


def shared_library(catalog: Catalog) -> tuple[DemoLibrary, KeyRetriever]:
    """The catalog's demonstration library and key retriever, built once per catalog object in the process."""
    with _SHARED.lock:
        hit = _SHARED.libraries.get(id(catalog))
        if hit is None or hit[0] is not catalog:
            emb = get_embedder()
            hit = (catalog, DemoLibrary(library_demonstrations(catalog), emb), KeyRetriever(catalog, emb))
            _SHARED.libraries[id(catalog)] = hit
        return hit[1], hit[2]


def local_backend(cache_dir: Path, adapter_dir: Path | None, threads: int | None = None) -> TransformersBackend:
    """The local SmolLM2 (converted once into ``cache_dir``), with ``adapter_dir`` merged when given."""
    with _SHARED.lock:
        model_dir = smollm2_dir(cache_dir)
        k = (str(model_dir), str(adapter_dir or ""))
        if k not in _SHARED.backends:
            _SHARED.backends[k] = TransformersBackend(model_dir, adapter_dir, threads=threads)
        return _SHARED.backends[k]


class _OnFirstUse:
    """The local model, loaded on its first use (``resolve`` asks it only to choose between candidates)."""

    name = "transformers"

    def __init__(self, load: Callable[[], TransformersBackend]) -> None:
        self._load = load
        self._backend: TransformersBackend | None = None
        self._lock = threading.Lock()

    def _get(self) -> TransformersBackend:
        with self._lock:
            if self._backend is None:
                self._backend = self._load()
            return self._backend

    def start(self, messages: list[dict[str, str]], prefix: str = "") -> ScoringSession:
        return self._get().start(messages, prefix)

    def generate(self, messages: list[dict[str, str]], *, prefix: str = "", max_tokens: int = 96,
                 temperature: float = 0.0, n: int = 1, stop: str = "\n") -> list[str]:
        return self._get().generate(messages, prefix=prefix, max_tokens=max_tokens, temperature=temperature,
                                    n=n, stop=stop)


def _on_first_use(cache_dir: Path, adapter_dir: Path | None, threads: int | None) -> _OnFirstUse:
    """One lazy handle per local model, so every ``resolve`` parser on it shares one decode lock."""
    with _SHARED.lock:
        k = (str(cache_dir), str(adapter_dir or ""), str(threads))
        if k not in _SHARED.lazy:
            _SHARED.lazy[k] = _OnFirstUse(lambda: local_backend(cache_dir, adapter_dir, threads))
        return _SHARED.lazy[k]


class DemandParser:
    """``parse(demand) -> ParseResult`` for one variant."""

    def __init__(self, variant: str, catalog: Catalog, *, backend: Backend | None, library: DemoLibrary,
                 retriever: KeyRetriever, config: ParserConfig) -> None:
        if variant not in VARIANTS:
            raise InvalidArgument(f"unknown parser variant {variant!r}; choose one of {', '.join(VARIANTS)}",
                                  field="variant")
        self.variant = variant
        self.mode = DEFAULT_READS_AS if variant == "default" else variant  # what the parser does
        self.catalog = catalog
        self.backend = backend
        self.library = library
        self.retriever = retriever
        self.config = config

    @property
    def serial(self) -> bool:
        """Whether parses must run one at a time: a local model decodes the whole demand on one KV cache.
        The linker is pure Python over immutable tables, and ``resolve`` locks only around its decodes."""
        return self.backend is not None and self.mode != "resolve" and hasattr(self.backend, "start")

    # -- front end --------------------------------------------------------------------------------

    def _check(self, demand: str) -> str:
        if not isinstance(demand, str) or not demand.strip():
            raise InvalidArgument("demand is empty", field="demand")
        if len(demand) > MAX_DEMAND_CHARS:
            raise InvalidArgument(f"demand is {len(demand)} characters; at most {MAX_DEMAND_CHARS}", field="demand")
        # spaces folded within each line; a line break stays, as a bulleted item ends a clause
        return "\n".join(" ".join(line.split()) for line in demand.splitlines() if line.strip())

    def _unresolved(self, linking: Linking, spans: DemandSpans | None = None) -> list[UnresolvedPhrase]:
        out: list[UnresolvedPhrase] = []
        for c in linking.clauses:
            for phrase, key in c.vague:
                out.append(self._closest(f"{phrase} (no threshold given)", phrase, spans, first=key))
            for unsure, suspect in c.unsure:
                out.append(self._closest(f"{unsure} (not sure what the negation covers)", unsure, spans,
                                         first=suspect))
            for phrase in [*c.unread, *unattached_numbers(c)]:
                out.append(self._closest(phrase, phrase, spans))
            if c.slots or c.unsure or not c.leftover.strip():
                continue
            out.append(self._closest(c.text, c.text, spans))
        return out

    def _closest(self, label: str, phrase: str, spans: DemandSpans | None, first: str | None = None
                 ) -> UnresolvedPhrase:
        """An unresolved phrase with its 3 closest keys (``first`` leading), their similarity, its place."""
        sims = self.retriever.scores(phrase)
        near = [*([first] if first else []), *(k for k in sorted(sims, key=lambda k: -sims[k]) if k != first)][:3]
        span = spans.find(phrase) if spans is not None else None
        return UnresolvedPhrase(label, tuple(near), tuple(round(sims[k], 4) for k in near),
                                *(span if span is not None else (None, None)))

    def _empty(self, demand: str, unresolved: list[UnresolvedPhrase]) -> ParseResult:
        text = demand.lower()
        if _asks_for_no_audience(text):
            why = "the demand asks for something other than an audience (writing, translating); nothing was selected"
        elif _INJECTION.search(text):
            why = ("the demand reads as instructions to the system, not a description of users; "
                   "nothing was selected")
        elif not re.search(r"[a-z]", text):
            why = "the demand contains no English words; nothing was selected"
        else:
            why = "no phrase of the demand maps to a catalog feature; nothing was selected"
        if unresolved:
            why += ". Unresolved: " + "; ".join(f"'{u.phrase}' (closest keys: {', '.join(u.candidates)})"
                                               for u in unresolved)
        return ParseResult(None, "", [], unresolved, why)

    # -- parse ------------------------------------------------------------------------------------

    def parse(self, demand: str) -> ParseResult:
        """The logic, and for a tool to show: each condition's phrase, other readings, unresolved phrases."""
        text = self._check(demand)
        linking = link_demand(text, self.catalog, similarity=self.retriever.scores)
        spans = DemandSpans(demand, linking.text)  # positions in the demand as sent, not the normalised text
        cands = candidates(linking, self.config.candidates)
        result = self._read(text, linking, cands, self._unresolved(linking, spans))
        result = audit_polarity(result, linking, self.catalog,  # words around each condition vs its polarity
                                lambda label, phrase, first: self._closest(label, phrase, spans, first))
        return explain_parse(result, spans, linking, cands, self.catalog, self.config.alternatives)

    def _read(self, demand: str, linking: Linking, cands: list[Candidate],
              unresolved: list[UnresolvedPhrase]) -> ParseResult:
        if self.mode == "resolve" and not _asks_for_no_audience(demand.lower()) and not (
                not cands and _INJECTION.search(demand.lower())):
            return self._resolve(demand, cands, unresolved, linking.text)
        if not cands or _asks_for_no_audience(demand.lower()):
            return self._empty(demand, unresolved)
        if self.mode == "linker":
            how = "linker's first reading" + (f" of {len(cands)}" if len(cands) > 1 else "")
            return self._result(cands[0].logic, cands[0].reasoning, unresolved, how)
        if self.mode == "rerank":
            return self._pick(demand, linking, cands, unresolved)
        if self.mode == "openai":
            return self._remote(demand, linking, cands, unresolved)
        return self._generate(demand, linking, cands, unresolved)

    def _demos(self, demand: str) -> list[Demonstration]:
        k = self.config.demos
        if self.mode in ("student", "rerank") and self.config.student_demos is not None:
            k = self.config.student_demos
        if self.mode == "zero_shot" or k == 0:
            return []
        if self.mode == "fixed_few_shot":
            return self.library.fixed(k)
        if self.mode == "random_few_shot":
            return self.library.random(k, seed=hash(demand) & 0xFFFF)
        return self.library.similar(demand, k)

    def _keys(self, demand: str, linking: Linking) -> list[str]:
        return self.retriever.top(demand, self.config.keys, must=linking.keys)

    def _result(self, logic: str, reasoning: ReasoningChain, unresolved: list[UnresolvedPhrase],
                how: str) -> ParseResult:
        expr = normalize(parse_logic(logic), self.catalog)  # the conventional spelling of each condition
        text = canonical(expr)
        chain = ReasoningChain(reasoning.key_phrases, reasoning.mapping, reasoning.conditions, text)
        note = f"{how}."
        if unresolved:
            note += " Not used: " + "; ".join(f"'{u.phrase}' (closest keys: {', '.join(u.candidates)})"
                                              for u in unresolved)
        return ParseResult(expr, text, chain.steps(), unresolved, note)

    def _pick(self, demand: str, linking: Linking, cands: list[Candidate],
              unresolved: list[UnresolvedPhrase]) -> ParseResult:
        if len(cands) == 1 or self.backend is None:
            return self._result(cands[0].logic, cands[0].reasoning, unresolved, "one reading of the demand")
        msgs = build_messages(self.catalog, demand, self._keys(demand, linking), self._demos(demand))
        session = self.backend.start(msgs, "Logic: ")  # type: ignore[attr-defined]
        _, scores = pick_candidate(session, [c.logic for c in cands])
        prior = np.array([c.rank for c in cands], dtype=float) * self.config.rank_prior
        best = int(np.argmax(scores - prior))
        return self._result(cands[best].logic, cands[best].reasoning, unresolved,
                            f"model chose reading {best + 1} of {len(cands)}")

    def _generate(self, demand: str, linking: Linking, cands: list[Candidate],
                  unresolved: list[UnresolvedPhrase]) -> ParseResult:
        assert self.backend is not None
        keys = self._keys(demand, linking)
        msgs = build_messages(self.catalog, demand, keys, self._demos(demand))
        session = self.backend.start(msgs, "Logic: ")  # type: ignore[attr-defined]
        trace = decode_logic(session, self.catalog, keys, linking)
        reasoning = next((c.reasoning for c in cands if canonical(parse_logic(c.logic)) ==
                          canonical(parse_logic(trace.logic))), cands[0].reasoning)
        return self._result(trace.logic, reasoning, unresolved,
                            f"constrained decoding ({trace.scored_steps} scored choices, "
                            f"{trace.forced_steps} forced)")

    def _resolve(self, demand: str, cands: list[Candidate], unresolved: list[UnresolvedPhrase],
                 context: str) -> ParseResult:
        """The linker's reading AND one model-written condition per phrase the linker could not read."""
        assert self.backend is not None
        demos = self.config.student_demos if self.config.student_demos is not None else self.config.demos
        lock = _SHARED.decode_locks.setdefault(id(self.backend), threading.Lock()) if hasattr(
            self.backend, "start") else None
        resolved = resolve_phrases(unresolved, catalog=self.catalog, backend=self.backend, retriever=self.retriever,
                                   library=self.library, demos=demos, lock=lock, similarity=self.retriever.scores,
                                   read_something=bool(cands), context=context,
                                   used=frozenset(c.key for c in conditions_of(parse_logic(cands[0].logic)))
                                   if cands else frozenset())
        if not resolved:
            if not cands:
                return self._empty(demand, unresolved)
            return self._result(cands[0].logic, cands[0].reasoning, unresolved, "linker's reading; the model "
                                "resolved no phrase")
        base = [cands[0].logic] if cands else []
        parts = [*base, *(r.condition for r in resolved)]
        logic = " AND ".join(f"({p})" if " OR " in p or " AND " in p else p for p in parts)
        chain = cands[0].reasoning if cands else ReasoningChain((), (), (), "")
        added = [(r.phrase.phrase, conditions_of(parse_logic(r.condition))[0].key) for r in resolved]
        reasoning = ReasoningChain((*chain.key_phrases, *(p for p, _ in added)), (*chain.mapping, *added),
                                   (*chain.conditions, *(r.condition for r in resolved)), logic)
        left = [u for u in unresolved if all(u is not r.phrase for r in resolved)]
        def why(r: Resolution) -> str:
            if len(r.keys) > 1:
                return f"the model's choice among {', '.join(r.keys)}"
            return "the one close key it fits"

        how = "linker's reading; unread phrases resolved: " + "; ".join(
            f"'{r.phrase.phrase}' → {r.condition} ({why(r)})" for r in resolved)
        return self._result(logic, reasoning, left, how)

    def _remote(self, demand: str, linking: Linking, cands: list[Candidate],
                unresolved: list[UnresolvedPhrase]) -> ParseResult:
        assert self.backend is not None
        keys = self._keys(demand, linking)
        msgs = build_messages(self.catalog, demand, keys, self._demos(demand))
        n = self.config.samples
        texts = self.backend.generate(msgs, prefix="Logic: ", max_tokens=160, n=n,
                                      temperature=self.config.temperature if n > 1 else 0.0)
        votes = Counter(p for p in (project(t, self.catalog, set(keys)) for t in texts) if p)
        if not votes:
            return self._result(cands[0].logic, cands[0].reasoning, unresolved,
                                "the endpoint's answer was not valid logic over the offered keys; "
                                "the linker's reading is used")
        logic, count = votes.most_common(1)[0]
        reasoning = next((c.reasoning for c in cands if canonical(parse_logic(c.logic)) == logic),
                         cands[0].reasoning)
        return self._result(logic, reasoning, unresolved, f"endpoint answer ({count} of {len(texts)} votes)")


def _trained_demos(adapter: Path) -> int | None:
    """How many demonstrations the adapter's prompts held in training (``training.json``)."""
    try:
        return int(json.loads((adapter / "training.json").read_text())["config"]["demos"])
    except (OSError, KeyError, ValueError, TypeError):
        return None


def get_parser(variant: str = "default", settings: Settings | None = None, *, catalog: Catalog | None = None,
               config: ParserConfig | None = None, backend: Backend | None = None) -> DemandParser:
    """A parser for ``variant`` (see :data:`VARIANTS`); heavy objects are shared within the process."""
    if variant not in VARIANTS:
        raise InvalidArgument(f"unknown parser variant {variant!r}; choose one of {', '.join(VARIANTS)}",
                              field="variant")
    mode = DEFAULT_READS_AS if variant == "default" else variant
    config = config or (settings.parser if settings is not None else ParserConfig())  # MDS_PARSER__*
    if catalog is None:
        from core.settings import get_settings
        catalog = configured_catalog(settings or get_settings())
    cache_dir = config.cache_dir or ((settings.data_dir if settings else Path("var")) / "cache")
    library, retriever = shared_library(catalog)
    if backend is None and (mode == "openai" or mode == "resolve" and config.backend_url):
        if not config.backend_url:
            raise InvalidArgument("the openai variant needs backend_url (an OpenAI-compatible API root)",
                                  field="backend_url")
        backend = OpenAIChatBackend(config.backend_url, config.backend_model, api_key=config.backend_api_key)
    if backend is None and mode != "linker":
        adapter: Path | None = None
        if mode in ("student", "rerank", "resolve"):
            adapter = config.adapter_dir or adapter_for(catalog, settings.data_dir if settings else Path("var"))
            if not (adapter / "adapter_config.json").exists():
                if variant == "student":
                    raise InvalidArgument(f"no distilled adapter at {adapter}; run `mds targeting distill`",
                                          field="adapter_dir")
                adapter = None
            if adapter is not None:
                check_adapter(adapter)
            if adapter is not None and config.student_demos is None:
                config = config.model_copy(update={"student_demos": _trained_demos(adapter)})
        if mode == "resolve":  # the model is needed only when a phrase fits two keys: load it then
            backend = _on_first_use(cache_dir, adapter, config.threads)
        else:
            backend = local_backend(cache_dir, adapter, config.threads)
    return DemandParser(variant, catalog, backend=backend, library=library, retriever=retriever, config=config)
