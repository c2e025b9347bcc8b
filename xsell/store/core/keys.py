"""Redis key layout, designed for Redis Cluster.

Every key carries a hash tag so that the keys one Lua script touches share a slot:

========================  ====================================  ===============================
key                       type                                  what
========================  ====================================  ===============================
NS:{i:ITEM}:p             zset  partner -> weight               co-purchase weight (decayed)
NS:{i:ITEM}:c             zset  partner -> weight               add-to-cart co-add weight
NS:{i:ITEM}:v             zset  partner -> count                co-view count (views.py)
NS:{i:ITEM}:h             hash  L                               forward-decay landmark of p, c
NS:{i:ITEM}:m             zset  marker -> until ms              pair guards (Cluster only)
NS:{i:ITEM}:f, :fr        zset  later item -> weight            followed-by: first buys, rebuys
NS:{i:ITEM}:fh            hash  L, B, R, S                      landmark; buy-again counts
NS:{g}:pop                zset  item -> weight                  decayed order count per item
NS:{g}:meta               hash  N, L, created, version          decayed order total, landmark
NS:{g}:cat                hash  item -> JSON                    catalogue (category, price ...)
NS:{g}:m                  zset  marker -> until ms              popularity guards
NS:{g}:mp                 zset  marker -> until ms              pair guards (single Redis)
NS:{g}:pos                hash  source -> offset                inputs applied up to (positions)
NS:{k}:CAT:x              zset  item -> weight                  orders with CAT and the item
NS:{k}:CAT:h              hash  L, N                            landmark, orders with CAT
NS:{k}:m                  zset  marker -> until ms              category guards
NS:{u:USER}:cart          hash  item -> "ts|event_id"           the user's cart (TTL)
NS:{u:USER}:hist          hash  item -> last purchase ts        the user's purchases
NS:{u:USER}:fw            zset  item -> last purchase ts        followed-by window (TTL)
NS:{u:USER}:fm            hash  marker -> JSON                  followed-by answers until commit
NS:{u:USER}:view          zset  item -> last view ts            recently viewed (TTL, views.py)
NS:{u:USER}:seg           hash  o, s, b, a:NAME                 segment: orders, spend, bucket
NS:{u:USER}:m             zset  marker -> until ms              segment guards (the user's)
NS:{g}:spend              hash  bucket -> shoppers              spend histogram (segments)
NS:{g}:ms                 zset  marker -> until ms              its moves' guards (Cluster only)
NS:{u:USER}:sug           hash  placement -> message JSON       latest suggestions (TTL)
NS:{u:USER}:tune          string JSON lists                     self-tuning: last top k (TTL)
NS:{g}:tune               hash  cases, h0.., choice             self-tuning: decayed hits
NS:{u:USER}:tunef         string JSON lists, opened ts          followed-by weight: open case
NS:{g}:tunef              hash  cases, h0.., choice             followed-by weight: hits
NS:{u:USER}:tuner         string JSON lists                     buy-again places: open cases
NS:{g}:tuner              hash  cases, h0.., choice             buy-again places: hits
NS:{u:USER}:att, :atz     hash, zset                            attribution ledger (TTL)
NS:{r:DAY}:c, :u, :m      hash, hash, zset                      a day's counters, revenue rows
NS:{t:MINUTE}             hash  figure -> value                 worker figures (dashboard)
NS:{e:S:EVENT}            string                                event applied (dedup horizon)
NS:{a:...}                string                                API access (access/store.py, TTL)
NS:{x:...}                hash, string                          connectors (connect/store.py)
NS:{s:rules}:all, :v      hash, string                          merchant rules, their version
========================  ====================================  ===============================

Ids are embedded with ``%``-escaping of ``%``, ``{`` and ``}``, so an id can never move a key to
another slot or collide with another id's keys; ``:`` and ``*`` are harmless inside a key.
"""

from __future__ import annotations

import enum
import functools
from dataclasses import dataclass


class Stream(enum.StrEnum):
    """Which input an event came from, as written into done keys (``{e:S:EVENT}``), dedup
    markers and suggestion ids. One letter each, since every event's keys carry it; the values
    are persisted, so they never change."""

    CART = "c"
    CATALOG = "k"
    ORDERS = "o"
    FEEDBACK = "f"


class Signal(enum.StrEnum):
    """The co-occurrence signals of an item (the suffix of its pair zset)."""

    PURCHASE = "p"  # bought in one order
    CO_ADD = "c"  # added to one cart
    CO_VIEW = "v"  # viewed by one user within the co-view window (xsell/store/core/views.py)


def escape(ident: str) -> str:
    """Make an id safe inside a hash tag (injective: ``%`` is escaped first)."""
    return ident.replace("%", "%25").replace("{", "%7B").replace("}", "%7D")


