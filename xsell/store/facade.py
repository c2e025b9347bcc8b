"""The store as the rest of xsell sees it: one object with a room per feature.

``Store.open(settings)`` connects, loads every registered Lua script and gives:

- the core (inherited from :class:`~xsell.store.core.apply.EventStore`): ``apply`` events
  exactly once, the state's epoch, ``flush_namespace``;
- ``ranking``: the batch statistics and the candidates' details that ranking reads;
- ``bundles``: an anchor's partners and their pair weights, for bundles;
- ``shoppers``: carts and the state's clock, for ranking outside the worker;
- ``views``: items' co-view partners and users' recently viewed items;
- ``latest``: each user's latest suggestion;
- ``notifications``: the schedule, the users' policy state, the counters;
- ``attribution``: offers made, the report's days, the dashboard's minutes, batch outputs;
- ``privacy``: what is held about a user (``forget-user``, the connectors' data requests);
- ``connect``: what shop platforms' webhooks do not repeat (a cart's last version, a product's
  items);
- ``tuning``, ``followed_tuning``, ``rebuy_tuning``: self-tuning's open test cases and shared
  hit counts (the cart's, the followed-by weight's, the number of buy-again places');
- ``ops``: status, rebuild marks, inspection, scans and memory figures;
- ``access``: the API's dashboard sessions and its authentication and event counters;
- ``rules``: the merchant rules and their version.

Nothing outside ``xsell.store`` names a Redis key, a script, a pipeline or the runner: the rooms'
methods take and return domain values.
"""

from __future__ import annotations

from xsell.config.settings import Settings
from xsell.store.access.store import AccessStore
from xsell.store.attribution.store import AttributionStore
from xsell.store.backend.client import RedisClient
from xsell.store.connect.store import ConnectStore
from xsell.store.core.apply import EventStore
from xsell.store.core.bundle_reads import BundleReads
from xsell.store.core.latest import LatestSuggestions
from xsell.store.core.reader import RankingReads
from xsell.store.core.shoppers import ShopperReads
from xsell.store.core.view_reads import ViewReads
from xsell.store.notifications.store import NotificationStore
from xsell.store.ops.admin import OpsStore
from xsell.store.privacy import PrivacyStore
from xsell.store.rules.store import RulesStore
from xsell.store.tuning.store import TuningStore


class Store(EventStore):
    """The core's event store, with the other features' rooms (module doc)."""

    def __init__(self, client: RedisClient, settings: Settings) -> None:
        super().__init__(client, settings)
        self.ranking = RankingReads(
            self.runner, self.keys, settings.redis.cluster, settings.ranking.candidates_per_anchor
        )
        self.bundles = BundleReads(self.runner, self.keys, settings.offers.bundle_candidates)
        self.shoppers = ShopperReads(self.runner, self.keys)
        self.views = ViewReads(self.runner, self.keys)
        self.latest = LatestSuggestions(self.runner, self.keys)
        self.notifications = NotificationStore(
            self.runner, self.keys, settings.notify.finished_retention_days
        )
        self.attribution = AttributionStore(
            self.runner,
            self.client,
            self.keys,
            self.ledger,
            settings.worker.suggestion_ttl_seconds,
            settings.worker.minute_figures_retention_days * 86400,
        )
        self.privacy = PrivacyStore(self.runner, self.keys)
        self.connect = ConnectStore(self.runner, self.keys)
        self.ops = OpsStore(self.runner, self.client, self.keys)
        self.tuning = TuningStore(self.runner, self.keys)
        self.followed_tuning = TuningStore(self.runner, self.keys, followed=True)
        self.rebuy_tuning = TuningStore(self.runner, self.keys, rebuys=True)
        self.access = AccessStore(self.runner, self.keys)
        self.rules = RulesStore(self.runner, self.keys, settings.rules.max)
