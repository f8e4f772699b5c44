"""Numbers as marketers write them: digits, words, "5k", "¥500", "$2,000", "a month", "70%".

``style`` says what a number is (``money``, ``days``, ``years``, ``percent``, ``fraction`` — a share
0..1 written "70%" or "0.7" —, ``count`` or ``plain``); money is written in ``currency``, the forms of
one currency (see :func:`currency_forms`), a one-character form being a prefix symbol.
"""

from __future__ import annotations

import random

__all__ = ["CURRENCIES", "cmp_phrase", "currency_forms", "number_words", "say_number"]

_ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
_TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
# How a price in each currency unit a catalog may name is written; unknown units are written as named.
CURRENCIES: dict[str, tuple[str, ...]] = {
    "yuan": ("yuan", "¥", "RMB"), "rmb": ("yuan", "¥", "RMB"), "cny": ("yuan", "¥", "RMB"),
    "dollars": ("dollars", "$", "USD", "bucks"), "usd": ("dollars", "$", "USD"),
    "pounds": ("pounds", "£", "GBP", "quid"), "gbp": ("pounds", "£", "GBP"),
    "euros": ("euros", "€", "EUR"), "eur": ("euros", "€", "EUR"),
    "yen": ("yen", "¥", "JPY"), "rupees": ("rupees", "INR"),
}
_YUAN = CURRENCIES["yuan"]


def currency_forms(unit: str | None) -> tuple[str, ...] | None:
    """The written forms of a catalog ``unit`` when it is a currency, else None."""
    return CURRENCIES.get((unit or "").lower())


_DAY_WORDS = {7: ("a week", "one week"), 14: ("two weeks",), 30: ("a month", "one month"), 60: ("two months",),
              90: ("three months",), 180: ("six months", "half a year"), 365: ("a year", "one year")}


def number_words(n: int) -> str:
    """0 ≤ n < 1000 in English words ("twenty-five", "one hundred and five")."""
    if n < 20:
        return _ONES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return _TENS[tens] + (f"-{_ONES[ones]}" if ones else "")
    hundreds, rest = divmod(n, 100)
    return f"{_ONES[hundreds]} hundred" + (f" and {number_words(rest)}" if rest else "")


def _digits(x: float) -> str:
    return str(int(x)) if x == int(x) else repr(x)


def say_number(x: float, unit: str, rng: random.Random, *, bare: bool = False, style: str = "",
               currency: tuple[str, ...] = _YUAN) -> str:
    """One surface form of ``x`` in ``unit`` (a style, see above); ``bare`` leaves the unit off (for
    templates that spell it); ``style`` fixes the currency form."""
    if unit == "fraction":
        if bare or rng.random() < 0.5:
            return _digits(x)
        pct = int(round(x * 100))
        return rng.choice((f"{pct}%", f"{pct} percent"))
    if unit == "money":
        n = int(x)
        text = rng.choice((str(n), f"{n:,}", f"{n // 1000}k" if 1000 <= n < 1_000_000 and n % 1000 == 0
                           else f"{n:,}"))
        if bare:
            return text
        style = style or rng.choice(currency)
        return f"{style}{text}" if len(style) == 1 else f"{text} {style}"
    if unit == "percent":
        text = _digits(x)
        return text if bare else rng.choice((f"{text}%", f"{text}%", f"{text} percent"))
    n = int(x)
    if unit == "days" and not bare and n in _DAY_WORDS and rng.random() < 0.4:
        return rng.choice(_DAY_WORDS[n])
    text = number_words(n) if x == n and 0 <= n < 100 and rng.random() < 0.2 else _digits(x)
    if unit in ("days", "years") and not bare:
        one = unit[:-1]
        return f"{text} {one}" if n == 1 else f"{text} {unit}"
    return text


_FORMS = {
    "Greater Than": ("more than {x}", "over {x}", "above {x}", "greater than {x}"),
    "Greater Than Or Equal To": ("at least {x}", "{x} or more", "no less than {x}", "a minimum of {x}"),
    "Less Than": ("less than {x}", "under {x}", "below {x}"),
    "Less Than Or Equal To": ("at most {x}", "{x} or less", "no more than {x}", "up to {x}"),
    "Equal To": ("exactly {x}", "{x}"),
    "Not Equal To": ("other than {x}", "anything but {x}"),
}


def cmp_phrase(op: str, values: list[float], unit: str, rng: random.Random,
               currency: tuple[str, ...] = _YUAN) -> str:
    """A comparison with its unit: "more than 500 yuan", "between 25 and 35", "a month or more"."""
    style = rng.choice(currency) if unit == "money" else ""
    if op == "Between":
        lo, hi = values
        form = rng.choice(("between {lo} and {hi}", "{lo} to {hi}", "from {lo} to {hi}", "{lo}-{hi}"))
        if form == "{lo}-{hi}" and unit in ("days", "years"):  # "7-14 days", not "7-two weeks"
            return f"{_digits(lo)}-{_digits(hi)} {unit}"
        if form == "{lo}-{hi}" or unit == "fraction":
            return form.format(lo=_digits(lo), hi=say_number(hi, unit if unit != "fraction" else "", rng,
                                                             style=style, currency=currency))
        prefix_unit = unit == "money" and len(style) == 1
        lo_text = (say_number(lo, unit, rng, style=style, currency=currency) if prefix_unit
                   else say_number(lo, unit, rng, bare=True, currency=currency))
        if unit == "days" and lo_text in ("a", "one"):
            lo_text = "1"
        if unit in ("days", "years"):
            return form.format(lo=lo_text, hi=f"{_digits(hi)} {unit}")
        return form.format(lo=lo_text, hi=say_number(hi, unit, rng, style=style, currency=currency))
    form = rng.choice(_FORMS[op])
    if unit == "count" and op == "Less Than" and "fewer" not in form and rng.random() < 0.5:
        form = "fewer than {x}"
    return form.format(x=say_number(values[0], unit, rng, style=style, currency=currency))