@dataclass(frozen=True, slots=True)
class ItemKeys:
    pairs: str
    cart_pairs: str
    info: str
    markers: str
    view_pairs: str
    followed: str  # later first-time purchases of the item's buyers (followed-by)
    rebuys: str  # later purchases of items the buyer had bought before
    followed_info: str  # the landmark of followed and rebuys

    def for_follow(self, first: bool) -> list[str]:
        """KEYS of APPLY_PAIRS for one followed-by target: incremented zset, sibling, hash."""
        if first:
            return [self.followed, self.rebuys, self.followed_info]
        return [self.rebuys, self.followed, self.followed_info]

    def for_signal(self, signal: Signal) -> list[str]:
        """KEYS of APPLY_PAIRS for one target: incremented zset first, its sibling, the hash.
        Co-view counts do not decay (their calls pass half-life 0), so nothing ever rescales
        them and they need no sibling: the zset stands in for its own."""
        if signal == Signal.PURCHASE:
            return [self.pairs, self.cart_pairs, self.info]
        if signal == Signal.CO_VIEW:
            return [self.view_pairs, self.view_pairs, self.info]
        return [self.cart_pairs, self.pairs, self.info]


@functools.lru_cache(maxsize=1 << 16)
def _item_keys(ns: str, item_id: str) -> ItemKeys:
    """An item's keys; cached, since a worker builds the same hot items' keys for every event
    (~18 per add-to-cart: its cart's partners, its anchors)."""
    base = f"{ns}:{{i:{escape(item_id)}}}"
    return ItemKeys(
        *(f"{base}:p", f"{base}:c", f"{base}:h", f"{base}:m", f"{base}:v"),
        *(f"{base}:f", f"{base}:fr", f"{base}:fh"),
    )


# what the worker published and measured, not what it learned: the latest suggestions
# (latest.py), the attribution ledgers and the report's days (attribution.py), the minutes'
# figures (figures.py). History loading (backfill, rebuild) writes none of them.
OUTPUT_SUFFIXES = (":sug", ":att", ":atz", ":tune", ":tunef")
# and the API's access keys (xsell/store/access), the connectors' memory (xsell/store/connect)
# and the merchant rules (xsell/store/rules): configuration, not learned
OUTPUT_TAGS = (":{r:", ":{t:", ":{a:", ":{x:", ":{s:")


# the notification scheduler's keys (notify_keys.py): schedule, profiles, caps, no learned value
NOTIFY_SHARD_SUFFIXES = (":nq", ":nj", ":nt", ":nm", ":nc", ":nu", ":nf", ":ns")
NOTIFY_USER_SUFFIXES = (":np", ":nh", ":nr", ":nl")


# idempotency bookkeeping: guard markers and input positions (guards.py), the followed-by
# answers of uncommitted batches (follow_lua.py)
BOOKKEEPING_SUFFIXES = (":m", ":mp", ":ms", ":pos", ":fm")


def is_bookkeeping(key: str) -> bool:
    """True for guard marker zsets, positions and done keys: how exactly-once is kept, not
    what was learned."""
    return key.endswith(BOOKKEEPING_SUFFIXES) or ":{e:" in key


def is_output(key: str) -> bool:
    """True for a key of outputs, measurements and notification state, which state
    comparisons leave out: they carry wall-clock times and no learned value."""
    return key.endswith(OUTPUT_SUFFIXES + NOTIFY_SHARD_SUFFIXES + NOTIFY_USER_SUFFIXES) or any(
        tag in key for tag in OUTPUT_TAGS
    )


@dataclass(frozen=True, slots=True)
class CategoryKeys:
    """One category's keys (every category shares the slot ``{k}``, so an order's categories
    are one script call, on a cluster too)."""

    items: str
    info: str

    def all(self) -> list[str]:
        return [self.items, self.info]


