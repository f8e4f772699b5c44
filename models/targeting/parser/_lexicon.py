"""Surface words → catalog keys and values: the catalog's own names, values and aliases, plus a small
hand-written synonym table for the demo catalog (marketers say "moms", not ``has_children``).

Every entry is a regular expression over number-normalised, lower-case text. A feature missing from
the table still links through its name, its aliases and its allowed values, so other catalogs work
(with fewer synonyms), and the sentence-embedding fallback proposes keys for the rest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from features.catalog import Catalog, DType

__all__ = ["Lexicon", "ValueCue", "KeyCue", "lexicon_for"]

# key → regexes that name the key (no value).
_KEY_CUES: dict[str, list[str]] = {
    "age": [r"ages?d?", r"years? old", r"year-olds?", r"yrs? old", r"older than", r"younger than", r"older",
            r"younger", r"\bold\b", r"\byo\b"],
    "city": [r"liv(?:e|es|ing) in", r"located in", r"based in", r"residents? of", r"\bcity\b"],
    "city_tier": [r"tier", r"city tier"],
    "member_level": [r"members?hip(?: level)?", r"member level", r"loyalty level", r"vip level", r"members?"],
    "registration_days": [r"regist(?:ered|ration)", r"signed up", r"sign(?:ed)?-?up", r"joined", r"account age",
                          r"accounts? (?:older|younger|newer|created)", r"been (?:a )?(?:customer|member)s?",
                          r"customers? for", r"members? for", r"tenure",
                          r"days? old", r"accounts? (?:is |are |was )?(?:older|younger|newer)"],
    "device_os": [r"device", r"operating system", r"\bos\b", r"phones?"],
    "is_new_user": [r"new (?:users?|customers?|members?|sign-?ups?|accounts?|buyers?|shoppers?)", r"newcomers?",
                    r"newly registered", r"first-time (?:users?|customers?)",
                    r"existing (?:users?|customers?|clients?|shoppers?|members?)"],
    "marital_status": [r"marital status", r"marriage"],
    "has_children": [r"kids?", r"child(?:ren)?", r"parents?", r"mom(?:s|mies)?", r"mums?", r"mothers?",
                     r"fathers?", r"dads?", r"childless", r"famil(?:y|ies) with", r"babies"],
    "occupation": [r"occupations?", r"jobs?", r"works? as", r"professions?"],
    "income_level": [r"income", r"earners?", r"earning", r"salar(?:y|ies)", r"wealthy", r"affluent"],
    "education": [r"education", r"degrees?", r"graduates?", r"studied"],
    "orders_30d": [r"orders?", r"ordered", r"placed"],
    "gmv_30d": [r"spen[dt]", r"spending", r"spenders?", r"gmv", r"revenue"],
    "gmv_180d": [r"half-?year spend", r"spent in 6 months"],
    "last_purchase_days": [r"last (?:purchase|order|bought|buy)", r"most recent (?:purchase|order)",
                           r"since (?:their|the)? ?last (?:purchase|order)", r"lapsed", r"purchased? anything",
                           r"bought anything", r"made a purchase", r"shopped", r"(?:no|any|a) purchases?"],
    "purchased_categories_90d": [r"bought", r"buy(?:ers|ing|s)?", r"purchas(?:ed|ers?|es|ing)", r"shopped (?:for)?",
                                 r"ordered"],
    "favorite_category": [r"favou?rite(?: category)?", r"favs?(?: category)?", r"mostly buys?", r"prefers? buying", r"top category",
                          r"main category", r"most bought"],
    "coupon_used_90d": [r"coupons?", r"vouchers?"],
    "app_active_days_30d": [r"active days", r"days active", r"active on", r"active for", r"opened the app on",
                            r"(?:an? )?(?:app )?sessions? on",
                            r"active"],
    "push_enabled": [r"push notifications?", r"push[- ](?:enabled|on|turned on|switched on|allowed)", r"notifications?",
                     r"push (?:is )?(?:switched|turned) on", r"(?:enabled|allowed|allow|turned on|switched on) push"],
    "cart_items": [r"carts?", r"basket items", r"items in (?:their|the) (?:cart|basket)"],
    "page_views_7d": [r"page ?views?", r"pvs?", r"viewed", r"pages?", r"browsed", r"product views?"],
    "avg_order_value": [r"average order(?: value)?", r"aov", r"basket size", r"per order", r"order value",
                        r"average (?:basket|ticket|spend per order)"],
    "refund_count_90d": [r"refunds?", r"refunded", r"returns", r"returned"],
    "sessions_7d": [r"sessions?", r"visits?", r"visited"],
    "last_login_days": [r"log(?:ged)? ?in", r"login", r"logged on", r"last seen", r"inactive", r"dormant",
                        r"signed in", r"opened the app", r"been away", r"seen"],
    "has_credit_card_bound": [r"credit cards?", r"cards? bound", r"bound (?:a )?cards?", r"linked (?:a )?cards?"],
    "balance": [r"balance", r"wallet"],
    "credit_score": [r"credit score", r"credit rating", r"creditworth(?:y|iness)", r"credit"],
    "has_loan": [r"loans?", r"borrowers?", r"borrowing", r"debt"],
    "wealth_product_holder": [r"wealth(?:-| )(?:management|mgmt)", r"wealth products?", r"investors?", r"invest(?:ment|s|ing)?",
                              r"funds?"],
    "installment_used_90d": [r"install?ments?", r"pay[- ]later", r"bnpl"],
    "insurance_holder": [r"insurance", r"insured", r"polic(?:y|ies)"],
    "interests": [r"interest(?:ed)? in", r"interests?", r"likes?", r"lov(?:e|es|ers?)", r"fans? of", r"fans?",
                  r"enthusiasts?", r"into", r"hobb(?:y|ies)", r"passion(?:ate)?", r"keen on", r"enjoys?"],
    "preferred_channel": [r"channel", r"reach(?:ed|able)? (?:by|via|through)", r"prefers?", r"respond(?:s)? to",
                          r"contact(?:ed)? (?:by|via)", r"via", r"through"],
    "price_sensitivity": [r"price[- ]sensitiv(?:e|ity)", r"sensitiv(?:e|ity) to price", r"price"],
    "churn_risk": [r"churn(?:ing)?(?: risk| probability)?", r"risk of (?:churn|leaving)", r"likely to leave"],
    "live_stream_views_30d": [r"live[- ]?streams?", r"live[- ]?streaming", r"watched live", r"live shows?"],
    "reviews_written_90d": [r"reviews?", r"reviewers?", r"reviewed", r"ratings? written"],
    "search_count_7d": [r"search(?:es|ed)?", r"searching", r"queries"],
}

# (key, value) → regexes that name this value (the value word itself is always added).
_VALUE_CUES: dict[tuple[str, str], list[str]] = {
    ("gender", "female"): [r"wom[ae]n", r"females?", r"lad(?:y|ies)", r"girls?", r"mothers?", r"moms?", r"mums?",
                           r"she", r"her"],
    ("gender", "male"): [r"m[ae]n", r"males?", r"guys?", r"gentlemen", r"boys?", r"fathers?", r"dads?"],
    ("city_tier", "1"): [r"first[- ]tier", r"tier[- ]?1", r"tier[- ]one", r"top[- ]tier", r"1st[- ]tier",
                         r"big cit(?:y|ies)", r"major cit(?:y|ies)"],
    ("city_tier", "2"): [r"second[- ]tier", r"tier[- ]?2", r"2nd[- ]tier"],
    ("city_tier", "3"): [r"third[- ]tier", r"tier[- ]?3", r"3rd[- ]tier"],
    ("city_tier", "4"): [r"fourth[- ]tier", r"tier[- ]?4", r"4th[- ]tier"],
    ("device_os", "ios"): [r"iphones?", r"ios", r"apple"],
    ("device_os", "android"): [r"android"],
    ("device_os", "harmonyos"): [r"harmony ?os", r"harmony", r"huawei"],
    ("occupation", "student"): [r"students?", r"college kids", r"undergrads?"],
    ("occupation", "office_worker"): [r"office[- ]workers?", r"white[- ]collar(?: workers?)?", r"office staff",
                                      r"office employees?"],
    ("occupation", "freelancer"): [r"freelanc(?:ers?|ing)", r"self-employed"],
    ("occupation", "business_owner"): [r"business[- ]owners?", r"entrepreneurs?", r"own a business",
                                       r"shop owners?"],
    ("occupation", "retired"): [r"retired", r"retirees?", r"pensioners?"],
    ("occupation", "civil_servant"): [r"civil[- ]servants?", r"government (?:employees?|workers?|staff)"],
    ("occupation", "teacher"): [r"teachers?", r"educators?"],
    ("occupation", "engineer"): [r"engineers?", r"developers?", r"programmers?"],
    ("marital_status", "single"): [r"singles?", r"unmarried"],
    ("marital_status", "married"): [r"married", r"spouses?", r"husbands?", r"wives", r"wife"],
    ("marital_status", "divorced"): [r"divorced", r"divorcees?"],
    ("income_level", "high"): [r"high[- ]income", r"high earners?", r"wealthy", r"affluent", r"rich",
                               r"high salar(?:y|ies)", r"well[- ]off", r"top earners?"],
    ("income_level", "medium"): [r"(?:medium|middle|mid|moderate)[- ]income", r"middle[- ]class",
                                 r"average income", r"medium earners?"],
    ("income_level", "low"): [r"low[- ]income", r"low earners?", r"low salar(?:y|ies)"],
    ("education", "high_school"): [r"high[- ]school"],
    ("education", "bachelor"): [r"bachelor'?s?(?: degrees?)?", r"college (?:degree|graduates?)",
                                r"undergraduate degrees?", r"university degrees?"],
    ("education", "master"): [r"master'?s?(?: degrees?)?", r"mba", r"postgraduates?"],
    ("education", "doctorate"): [r"doctorates?", r"phds?", r"doctoral", r"ph\.d\.?"],
    ("price_sensitivity", "high"): [r"bargain hunters?", r"deal seekers?", r"deal hunters?", r"coupon clippers?",
                                    r"very price[- ]sensitive", r"highly price[- ]sensitive", r"price[- ]sensitive",
                                    r"high price sensitivity", r"thrifty", r"frugal"],
    ("price_sensitivity", "low"): [r"low price sensitivity", r"not price[- ]sensitive", r"price[- ]insensitive",
                                   r"premium (?:buyers|shoppers)", r"big-ticket"],
    ("price_sensitivity", "medium"): [r"medium price sensitivity", r"moderate(?:ly)? price[- ]sensitiv(?:e|ity)"],
    ("preferred_channel", "sms"): [r"sms", r"text messages?", r"texts?"],
    ("preferred_channel", "email"): [r"e-?mails?"],
    ("preferred_channel", "in_app"): [r"in[- ]app(?: messages?)?"],
    ("preferred_channel", "push"): [r"push(?: messages?)?"],
    ("interests", "gaming"): [r"gam(?:ing|ers?|es)", r"video games?"],
    ("interests", "cooking"): [r"cook(?:ing|s)?", r"home cooks?", r"foodies?", r"chefs?"],
    ("interests", "fitness"): [r"fitness", r"gym(?:-goers)?", r"workouts?", r"exercis(?:e|ing)"],
    ("interests", "reading"): [r"reading", r"readers?", r"bookworms?"],
    ("interests", "photography"): [r"photography", r"photographers?"],
    ("interests", "music"): [r"music(?: lovers?)?"],
    ("interests", "parenting"): [r"parenting"],
    ("interests", "finance"): [r"finance", r"financial"],
    ("interests", "tech"): [r"tech(?:nology)?"],
    ("interests", "fashion"): [r"fashion(?:istas?)?"],
    ("interests", "outdoors"): [r"outdoors", r"hiking", r"camping"],
    ("interests", "travel"): [r"travel(?:l?ers?|l?ing)?"],
    ("interests", "movies"): [r"movies?", r"films?", r"cinema"],
    ("purchased_categories_90d", "baby"): [r"baby(?: products| goods| items| supplies)?", r"infant products?"],
    ("purchased_categories_90d", "electronics"): [r"electronics?", r"electronic (?:goods|products)"],
    ("purchased_categories_90d", "digital"): [r"digital(?: products| goods)?"],
    ("purchased_categories_90d", "jewelry"): [r"jewell?e?ry"],
    ("purchased_categories_90d", "shoes"): [r"shoes?", r"sneakers?", r"footwear"],
    ("purchased_categories_90d", "clothing"): [r"cloth(?:ing|es)", r"apparel"],
    ("purchased_categories_90d", "sports"): [r"sports?(?:wear| gear| goods| equipment)?", r"sporting goods"],
    ("purchased_categories_90d", "pets"): [r"pets?(?: supplies| products| food)?"],
    ("purchased_categories_90d", "toys"): [r"toys?"],
    ("purchased_categories_90d", "food"): [r"food", r"groceries", r"snacks?"],
    ("purchased_categories_90d", "home"): [r"home(?: goods| products|ware)?", r"household(?: goods| items)?",
                                           r"furniture"],
    ("purchased_categories_90d", "beauty"): [r"beauty(?: products)?", r"cosmetics?", r"make-?up", r"skincare"],
    ("purchased_categories_90d", "health"): [r"health(?: products)?", r"supplements?", r"vitamins?"],
    ("purchased_categories_90d", "books"): [r"books?"],
}

# Category words that are the same in several features: which feature a bare word means.
_SHARED_VALUE_FEATURES = ("purchased_categories_90d", "favorite_category", "interests")


@dataclass(frozen=True, slots=True)
class ValueCue:
    key: str
    value: str
    pattern: re.Pattern[str]


@dataclass(frozen=True, slots=True)
class KeyCue:
    key: str
    pattern: re.Pattern[str]


@dataclass(frozen=True, slots=True)
class Lexicon:
    """Compiled cue patterns for one catalog."""

    key_cues: tuple[KeyCue, ...]
    value_cues: tuple[ValueCue, ...]


def _rx(alternatives: list[str]) -> re.Pattern[str]:
    alts = sorted(set(alternatives), key=len, reverse=True)
    return re.compile(r"(?<![a-z0-9_])(?:" + "|".join(alts) + r")(?![a-z0-9_])")


_CACHE: dict[tuple[int, str], tuple[Catalog, Lexicon]] = {}


def lexicon_for(catalog: Catalog, entity: str = "user") -> Lexicon:
    hit = _CACHE.get((id(catalog), entity))
    if hit is not None and hit[0] is catalog:
        return hit[1]
    lex = _build(catalog, entity)
    _CACHE[(id(catalog), entity)] = (catalog, lex)
    return lex


def _build(catalog: Catalog, entity: str) -> Lexicon:
    features = {f.name: f for f in catalog.features_of(entity)}
    key_cues: list[KeyCue] = []
    for name, f in features.items():
        words = [re.escape(name.replace("_", " ")), re.escape(name)]
        words += [re.escape(a.lower()) for a in f.aliases if f.dtype != DType.CATEGORY or a.lower() not in
                  {v.lower() for v in f.values or ()}]
        words += _KEY_CUES.get(name, [])
        key_cues.append(KeyCue(name, _rx(words)))
    value_cues: list[ValueCue] = []
    for name, f in features.items():
        if f.dtype not in (DType.CATEGORY, DType.STRING_SET):
            continue
        for v in f.values or ():
            words = [re.escape(v.lower()), re.escape(v.lower().replace("_", " "))]
            extra = _VALUE_CUES.get((name, v))
            if extra is None and name in _SHARED_VALUE_FEATURES:
                extra = _VALUE_CUES.get(("purchased_categories_90d", v)) or _VALUE_CUES.get(("interests", v))
            if extra is None and name == "interests":
                extra = _VALUE_CUES.get(("purchased_categories_90d", v))
            words += extra or []
            value_cues.append(ValueCue(name, v, _rx(words)))
    for (name, v), words in _VALUE_CUES.items():  # int-coded values such as city tiers
        if name in features and features[name].dtype == DType.INT:
            value_cues.append(ValueCue(name, v, _rx(words)))
    return Lexicon(tuple(key_cues), tuple(value_cues))
