"""Demand text normalisation before linking: lower case, contractions, chat shorthand, numbers as digits.

Everything here rewrites surface forms into the few the linker reads ("w/o" → "without", "25–40" →
"25-40", "5 or more" → "at least 5", campaign names and ticket ids removed); nothing here decides
which feature a word means.
"""

from __future__ import annotations

import re

from models.targeting.parser._numbers import normalize_numbers

__all__ = ["AT_OR_ABOVE", "AT_OR_BELOW", "AT_OR_BETTER", "AT_OR_WORSE", "GROUP_CLOSE", "GROUP_OPEN", "NUM", "preprocess"]

_CONTRACTIONS = {"n't": " not", "'ve": " have", "'re": " are", "'m": " am", "'d": " had", "'ll": " will"}
NUM = r"(\d+(?:\.\d+)?)"
GROUP_OPEN, GROUP_CLOSE = "\u00ab", "\u00bb"  # « »: an explicitly bracketed group in the demand
AT_OR_ABOVE, AT_OR_BELOW = "orabove", "orbelow"  # "gold or above" → "gold orabove"
AT_OR_BETTER, AT_OR_WORSE = "orbetter", "orworse"  # which end is better depends on the feature (risk: the low one)


def preprocess(demand: str) -> str:
    """Lower-case, contractions expanded, numbers as digits, ranges protected from the 'and' split."""
    t = demand.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')
    # A bulleted or numbered list item is a clause of its own: a negation or a comparison must not leak into the
    # next item once line breaks fold into spaces.
    t = re.sub(r"(?m)^[ \t]*(?:[*\u2022\u00b7\u25aa\u2023-]|\d{1,2}[.)])[ \t]+", "; ", t)
    # "havent", "didnt", "arent": a negation typed without its apostrophe is still a negation
    t = re.sub(r"\b(have|has|had|do|does|did|is|are|was|were|could|should|would)nt\b", r"\1n't", t, flags=re.I)
    t = re.sub(r"\bcan't\b", "can not", t, flags=re.I)
    t = re.sub(r"\bwon't\b", "will not", t, flags=re.I)
    for short, long in _CONTRACTIONS.items():
        t = re.sub(re.escape(short) + r"\b", long, t, flags=re.I)
    # Ticket ids, emoji and chat shorthand: "[REQ-1193]", "ticket #MKT-4821", "w/o kids", "ios/android".
    t = re.sub(r"\[[A-Za-z]+[-\s]?\d+\]|#[A-Za-z]*-?\d+[\w-]*|\b(?:ticket|req|jira)\s*#?\s*[\w-]*\d[\w-]*", " ", t,
               flags=re.I)
    t = re.sub(r"\b[A-Z]{2,}-\d+\b", " ", t)  # "FIN-207": an id, upper case as written
    t = re.sub(r"[^\x00-\u2fff]", " ", t)  # emoji and pictographs
    t = re.sub(r"\bw/o\b", "without", t, flags=re.I)
    t = re.sub(r"\bw/", "with ", t, flags=re.I)
    t = re.sub(r"\by/o\b", "years old", t, flags=re.I)
    t = re.sub(r"(?<=[A-Za-z])/(?=[A-Za-z])", " or ", t)  # "ios/android": alternatives
    t = re.sub(r"\s/\s", ", ", t)  # "gmv >= 3k / platinum only": a separator
    t = re.sub(r"(?<=[A-Za-z])\+(?=[A-Za-z])", " and ", t)
    t = re.sub(r"(?<=[\dkK])\s*~\s*(?=\d)", " to ", t)
    t = re.sub(r"([<>]=?|=<|=>)(?=\d)", r"\1 ", t)
    t = re.sub(r"(?<=\d)\s*[–—]\s*(?=\d)", "-", t)  # "25–40" is a range, not a separator
    t = re.sub(r"\s-{2,}\s|\s-{2,}|-{2,}\s", " — ", t)
    t = re.sub(r"\bexcl\b\.?", "excluding", t, flags=re.I)  # "excl. chargebacks": the abbreviation
    t = re.sub(r"\beven once\b", " ", t, flags=re.I)
    t = re.sub(r"\b(?:anything|anyone|anybody) (?:but|other than|except)\b", "not", t, flags=re.I)
    t = re.sub(r"\b[lL](\d+)([dwmyDWMY])\b", lambda m: f"in the last {m.group(1)} " + {"d": "days", "w": "weeks", "m": "months",
               "y": "years"}[m.group(2).lower()], t)  # "L12M": the last 12 months
    t = re.sub(r"\b(\d+)(\+?)\s*(?:yrs?|yr)\b", r"\1\2 years", t, flags=re.I)
    # "under-35s", "over-60s": people of that age
    t = re.sub(r"\b(under|over)[- ](\d+)s\b", r"aged \1 \2", t, flags=re.I)
    t = re.sub(r"\b(\d+)\s*mos\b", r"\1 months", t, flags=re.I)
    t = re.sub(r"\b(\d+)\s*yo\b", r"\1 years old", t, flags=re.I)  # "30-45 yo"
    t = re.sub(r"\b(log(?:s|ged|ging)?|sign(?:s|ed|ing)?|check(?:s|ed|ing)?) into\b", r"\1 in to", t, flags=re.I)
    # "Customers already opted in to X are excluded.": an exclusion said after the group it excludes
    t = re.sub(r"(^|[.;:!?\n]\s*)([^.;:!?\n]+?)\s+(?:are|is|should be|must be|to be|will be|get|being)\s+"
               r"(?:excluded|removed|left out|filtered out|dropped)\b", r"\1excluding \2", t, flags=re.I)
    t = normalize_numbers(t)
    # "1 or 2 claims", "two or three times": two consecutive counts are a small range, not a list of values
    # (a level named by number, "tier 1 or 2", stays a list).
    t = re.sub(r"(?<!tier )(?<!level )(?<!grade )(?<!class )(?<![\d.])\b(\d+) or (\d+)\b(?!\.\d)(?= [a-z])",
               lambda m: f"{m.group(1)} to {m.group(2)}" if int(m.group(2)) == int(m.group(1)) + 1 else m.group(0), t)
    # "3+ times", "2+ years old": the plus is "at least" (before the unit, so the unit stays the number's)
    t = re.sub(r"(?<![\w.])(\d+(?:\.\d+)?)\+\s*(?=[a-z])", r"at least \1 ", t)
    # "in the next 30 days", "within the next two weeks": at most that many days ahead
    t = re.sub(r"\b(?:in|within|over) the (?:next|coming) (?=\d)", "within ", t)
    t = re.sub(r"-(and|or)-(above|below|up|higher|lower|better|worse|more|less)\b", r" \1 \2", t)
    # "churn > 0.8 or (last login > 30 days and push enabled)": a bracketed group of conditions keeps its
    # brackets as markers the clause splitter reads; any other bracket is just punctuation.
    t = re.sub(r"\(([^()]*\b(?:and|or)\b[^()]*)\)", rf" {GROUP_OPEN} \1 {GROUP_CLOSE} ", t)
    # "among first-tier residents, find those who are retired or over 65": the rest is one group within X.
    t = re.sub(r"^\s*(?:among|of|from)\s+([^,]+),\s*(?:please\s+)?(?:find|select|pick|get|show|give me|target)?\s*"
               r"(?:those|the ones|the users|users|people|customers|anyone)\s+(?:who|that|whose)\s+(.+?)[.\s]*$",
               rf"\1 and {GROUP_OPEN} \2 {GROUP_CLOSE}", t, flags=re.I)
    t = re.sub(r"[\"()\[\]!?]", " ", t)
    t = re.sub(rf"\bbetween {NUM}(\s*[a-z]*)\s+and\s+{NUM}", r"between \1\2 to \3", t)
    t = re.sub(rf"\b(?:at least|no less than|minimum(?: of)?) {NUM} and (?:at most|no more than|up to|maximum(?: of)?) "
               rf"{NUM}\b", r"between \1 to \2", t)
    # "55 or older": "older" and "younger" say the number is an age, which "at least 55" alone would lose.
    t = re.sub(rf"{NUM}\s+(?:or|and) (older|younger)\b(?!\s*(?:than|\d))",
               lambda m: f"aged {'at least' if m.group(2) == 'older' else 'at most'} {m.group(1)}", t)
    # "5 or more" must not split at its "or": say it the one-word way first.
    # ... also past a unit and its rate ("10000 steps a day or more", "1 time a week or less")
    per = r"(\s*[a-z]*?(?: (?:a|an|per|each) [a-z]+)?)"
    # ... and "30 days or longer", "a score of 90 or better" (a number, not a level: the bigger one is better)
    t = re.sub(rf"{NUM}{per}\s+(?:or|and) (?:more|above|over|older|higher|greater|up|longer|better)\b(?!\s*(?:than|\d))",
               r"at least \1\2", t)
    t = re.sub(rf"{NUM}{per}\s+(?:or|and) (?:less|fewer|under|below|younger|lower|shorter)\b(?!\s*(?:than|\d))",
               r"at most \1\2", t)
    # "under level 15", "over age 60": the comparison belongs to the number after the measure's name
    t = re.sub(r"\b(under|below|over|above|at least|at most) (level|lvl|age|rank) (?=\d)", r"\2 \1 ", t)
    # "gold or above", "premier tier and up", "gold+": a level and everything above it, one marker the
    # linker reads against an ordered feature (the "or" must not split the sentence)
    t = re.sub(r"(?<=[a-z])\+(?=\s|$|,)", f" {AT_OR_ABOVE}", t)
    t = re.sub(r"\b(?:or|and) better\b(?!\s*(?:than|\d))", AT_OR_BETTER, t)
    t = re.sub(r"\b(?:or|and) worse\b(?!\s*(?:than|\d))", AT_OR_WORSE, t)
    t = re.sub(r"\b(?:or|and) (?:above|higher|up|over|more senior)\b(?!\s*(?:than|\d))", AT_OR_ABOVE, t)
    t = re.sub(r"\b(?:or|and) (?:below|lower|under|less)\b(?!\s*(?:than|\d))", AT_OR_BELOW, t)
    t = re.sub(r"\b\d{1,2}(?::\d\d)?\s*(?:am|pm)\b", " ", t)  # a clock time ("between 11pm and 4am") is no threshold
    t = re.sub(r"\b(?:one|1) of (?=(?:our|the|their|your|its|these|those)\b)", "a ", t)  # "one of our cards": not a count
    t = re.sub(r"\b(?:either|neither)\b", lambda m: "not" if m.group(0) == "neither" else "", t)
    t = re.sub(r"\bnor\b", "and not", t)
    t = re.sub(r"\b(first|second|third|fourth|1st|2nd|3rd|4th)((?:,| or| and|, or|, and) )(?=(?:first|second|third|"
               r"fourth|1st|2nd|3rd|4th)[- ]tier)", r"\1 tier\2", t)
    t = re.sub(r"\btier (\d)((?:,| or| and) )(\d)\b", r"tier \1\2tier \3", t)
    t = re.sub(r"\bwithout\b", "with no", t)
    t = re.sub(r"\s+[&+]\s+", " and ", t)
    t = re.sub(r"\b(\d+)\s?d\b", r"\1 days", t)  # "30d", "in 7d"
    t = re.sub(r"\bmore (?:high|big|large|old)(?:er)? than\b", "more than", t)
    t = re.sub(r"\b(?:yrs?|years?)[- ]olds?\b", "years old", t)
    # "a single coupon" counts coupons; it is not the marital status.
    t = re.sub(r"\b(?:a|one|every) single\b", "a", t)
    # "no orders in 30 days": a bare "in N days" is a window, like "in the last N days".
    t = re.sub(r"\b(in|within) (\d+) (days?|weeks?|months?)\b", r"in the last \2 \3", t)
    # "silver members in wuhan, plus all diamond members": a second audience, a union.
    t = re.sub(r"\b(?:plus|as well as|and also|along with|together with|and) (?:all|every|any) (?=[a-z])", "or all ", t)
    t = re.sub(r"\b(?:non-?empty|not empty)\b", "filled", t)
    t = re.sub(r"\bnon-", "not ", t)
    # Campaign wording around the audience is not a condition ("... for a coupon push").
    t = re.sub(r"\b(?:for|in|via) (?:a|an|the|our|this|next) (?:next )?(?:coupon push|push campaign|campaign|promotion|"
               r"promo|mailing|coupon drop|test)\b", " ", t)
    # "for the Mother's Day push", "for the EV-charging coupon": what the audience is for, not who is in it.
    t = re.sub(r"\bfor (?:the|a|an|our|this|next|that) (?:[a-z0-9'.-]+ ){0,3}(?:push|campaign|promotion|promo|sale|"
               r"mailing|offer|coupon|voucher|drop|blast|newsletter|launch|line|collection)\b", " ", t)
    # "the age restriction on this insurance offer", "mid-month campaign:": names of the campaign, not of users.
    t = re.sub(r"\b(?:this|our|the|next|a|an) (?:[a-z0-9.-]+ ){0,2}(?:offer|campaign|promotion|promo|sale|mailing)\b"
               r"(?! ?(?:codes?|discounts?|prices?|pricing|rates?|credits?)\b)",
               " ", t)
    t = re.sub(r"^[^:]{0,40}\b(?:campaign|promo|promotion|sale|offer|brief|launch|push|drop|blast|segment|watchlist|list|"
               r"cohort|cross-sell|upsell|audience)\s*:", " ", t)
    # "Fiber cross-sell brief. Target: ...": the label ends with a full stop
    t = re.sub(r"^[^:.]{0,40}\b(?:cross-sell|upsell|win-?back|campaign|promo) brief\s*\.", " ", t)
    # "Referral push. Target ...", "Green energy campaign. Customers ...": a label sentence naming the campaign
    t = re.sub(r"^\s*(?:[a-z0-9'-]+ ){0,3}(?:campaign|promo|promotion|push|blast|drop|mailer|mailing|launch|upsell|"
               r"cross-sell|win-?back|nudge|brief)\s*\.\s", " ", t)
    # "— candidates for a Preferred upgrade": who the audience is for, not who is in it
    t = re.sub(r"(?:\s[—–-]\s*|,\s*|\b)(?:good |ideal |prime )?candidates? for (?:a|an|the|our) [^,;.]*", " ", t)
    t = re.sub(r"\bbelow or above\b", "not", t)
    t = re.sub(r"\blower[- ]tier cit", "tier 3 or tier 4 cit", t)
    t = re.sub(r"\b(?:second|2nd|tier[- ]?2)[- ]?(?:tier )?cit(?:y|ies) or (?:smaller|lower|below)", "tier 2 or tier 3 or tier 4 cities", t)
    t = re.sub(r"\b(?:third|3rd|tier[- ]?3)[- ]?(?:tier )?cit(?:y|ies) or (?:smaller|lower|below)", "tier 3 or tier 4 cities", t)
    t = re.sub(r"\b(\d+)-day (gmv|spend|spending)\b", r"\2 in the last \1 days", t)
    t = re.sub(r"\b(\d+)-day\b", " ", t)
    t = re.sub(r"\b(first|second|third)- or ", r"\1-tier or ", t)
    t = re.sub(r"\s+", " ", t)
    return t.strip()
