"""Numbers written in words or digits ("twenty-five", "2.5k", "10,000", "a dozen") turned into digits.

The linker runs on text where every number is a plain decimal, so one set of comparison patterns
covers "over twenty five", "over 25" and "over 25k".
"""

from __future__ import annotations

import re

__all__ = ["normalize_numbers", "format_number"]

_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}
_TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fourty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
    "eighty": 80, "ninety": 90,
}
_SCALES = {"hundred": 100, "thousand": 1000, "million": 1_000_000}
_SPECIAL = {"half a million": "500000", "half a thousand": "500", "a dozen": "12", "dozen": "12", "a couple of": "2", "a couple": "2", "a hundred": "100",
            "a thousand": "1000", "half a year": "6 months", "a fortnight": "2 weeks", "fortnight": "2 weeks", "once": "1 time",
            "twice": "2 times", "thrice": "3 times", "single digit": "9"}
# decades: "in their thirties" / "in their 30s"
_DECADES = {"twenties": 20, "thirties": 30, "forties": 40, "fifties": 50, "sixties": 60, "seventies": 70}

_WORD = "|".join(sorted([*_UNITS, *_TENS, *_SCALES], key=len, reverse=True))
_WORD_RUN = re.compile(rf"\b(?:{_WORD})(?:(?:[\s-]+|\s+and\s+)(?:{_WORD}))*\b")


def _words_to_int(words: str) -> int | None:
    total, current, seen = 0, 0, False
    for w in re.split(r"[\s-]+", words):
        if w == "and" or not w:
            continue
        seen = True
        if w in _UNITS:
            current += _UNITS[w]
        elif w in _TENS:
            current += _TENS[w]
        elif w == "hundred":
            current = max(current, 1) * 100
        elif w in _SCALES:
            total += max(current, 1) * _SCALES[w]
            current = 0
        else:
            return None
    return total + current if seen else None


def format_number(x: float) -> str:
    """Digits without a trailing ``.0`` (``25.0`` → ``25``, ``0.5`` stays)."""
    if float(x).is_integer():
        return str(int(x))
    return f"{x:.6g}"


def normalize_numbers(text: str) -> str:
    """Lower-case ``text`` with number words, thousands separators and k/m suffixes as plain digits."""
    t = f" {text.lower()} "
    for phrase, repl in _SPECIAL.items():
        t = re.sub(rf"\b{phrase}\b", repl, t)
    t = re.sub(r"\b(for|within|than|over|under|in|past|last|most|least) an? (day|week|month|year)\b", r"\1 1 \2", t)
    for word, lo in _DECADES.items():
        t = re.sub(rf"\b(?:in )?(?:their|his|her) {word}\b", f"aged {lo} to {lo + 9}", t)
    t = re.sub(r"\b(?:in )?(?:their|his|her) (\d)0s\b", lambda m: f"aged {m.group(1)}0 to {m.group(1)}9", t)

    # Number words, longest run first (and "and" only glues number words together).
    def _replace(m: re.Match[str]) -> str:
        # "and" glues number words only after a scale ("one hundred and fifty"), not in "ten and fifty".
        parts = re.split(r"(?<!hundred)(?<!thousand)(?<!million)\s+and\s+", m.group(0))
        out = []
        for part in parts:
            n = _words_to_int(part)
            out.append(part if n is None else str(n))
        return " and ".join(out)

    t = _WORD_RUN.sub(_replace, t)
    t = re.sub(r"(?<=\d),(?=\d{3}\b)", "", t)  # 10,000 → 10000
    t = re.sub(r"\b(\d)0[- ]?somethings?\b", lambda m: f"aged {m.group(1)}0 to {m.group(1)}9", t)
    t = re.sub(r"(?<=\d) (?=000\b)", "", t)
    t = re.sub(r"\b(\d+(?:\.\d+)?)\s*(k|thousand|grand)\b", lambda m: format_number(float(m.group(1)) * 1000), t)
    t = re.sub(r"\b(\d+(?:\.\d+)?)\s*(m|million)\b(?! ?(?:onth|in))",
               lambda m: format_number(float(m.group(1)) * 1_000_000), t)
    t = re.sub(r"\b(\d+(?:\.\d+)?)\s*hundred\b", lambda m: format_number(float(m.group(1)) * 100), t)
    t = re.sub(r"(\d+(?:\.\d+)?)\s*(?:%|percent\b|per cent\b)", lambda m: format_number(float(m.group(1)) / 100) + " ", t)
    # a currency sign becomes the currency's word after the number, so the number reads as money
    signs = {"¥": "yuan", "$": "dollars", "£": "pounds", "€": "euros", "₹": "rupees"}
    t = re.sub(r"([¥$£€₹])\s*(\d+(?:\.\d+)?)", lambda m: f"{m.group(2)} {signs[m.group(1)]}", t)
    t = re.sub(r"\s+", " ", t)
    return t.strip()
