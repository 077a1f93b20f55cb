"""The store: SQLite by default (WAL), any SQLAlchemy database by URL."""

from towerwidgets.store.changes import StoreWatcher, Subscription
from towerwidgets.store.schema import SCHEMA_VERSION
from towerwidgets.store.store import (
    ConfigRepository,
    QuickTestRepository,
    Store,
    default_url,
    set_default_store,
)

__all__ = [
    "SCHEMA_VERSION",
    "ConfigRepository",
    "QuickTestRepository",
    "Store",
    "StoreWatcher",
    "Subscription",
    "default_url",
    "set_default_store",
]
