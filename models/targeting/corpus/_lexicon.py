"""How marketers phrase each demo-catalog condition: templates, value surface forms, head nouns.

Placeholders: ``{cmp}`` a rendered comparison with its unit ("more than 500 yuan"), ``{n}`` / ``{lo}``
/ ``{hi}`` bare numbers, ``{v}`` one value's surface form, ``{vs_or}`` / ``{vs_and}`` a list joined
with "or" / "and". A feature missing here is phrased generically from its description and aliases
(see ``_render``), so other catalogs still produce a corpus.

Conventions (one way to write each meaning, so exact match is learnable):
"used a coupon" is ``(coupon_used_90d#Greater Than#0)`` and "has not used a coupon" is
``NOT (coupon_used_90d#Greater Than#0)``; "in the last N days" is ``Less Than Or Equal To N``; "not in
the last N days" is ``Greater Than N``; negated booleans are ``Equal To false``; negated categories
use ``Not Equal To`` / ``Not Belongs To``; negated sets ``Contains None``; one set value uses
``Contains Any``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from models.targeting.logic import Op

__all__ = ["BOOLS", "CATEGORIES", "NUMBERS", "SETS", "SPECIALS", "BoolSpec", "CatSpec", "NumSpec", "SetSpec",
           "Special"]

G, GE, L, LE, B, EQ = (Op.GREATER_THAN, Op.GREATER_THAN_OR_EQUAL_TO, Op.LESS_THAN, Op.LESS_THAN_OR_EQUAL_TO,
                       Op.BETWEEN, Op.EQUAL_TO)


@dataclass(frozen=True)
class NumSpec:
    templates: tuple[str, ...]
    nice: tuple[float, ...]
    unit: str = ""  # "", "days", "money", "pct", "count"
    ops: tuple[Op, ...] = (G, GE, L, LE, B)
    extra: dict[Op, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class CatSpec:
    eq: tuple[str, ...]
    neq: tuple[str, ...] = ()
    surface: dict[str, tuple[str, ...]] = field(default_factory=dict)
    head: dict[str, tuple[str, ...]] = field(default_factory=dict)  # value → noun phrases ("women")
    head_list: tuple[str, ...] = ()  # noun templates for Belongs To ("{vs_or} members")
    ops: tuple[Op, ...] = (Op.EQUAL_TO, Op.NOT_EQUAL_TO, Op.BELONGS_TO, Op.NOT_BELONGS_TO)


@dataclass(frozen=True)
class SetSpec:
    any: tuple[str, ...]
    all: tuple[str, ...]
    none: tuple[str, ...]
    surface: dict[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class BoolSpec:
    pos: tuple[str, ...]
    neg: tuple[str, ...]
    head_pos: tuple[str, ...] = ()
    head_neg: tuple[str, ...] = ()


@dataclass(frozen=True)
class Special:
    """A fixed phrase meaning a fixed piece of logic (possibly under NOT)."""

    logic: str
    phrases: tuple[str, ...]
    heads: tuple[str, ...] = ()


_DAYS = (1, 3, 7, 14, 30, 60, 90, 180, 365)
_SMALL = (0, 1, 2, 3, 4, 5, 8, 10, 20)
_MONEY = (50, 100, 200, 300, 500, 800, 1000, 2000, 3000, 5000, 10000, 20000)

NUMBERS: dict[str, NumSpec] = {
    "age": NumSpec(("aged {cmp}", "whose age is {cmp}", "{cmp} years old", "{cmp} years of age"),
                   (18, 20, 22, 25, 28, 30, 35, 40, 45, 50, 55, 60, 65, 70), ops=(G, GE, L, LE, B, B, B),
                   extra={G: ("older than {n}",), L: ("younger than {n}",), GE: ("{n} and older", "{n}+"),
                          LE: ("{n} or younger",)}),
    "registration_days": NumSpec(("who registered {cmp} ago", "whose account is {cmp} old",
                                  "with an account age of {cmp}"), (7, 14, 30, 60, 90, 180, 365, 730, 1000),
                                 unit="days", ops=(G, L, GE, LE)),
    "orders_30d": NumSpec(("who placed {cmp} orders in the last 30 days", "with {cmp} orders in the past month",
                           "who ordered {cmp} times last month"), (1, 2, 3, 4, 5, 8, 10, 15, 20),
                          unit="count", ops=(G, GE, L, LE, B, EQ)),
    "gmv_30d": NumSpec(("who spent {cmp} in the last 30 days", "with 30-day GMV of {cmp}",
                        "whose spend last month was {cmp}"), _MONEY, unit="money", ops=(G, GE, L, LE, B)),
    "gmv_180d": NumSpec(("who spent {cmp} in the last 180 days", "with half-year spend of {cmp}",
                         "who spent {cmp} over the past six months"), (500, 1000, 2000, 5000, 10000, 20000, 50000),
                        unit="money", ops=(G, GE, L, LE, B)),
    "last_purchase_days": NumSpec(
        ("whose last purchase was {cmp} ago", "who last bought something {cmp} ago"), _DAYS, unit="days",
        ops=(G, G, LE, B), extra={G: ("who have not purchased in the last {n} days",
                                      "who haven't bought anything in the past {n} days"),
                                  LE: ("who purchased in the last {n} days",
                                       "who bought something within the past {n} days")}),
    "coupon_used_90d": NumSpec(("who used {cmp} coupons in the last 90 days", "who redeemed {cmp} coupons recently",
                                "with {cmp} coupon redemptions in the past 90 days"), _SMALL[1:],
                               unit="count", ops=(G, GE, L, LE, B, EQ)),
    "app_active_days_30d": NumSpec(("active on {cmp} days in the last 30 days",
                                    "who opened the app on {cmp} days last month",
                                    "with {cmp} active days in the past 30 days"), (1, 3, 5, 7, 10, 15, 20, 25),
                                   unit="count", ops=(G, GE, L, LE, B)),
    "cart_items": NumSpec(("with {cmp} items in their cart", "whose cart holds {cmp} items"), _SMALL[1:],
                          unit="count", ops=(G, GE, L, LE, B, EQ)),
    "page_views_7d": NumSpec(("with {cmp} page views in the last 7 days",
                              "who viewed {cmp} product pages this week"), (5, 10, 20, 30, 50, 100, 200),
                             unit="count"),
    "avg_order_value": NumSpec(("with an average order value of {cmp}", "whose average order is {cmp}",
                                "with an average basket size of {cmp}"), (50, 80, 100, 150, 200, 300, 500, 1000),
                               unit="money"),
    "refund_count_90d": NumSpec(("with {cmp} refunds in the last 90 days",
                                 "who requested {cmp} refunds in the past 90 days"), _SMALL[1:], unit="count",
                                ops=(G, GE, L, LE, EQ)),
    "sessions_7d": NumSpec(("with {cmp} sessions in the last 7 days", "who visited the app {cmp} times this week"),
                           (1, 2, 3, 5, 10, 20, 30), unit="count"),
    "last_login_days": NumSpec(("who last logged in {cmp} ago", "whose last login was {cmp} ago"), _DAYS,
                               unit="days", ops=(G, G, LE, B),
                               extra={G: ("who have not logged in for more than {n} days",
                                          "inactive for over {n} days", "dormant for more than {n} days"),
                                      LE: ("who logged in within the last {n} days",)}),
    "balance": NumSpec(("with a wallet balance of {cmp}", "whose balance is {cmp}", "holding {cmp} in their wallet"),
                       (100, 500, 1000, 2000, 5000, 10000, 50000, 100000), unit="money"),
    "credit_score": NumSpec(("with a credit score of {cmp}", "whose credit score is {cmp}",
                             "with a credit rating of {cmp}"), (500, 550, 600, 650, 700, 750, 800, 850)),
    "installment_used_90d": NumSpec(("who used installments {cmp} times in the last 90 days",
                                     "with {cmp} installment payments in the past 90 days"), _SMALL[1:],
                                    unit="count", ops=(G, GE, L, LE, EQ)),
    "churn_risk": NumSpec(("with a churn risk of {cmp}", "whose churn probability is {cmp}",
                           "with a predicted churn risk of {cmp}"), (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9),
                          unit="pct", ops=(G, GE, L, LE, B)),
    "live_stream_views_30d": NumSpec(("who watched {cmp} live streams in the last 30 days",
                                      "with {cmp} live-stream views last month"), (1, 2, 3, 5, 10, 20),
                                     unit="count"),
    "reviews_written_90d": NumSpec(("who wrote {cmp} reviews in the last 90 days",
                                    "with {cmp} reviews written in the past 90 days"), _SMALL[1:], unit="count",
                                   ops=(G, GE, L, LE, EQ)),
    "search_count_7d": NumSpec(("who searched {cmp} times in the last 7 days", "with {cmp} searches this week"),
                               (1, 3, 5, 10, 20, 50), unit="count"),
    "city_tier": NumSpec(("in cities of tier {cmp}", "whose city tier is {cmp}"), (1, 2, 3, 4), ops=(EQ, EQ, LE, B),
                         extra={EQ: ("in tier {n} cities", "in tier-{n} cities", "living in a tier {n} city")}),
}

_CATEGORY_WORDS = {
    "baby": ("baby products", "baby goods", "baby items"), "beauty": ("beauty products", "cosmetics", "beauty"),
    "books": ("books",), "clothing": ("clothing", "clothes", "apparel"), "digital": ("digital products", "digital goods"),
    "electronics": ("electronics", "electronic gadgets"), "food": ("food", "groceries"),
    "health": ("health products", "supplements"), "home": ("home goods", "household items"),
    "jewelry": ("jewelry", "jewellery"), "movies": ("movie tickets", "movies"), "outdoor": ("outdoor gear",),
    "pets": ("pet supplies", "pet products"), "shoes": ("shoes", "footwear"), "sports": ("sports goods", "sportswear"),
    "toys": ("toys",), "travel": ("travel products", "travel packages"),
}
_CITY_WORDS = {"xian": ("xi'an", "xian"), "chongqing": ("chongqing",), "harbin": ("harbin",)}

CATEGORIES: dict[str, CatSpec] = {
    "gender": CatSpec(eq=("who are {v}",), surface={"female": ("female", "women"), "male": ("male", "men")},
                      head={"female": ("women", "female users", "ladies", "female customers"),
                            "male": ("men", "male users", "male customers", "guys")}, ops=(Op.EQUAL_TO,)),
    "city": CatSpec(eq=("in {v}", "living in {v}", "based in {v}", "located in {v}", "from {v}", "who live in {v}"),
                    neq=("outside {v}", "not living in {v}", "who don't live in {v}"), surface=_CITY_WORDS),
    "member_level": CatSpec(eq=("at {v} membership level", "with {v} membership", "whose membership level is {v}"),
                            neq=("who are not {v} members", "below or above {v} membership"),
                            head={v: (f"{v} members", f"{v}-level members") for v in
                                  ("regular", "silver", "gold", "platinum", "diamond")},
                            head_list=("{vs_or} members",)),
    "device_os": CatSpec(eq=("on {v}", "using {v} phones", "whose phone runs {v}"), neq=("not on {v}",),
                         surface={"ios": ("iOS", "iPhone"), "android": ("Android",), "harmonyos": ("HarmonyOS",)},
                         head={"ios": ("iPhone users", "iOS users"), "android": ("Android users",),
                               "harmonyos": ("HarmonyOS users",)}),
    "marital_status": CatSpec(eq=("who are {v}",), neq=("who are not {v}",),
                              head={"single": ("single people", "singles"), "married": ("married people",
                                                                                        "married couples"),
                                    "divorced": ("divorced people",)}),
    "occupation": CatSpec(eq=("who work as {v}", "working as {v}", "whose job is {v}"), neq=("who are not {v}",),
                          surface={"student": ("students",), "office_worker": ("office workers", "white-collar workers"),
                                   "freelancer": ("freelancers",), "business_owner": ("business owners", "entrepreneurs"),
                                   "retired": ("retirees", "retired people"), "civil_servant": ("civil servants",),
                                   "teacher": ("teachers",), "engineer": ("engineers",)},
                          head={"student": ("students",), "office_worker": ("office workers",),
                                "freelancer": ("freelancers",), "business_owner": ("business owners",),
                                "retired": ("retirees",), "civil_servant": ("civil servants",),
                                "teacher": ("teachers",), "engineer": ("engineers",)},
                          head_list=("{vs_or}",)),
    "income_level": CatSpec(eq=("with {v} income", "whose income level is {v}", "in the {v} income band"),
                            neq=("whose income is not {v}",),
                            head={"high": ("high earners", "high-income users", "affluent customers"),
                                  "low": ("low-income users", "low earners"), "medium": ("middle-income users",)}),
    "education": CatSpec(eq=("with a {v} degree", "whose highest education is {v}", "educated to {v} level"),
                         neq=("without a {v} degree",),
                         surface={"high_school": ("high school",), "bachelor": ("bachelor's",), "master": ("master's",),
                                  "doctorate": ("doctorate", "PhD")}),
    "favorite_category": CatSpec(eq=("whose favourite category is {v}", "who mostly buy {v}",
                                     "whose top category is {v}"), neq=("whose favourite category is not {v}",),
                                 surface=_CATEGORY_WORDS),
    "preferred_channel": CatSpec(eq=("who prefer {v}", "best reached by {v}", "whose preferred channel is {v}"),
                                 neq=("who do not prefer {v}",),
                                 surface={"push": ("push notifications", "push"), "sms": ("SMS", "text messages"),
                                          "email": ("email",), "in_app": ("in-app messages",)}),
    "price_sensitivity": CatSpec(eq=("with {v} price sensitivity", "whose price sensitivity is {v}"),
                                 neq=("whose price sensitivity is not {v}",),
                                 head={"high": ("price-sensitive users", "bargain hunters", "deal seekers")}),
}

SETS: dict[str, SetSpec] = {
    "purchased_categories_90d": SetSpec(
        any=("who bought {vs_or} in the last 90 days", "who purchased {vs_or} recently",
             "who have bought {vs_or} in the past three months", "who shopped for {vs_or} in the last 90 days"),
        all=("who bought both {vs_and} in the last 90 days", "who purchased {vs_and} (all of them) recently"),
        none=("who have not bought {vs_or} in the last 90 days", "who did not purchase {vs_or} recently",
              "who never bought {vs_or} in the past 90 days"),
        surface=_CATEGORY_WORDS),
    "interests": SetSpec(
        any=("interested in {vs_or}", "who like {vs_or}", "with an interest in {vs_or}", "who are into {vs_or}"),
        all=("interested in both {vs_and}", "who like {vs_and} (all of them)"),
        none=("not interested in {vs_or}", "who don't care about {vs_or}", "with no interest in {vs_or}"),
        surface={"gaming": ("gaming", "video games"), "outdoors": ("the outdoors", "outdoor activities"),
                 "tech": ("tech", "technology"), "movies": ("movies", "films")}),
}

BOOLS: dict[str, BoolSpec] = {
    "is_new_user": BoolSpec(pos=("who registered in the last 30 days", "who are new users"),
                            neg=("who are not new users", "who registered more than 30 days ago"),
                            head_pos=("new users", "newcomers", "new customers"), head_neg=("existing customers",)),
    "has_children": BoolSpec(pos=("with children", "who have kids", "with kids"),
                             neg=("without children", "with no kids", "who have no children"),
                             head_pos=("parents",)),
    "push_enabled": BoolSpec(pos=("with push notifications enabled", "reachable by push", "who turned on notifications"),
                             neg=("with push notifications turned off", "who disabled push notifications")),
    "has_credit_card_bound": BoolSpec(pos=("with a credit card bound", "who have linked a credit card"),
                                      neg=("without a bound credit card", "who have not linked a credit card")),
    "has_loan": BoolSpec(pos=("with an active loan", "who have a loan"), neg=("without a loan", "with no active loans"),
                         head_pos=("borrowers",)),
    "wealth_product_holder": BoolSpec(pos=("holding wealth-management products", "who own a wealth product"),
                                      neg=("without wealth products", "who hold no wealth-management products"),
                                      head_pos=("investors",)),
    "insurance_holder": BoolSpec(pos=("with insurance", "who hold an insurance policy"),
                                 neg=("without insurance", "who hold no insurance policy"),
                                 head_pos=("insured customers",)),
}

SPECIALS: tuple[Special, ...] = (
    Special("(coupon_used_90d#Greater Than#0)", ("who used a coupon in the last 90 days", "who have redeemed coupons",
                                                 "who used coupons recently"), ("coupon users",)),
    Special("NOT (coupon_used_90d#Greater Than#0)", ("who have not used a coupon", "who never used coupons",
                                                     "who haven't redeemed any coupon in the last 90 days")),
    Special("(cart_items#Greater Than#0)", ("with items in their cart", "with a non-empty cart")),
    Special("NOT (cart_items#Greater Than#0)", ("with an empty cart", "with nothing in their cart")),
    Special("(orders_30d#Greater Than#0)", ("who ordered in the last 30 days", "who placed an order last month")),
    Special("NOT (orders_30d#Greater Than#0)", ("who placed no orders in the last 30 days",
                                                "who didn't order anything last month")),
    Special("(refund_count_90d#Greater Than#0)", ("who requested a refund in the last 90 days",)),
    Special("NOT (refund_count_90d#Greater Than#0)", ("with no refunds in the last 90 days",)),
    Special("(installment_used_90d#Greater Than#0)", ("who used installments recently",), ("pay-later users",)),
    Special("(live_stream_views_30d#Greater Than#0)", ("who watched live streams last month",),
            ("live-stream viewers",)),
    Special("NOT (live_stream_views_30d#Greater Than#0)", ("who never watch live streams",)),
    Special("(reviews_written_90d#Greater Than#0)", ("who wrote reviews in the last 90 days",), ("reviewers",)),
    Special("(city_tier#Equal To#1)", ("in first-tier cities", "in tier-1 cities", "living in first-tier cities")),
    Special("(city_tier#Equal To#2)", ("in second-tier cities", "in tier-2 cities")),
    Special("(city_tier#Less Than Or Equal To#2)", ("in first- or second-tier cities", "in tier 1 or tier 2 cities")),
    Special("(city_tier#Greater Than Or Equal To#3)", ("in third-tier cities or smaller", "in lower-tier cities")),
    Special("(city_tier#Not Equal To#1)", ("outside first-tier cities", "not in tier-1 cities")),
    Special("(age#Between#20,29)", ("in their twenties", "in their 20s")),
    Special("(age#Between#30,39)", ("in their thirties", "in their 30s")),
    Special("(age#Between#40,49)", ("in their forties", "in their 40s")),
    Special("(age#Between#50,59)", ("in their fifties", "in their 50s")),
    Special("(price_sensitivity#Equal To#high)", ("who are price-sensitive", "who hunt for bargains")),
)
