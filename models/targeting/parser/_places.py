"""People named by their place: "Californians", "Germans", "Texans", "New Yorkers", "Midwesterners".

A feature is about a place when its name, description or aliases say so (country, state, city, region, ...);
each of its values and value aliases is then also read in the English demonym forms of its last word.
The forms come from regular English morphology; :data:`IRREGULAR_DEMONYMS` holds the common forms no rule
derives (irregular like "spend" / "spent", not a list for any catalog). A catalog adds its own through
``value_aliases``.
"""

from __future__ import annotations

import re

from features.catalog import Feature

__all__ = ["IRREGULAR_DEMONYMS", "demonym_patterns", "is_place_feature"]

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