@dataclass(frozen=True, slots=True)
class Keys:
    """Builds every key name of one namespace."""

    ns: str = "xs"

    def item(self, item_id: str) -> ItemKeys:
        return _item_keys(self.ns, item_id)

    @property
    def popularity(self) -> str:
        return f"{self.ns}:{{g}}:pop"

    @property
    def meta(self) -> str:
        return f"{self.ns}:{{g}}:meta"

    @property
    def catalog(self) -> str:
        return f"{self.ns}:{{g}}:cat"

    @property
    def global_markers(self) -> str:
        return f"{self.ns}:{{g}}:m"

    @property
    def pair_guards(self) -> str:
        """Single Redis: the guard markers of pair scripts (a cluster keeps them per item)."""
        return f"{self.ns}:{{g}}:mp"

    @property
    def positions(self) -> str:
        """Input source (``topic:partition``, ``load:DIGEST``) -> last offset applied."""
        return f"{self.ns}:{{g}}:pos"

    def category(self, category: str) -> CategoryKeys:
        """A category's keys; the category sits after the tag, always followed by a
        one-letter suffix, so names stay distinct."""
        base = f"{self.ns}:{{k}}:{escape(category)}"
        return CategoryKeys(f"{base}:x", f"{base}:h")

    @property
    def category_markers(self) -> str:
        return f"{self.ns}:{{k}}:m"

    def cart(self, user_id: str) -> str:
        return f"{self.ns}:{{u:{escape(user_id)}}}:cart"

    def history(self, user_id: str) -> str:
        return f"{self.ns}:{{u:{escape(user_id)}}}:hist"

    def recent(self, user_id: str) -> str:
        """The user's followed-by window: item -> last purchase ts, kept for the window."""
        return f"{self.ns}:{{u:{escape(user_id)}}}:fw"

    def follow_memo(self, user_id: str) -> str:
        """The user's FOLLOW_USER answers of batches not yet committed (bookkeeping:
        xsell/store/core/follow_lua.py): marker -> answer, deleted by the commit."""
        return f"{self.ns}:{{u:{escape(user_id)}}}:fm"

    def views(self, user_id: str) -> str:
        """The user's recently viewed items: item -> its last view ts (views.py)."""
        return f"{self.ns}:{{u:{escape(user_id)}}}:view"

    def segment(self, user_id: str) -> str:
        """The user's segment counters and profile attributes (xsell/store/core/segments.py)."""
        return f"{self.ns}:{{u:{escape(user_id)}}}:seg"

    def user_markers(self, user_id: str) -> str:
        """The guard markers of the user's segment counters (bookkeeping: ``:m``)."""
        return f"{self.ns}:{{u:{escape(user_id)}}}:m"

    @property
    def spend_histogram(self) -> str:
        """Shoppers per total-spend bucket (models/segments.py), one count per shopper."""
        return f"{self.ns}:{{g}}:spend"

    @property
    def spend_markers(self) -> str:
        """Redis Cluster: the guard markers of the spend histogram's moves (a single Redis
        moves it inside the user's segment script, guarded by the user's markers)."""
        return f"{self.ns}:{{g}}:ms"

    def latest(self, user_id: str) -> str:
        return f"{self.ns}:{{u:{escape(user_id)}}}:sug"

    def tune_lists(self, user_id: str) -> str:
        return f"{self.ns}:{{u:{escape(user_id)}}}:tune"

    def tune_followed_lists(self, user_id: str) -> str:
        """The user's open test case of the followed-by weight (self-tuning)."""
        return f"{self.ns}:{{u:{escape(user_id)}}}:tunef"

    def tune_rebuy_lists(self, user_id: str) -> str:
        """The user's open test cases of the number of buy-again places (self-tuning)."""
        return f"{self.ns}:{{u:{escape(user_id)}}}:tuner"

    @property
    def rules(self) -> str:
        """The merchant rules: rule id -> JSON (xsell/store/rules)."""
        return f"{self.ns}:{{s:rules}}:all"

    @property
    def rules_version(self) -> str:
        """The merchant rules' version, bumped by every change (same slot as the rules)."""
        return f"{self.ns}:{{s:rules}}:v"

    @property
    def tuning(self) -> str:
        return f"{self.ns}:{{g}}:tune"

    @property
    def tuning_followed(self) -> str:
        """The followed-by weight's shared decayed hit counts and choice (self-tuning)."""
        return f"{self.ns}:{{g}}:tunef"

    @property
    def tuning_rebuys(self) -> str:
        """The number of buy-again places' shared decayed hit counts and choice."""
        return f"{self.ns}:{{g}}:tuner"

    def ledger(self, user_id: str) -> list[str]:
        """The user's attribution ledger: its hash and its ages zset (attribution_lua.py)."""
        base = f"{self.ns}:{{u:{escape(user_id)}}}"
        return [f"{base}:att", f"{base}:atz"]

    def day(self, day: int) -> list[str]:
        """A UTC day's aggregates: counters, per-user revenue, markers (COUNT's KEYS)."""
        base = f"{self.ns}:{{r:{day}}}"
        return [f"{base}:c", f"{base}:u", f"{base}:m"]

    def minute(self, minute: int) -> str:
        """The worker's figures of one wall-clock minute, for the dashboard."""
        return f"{self.ns}:{{t:{minute}}}"

    def done(self, stream: Stream, event_id: str) -> str:
        return f"{self.ns}:{{e:{stream}:{escape(event_id)}}}"

    def pattern(self) -> str:
        """SCAN pattern of every key of this namespace."""
        return f"{self.ns}:*"
