"""Demand → targeting logic: linking, analogical prompting, constrained decoding, the distilled student.

>>> parser = get_parser("linker")          # no model: the linker's first reading
>>> parser.parse("women over 30 in Shanghai").canonical
'(age#Greater Than#30) AND (city#Equal To#shanghai) AND (gender#Equal To#female)'

``get_parser(variant, settings)`` builds any of :data:`VARIANTS` (``default``, ``linker``, ``rerank``, ``zero_shot``,
``fixed_few_shot``, ``random_few_shot``, ``analogical``, ``student``, ``openai``); heavy objects (model
weights, sentence embeddings) are loaded once per process and shared.
"""

from models.targeting.parser._adapters import (
    SHIPPED_ADAPTER,
    adapter_for,
    check_adapter,
    distilled_dir,
    save_adapter,
    trained_for,
)
from models.targeting.parser._backends import (
    Backend,
    OpenAIChatBackend,
    ScoringBackend,
    ScoringSession,
    TransformersBackend,
    smollm2_dir,
)
from models.targeting.parser._compose import Candidate, candidates, combine
from models.targeting.parser._decoding import (
    ChoiceTrace,
    decode_logic,
    pick_candidate,
    project,
    value_options,
)
from models.targeting.parser._demos import (
    DemoLibrary,
    Demonstration,
    generated_demonstrations,
    library_demonstrations,
    load_demonstrations,
)
from models.targeting.parser._embeddings import Embedder, get_embedder, minilm_path
from models.targeting.parser._linking import Linking, Slot, link_demand, preprocess
from models.targeting.parser._numbers import normalize_numbers
from models.targeting.parser._parser import (
    DEFAULT_ADAPTER,
    MAX_DEMAND_CHARS,
    VARIANTS,
    DemandParser,
    ParserConfig,
    get_parser,
    local_backend,
)
from models.targeting.parser._prompts import KeyRetriever, build_messages
from models.targeting.parser._provenance import DemandSpans, explain_parse

__all__ = [
    "DEFAULT_ADAPTER",
    "MAX_DEMAND_CHARS",
    "SHIPPED_ADAPTER",
    "VARIANTS",
    "Backend",
    "Candidate",
    "ChoiceTrace",
    "DemandParser",
    "DemoLibrary",
    "DemandSpans",
    "Demonstration",
    "Embedder",
    "KeyRetriever",
    "Linking",
    "OpenAIChatBackend",
    "ParserConfig",
    "ScoringBackend",
    "ScoringSession",
    "Slot",
    "TransformersBackend",
    "adapter_for",
    "build_messages",
    "candidates",
    "check_adapter",
    "combine",
    "decode_logic",
    "distilled_dir",
    "explain_parse",
    "generated_demonstrations",
    "get_embedder",
    "get_parser",
    "library_demonstrations",
    "link_demand",
    "load_demonstrations",
    "local_backend",
    "minilm_path",
    "normalize_numbers",
    "pick_candidate",
    "preprocess",
    "project",
    "save_adapter",
    "smollm2_dir",
    "trained_for",
    "value_options",
]
