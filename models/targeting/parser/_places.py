"""People named by their place: "Californians", "Germans", "Texans", "New Yorkers", "Midwesterners".

A feature is about a place when its name, description or aliases say so (country, state, city, region, ...);
each of its values and value aliases is then also read in the English demonym forms of its last word.
The forms come from regular English morphology; :data:`IRREGULAR_DEMONYMS` holds the common forms no rule
derives (irregular like "spend" / "spent", not a list for any catalog). A catalog adds its own through
``value_aliases``.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from features.catalog import Feature

__all__ = ["IRREGULAR_DEMONYMS", "demonym_patterns", "is_place_feature", "spell_place_codes"]

_PLACE_WORDS = re.compile(r"\b(?:country|countries|nation|nationality|state|states|city|cities|province|"
                          r"provinces|county|counties|region|regions|territory|location|located|address|town|metro|"
                          r"residence|resides|lives)\b")
# a trailing word that names the kind of place, not the place ("washington state", "kansas city" stays)
_PLACE_KIND = re.compile(r"\s+(?:state|province|county|region|area)$")

IRREGULAR_DEMONYMS: dict[str, tuple[str, ...]] = {
    "france": ("french",), "netherlands": ("dutch",), "holland": ("dutch",), "ireland": ("irish",),
    "philippines": ("filipinos?", "filipinas?"), "switzerland": ("swiss",), "spain": ("spanish", "spaniards?"),
    "denmark": ("danish", "danes?"), "finland": ("finnish", "finns?"), "scotland": ("scottish", "scots?"),
    "wales": ("welsh",), "greece": ("greeks?",), "thailand": ("thai",), "turkey": ("turkish", "turks?"),
    "portugal": ("portuguese",), "britain": ("british", "brits?"), "united kingdom": ("british", "brits?"),
    "england": ("english",), "australia": ("aussies?",), "new zealand": ("kiwis?",), "iceland": ("icelandic",),
    "peru": ("peruvians?",), "israel": ("israelis?",), "pakistan": ("pakistanis?",), "iraq": ("iraqis?",),
    "bangladesh": ("bangladeshis?",), "saudi arabia": ("saudis?",), "michigan": ("michiganders?",),
    "massachusetts": ("bay staters?",), "indiana": ("hoosiers?",),
}


def is_place_feature(f: Feature) -> bool:
    """The feature says where someone is: its name, description or aliases name a kind of place."""
    return bool(_PLACE_WORDS.search(" ".join([f.name.replace("_", " "), f.description, *f.aliases]).lower()))


def _forms(word: str) -> list[str]:
    """Regular demonyms of one place word: California → Californian, Florida → Floridian, Japan → Japanese,
    Germany → German, Italy → Italian, Mexico → Mexican, Ohio → Ohioan, Texas → Texan, Sweden → Swedish,
    Poland → Polish, Brazil → Brazilian, York → Yorker, West → Western(er)."""
    w = word
    out: list[str] = []
    if w.endswith("a"):
        out += [w + "n", w[:-1] + "ian", w[:-1] + "ese"]
    elif w.endswith("y"):
        out += [w[:-1] + "ian", w[:-1]]
    elif w.endswith("o"):
        out += [w + "an", w[:-1] + "an"]
    elif w.endswith("s"):
        out += [w[:-1] + "n", w + "ian"]  # Texas → Texan, Paris → Parisian
    elif w.endswith("e"):
        out += [w + "an", w[:-1] + "an"]  # Europe → European, Singapore → Singaporean, Rome → Roman
    elif w.endswith("en"):
        out += [w[:-2] + "ish"]
    elif w.endswith("land"):
        out += [w[:-3] + "ish", w + "er"]
    elif re.search(r"(?:north|south|east|west)$", w):
        out += [w + "ern", w + "erner"]
    else:
        out += [w + "ian", w + "ese", w + "er"]
    return [f + "s?" if not f.endswith(("ese", "ish", "ern")) else f for f in out]


def demonym_patterns(phrase: str) -> list[str]:
    """Regex sources for the people of the place ``phrase`` ("new york" → "new yorkers?")."""
    place = _PLACE_KIND.sub("", phrase.lower().replace("_", " ").strip())
    words = place.split()
    irregular = list(IRREGULAR_DEMONYMS.get(place, ()))
    if not words or len(words[-1]) < 4 or not all(w.isalpha() for w in words):
        return irregular
    head = "".join(re.escape(w) + r"[- ]?" for w in words[:-1])
    return [head + f for f in _forms(words[-1])] + irregular


_NAME_RUN = re.compile(r"(?<![\w'])[A-Z][a-z]+(?:[ -][A-Z][a-z]+)*")
_SENTENCE_START = re.compile(r"(?:^|[.!?:;\n]|^\s*[-*\u2022]|\n\s*[-*\u2022])\s*$")


def _subsequence(code: str, word: str) -> bool:
    """``code``'s letters appear in ``word`` in order, the first one first ("qld" in "queenslanders")."""
    if not word.startswith(code[0]):
        return False
    rest = iter(word[1:])
    return all(ch in rest for ch in code[1:])


def spell_place_codes(demand: str, codes: dict[str, str], known: Callable[[str], bool] | None = None) -> str:
    """Proper names the catalog stores as short codes, written as the code: "Queenslanders" → "qld",
    "South Australian" → "sa", "in Tassie" → "tas" (``codes``: code → the feature it is a value of; only
    a place feature's short alphabetic values are codes).

    A name is capitalised in the demand (a place is a proper noun). One word abbreviates a code of three or
    more letters when the code's letters appear in it in order from its first letter and no other code's do;
    a run of capitalised words abbreviates a code by its initials ("New South Wales"). A capital at the start
    of a sentence says nothing, so a first word counts only in a plural demonym form ("Queenslanders ...");
    a word the catalog already names (``known``) is left to the catalog's own cue."""
    out = demand
    for m in reversed(list(_NAME_RUN.finditer(demand))):
        words = re.split(r"[ -]", m.group(0))
        initial = bool(_SENTENCE_START.search(demand[:m.start()]))
        repl = _code_for(words, codes, initial, known)
        if repl is not None:
            out = f"{out[:m.start()]}{repl}{out[m.end():]}"
    return out


def _code_for(words: list[str], codes: dict[str, str], initial: bool, known: Callable[[str], bool] | None
              ) -> str | None:
    lowered = [w.lower() for w in words]
    if known is not None and known(" ".join(lowered)):
        return None
    # a run of names: its initials ("south australian" → sa), over the whole run or a part of it
    for size in range(len(words), 1, -1):
        for i in range(len(words) - size + 1):
            ini = "".join(w[0] for w in lowered[i:i + size])
            if ini in codes:
                return " ".join([*words[:i], ini.upper(), *words[i + size:]])
    spelled = [_one_word(w, codes, initial and i == 0, known) for i, w in enumerate(lowered)]
    if all(c is None for c in spelled):
        return None
    return " ".join(c.upper() if c is not None else w for w, c in zip(words, spelled, strict=True))


def _one_word(word: str, codes: dict[str, str], initial: bool, known: Callable[[str], bool] | None) -> str | None:
    if initial and not re.search(r"(?:ers|ians|ans|ites)$", word):
        return None
    if known is not None and known(word):
        return None
    fits = [c for c in codes if len(c) >= 3 and len(word) >= len(c) + 2 and _subsequence(c, word)]
    return fits[0] if len(fits) == 1 else None
