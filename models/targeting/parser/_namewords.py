"""English words for reading a key's name: its own words, the generic ones, and a crude lemma to compare a
demand's words with them ("paid a bill late" says ``late_payments_12m``). Generic English only."""

from __future__ import annotations

import re

__all__ = ["GENERIC_NAME_WORDS", "IRREGULAR_PAST", "STOP_WORDS", "TIME_UNITS", "WINDOW_SUFFIX", "lemma",
           "name_lemmas", "name_word_overlap", "name_word_span", "name_words"]

TIME_UNITS = ("days", "weeks", "months", "years")
# the window a name ends with: orders_30d, flights_12m, visits_4w, trips_1y
WINDOW_SUFFIX = r"_\d+[dwmy]$"
STOP_WORDS = {"a", "an", "the", "of", "in", "on", "to", "for", "by", "with", "is", "are", "was", "were", "their",
              "and", "or", "at", "as", "it", "its", "be", "has", "have", "had", "this", "that", "per", "from", "into"}
# Common irregular past forms ("spend" → "spent"), so an alias written in the present still reads.
IRREGULAR_PAST = {"spend": "spent", "buy": "bought", "pay": "paid", "sell": "sold", "make": "made", "get": "got",
                  "take": "took", "send": "sent", "give": "gave", "leave": "left", "find": "found", "hold": "held",
                  "keep": "kept", "lose": "lost", "win": "won", "bring": "brought", "eat": "ate", "go": "went"}


# Words of a key's name that say nothing about what it measures.
GENERIC_NAME_WORDS = {"days", "day", "since", "last", "count", "counts", "num", "number", "total", "is", "has",
                      "flag", "amount", "avg", "per", "band", "level", "status", "rate", "score", "value", "type",
                      "id", "the", "of", "in", "on", "to", "and", "or", "pct", "percent", "share", "ratio", "any",
                      "with", "from", "for", "by", "at", "size", "qty", "cnt"}


def name_words(name: str) -> list[str]:
    """A key's name words without its window suffix ("late_payments_12m" → late, payments)."""
    return [w for w in re.sub(WINDOW_SUFFIX, "", name).lower().split("_") if w]


def _says_name_word(name_word: str, word: str) -> bool:
    """A demand word says a key's name word: the same word, the same first five letters ("monthly" /
    "month"), a short name word it starts with ("bill" / "bills"), or a short name word abbreviating it
    ("avg" / "averaging": its letters in order from the first)."""
    if word == name_word or len(word) >= 5 and len(name_word) >= 5 and word[:5] == name_word[:5]:
        return True
    if len(name_word) <= 4 and len(word) > len(name_word):
        rest = iter(word[1:])
        return word.startswith(name_word) or (word[0] == name_word[0] and len(word) >= 5
                                               and all(ch in rest for ch in name_word[1:]))
    return False


def name_word_overlap(words: set[str], key: str) -> int:
    """How many of the key's own name words (not the generic ones: "last", "count", "days") the demand words
    say (:func:`_says_name_word`)."""
    own = [w for w in name_words(key) if len(w) >= 3 and w not in GENERIC_NAME_WORDS]
    return sum(any(_says_name_word(n, w) for w in words) for n in own)


_PAST_TO_BASE = {past: base for base, past in IRREGULAR_PAST.items()}
_SUFFIXES = (("ments", ""), ("ment", ""), ("ings", ""), ("ing", ""), ("ies", "y"), ("ied", "y"))


def lemma(word: str) -> str:
    """A crude English lemma to compare words by: irregular pasts to their verb ("paid" → "pay"), common
    endings off ("payments" → "pay", "holders" → "holder", "classes" → "class"), then at most five letters
    ("referred" / "referrals" → "refer")."""
    w = _PAST_TO_BASE.get(word, word)
    if len(w) > 4:
        for suffix, repl in _SUFFIXES:
            if w.endswith(suffix) and len(w) - len(suffix) >= 3:
                w = w[:-len(suffix)] + repl
                break
        else:
            if re.search(r"(?:ss|x|ch|sh|z)es$", w) or w.endswith("ed"):
                w = w[:-2]
            elif w.endswith("s") and not w.endswith("ss"):
                w = w[:-1]
    return w[:5]


def name_lemmas(name: str, others: list[str]) -> frozenset[str]:
    """The lemmas of a key's own name words (not generic ones, at least three letters), when there are two or
    more and no other key's name has them all."""
    def of(n: str) -> frozenset[str]:
        return frozenset(lemma(w) for w in name_words(n) if len(w) >= 3 and w not in GENERIC_NAME_WORDS
                         and w not in TIME_UNITS and w not in STOP_WORDS and w != "via" and w.isalpha())
    own = of(name)
    if len(own) < 2 or any(own <= of(o) for o in others if o != name):
        return frozenset()
    return own


def name_word_span(text: str, lemmas: frozenset[str], width: int = 4) -> tuple[int, int] | None:
    """The shortest stretch of at most ``width`` words between the first and last of them in which the text
    says every lemma of ``lemmas`` ("paid a bill late" for {pay, late}), or None."""
    words = [(m.start(), m.end(), lemma(m.group(0))) for m in re.finditer(r"[a-z]+", text)]
    best: tuple[int, int] | None = None
    for i, (s, _, first) in enumerate(words):
        if first not in lemmas:
            continue
        seen: set[str] = set()
        for j in range(i, min(len(words), i + width + 1)):
            seen.add(words[j][2])
            if lemmas <= seen:
                if best is None or words[j][1] - s < best[1] - best[0]:
                    best = (s, words[j][1])
                break
    return best
