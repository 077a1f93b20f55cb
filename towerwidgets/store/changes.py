"""In-process change signals for stores, so widgets showing the same database stay in step.

A write tells the listeners of its database (keyed by the resolved file path, so two
``Store`` objects on one file share them) which table changed, after it commits. Listeners
are held weakly: a widget that is closed or collected is never called and never leaks. A
failing listener is logged and never breaks the write or the other listeners.

Writes from other processes (the CLI, another kernel) cannot call back; ``StoreWatcher``
notices them when asked (``check()``), using ``Store.data_version()`` and
``Store.fingerprint()``. Nothing here starts a thread or polls.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable, Iterable
from typing import Any

log = logging.getLogger(__name__)

TABLES: tuple[str, ...] = ("feature_configs", "model_configs", "quick_tests")

Listener = Callable[[str], Any]

_lock = threading.Lock()
_listeners: dict[str, list[_Entry]] = {}


def _weak(callback: Listener, weak: bool) -> Callable[[], Listener | None]:
    if not weak:
        return lambda: callback
    if hasattr(callback, "__self__") and hasattr(callback, "__func__"):
        return weakref.WeakMethod(callback)  # type: ignore[arg-type]
    return weakref.ref(callback)


class _Entry:
    __slots__ = ("__weakref__", "active", "ref", "tables")

    def __init__(self, callback: Listener, tables: frozenset[str], weak: bool) -> None:
        self.ref = _weak(callback, weak)
        self.tables = tables
        self.active = True


class Subscription:
    """A handle to stop listening: ``cancel()`` (idempotent)."""

    def __init__(self, key: str, entry: _Entry) -> None:
        self.key = key
        self._entry = entry

    @property
    def active(self) -> bool:
        return self._entry.active and self._entry.ref() is not None

    def cancel(self) -> None:
        self._entry.active = False
        with _lock:
            entries = _listeners.get(self.key, [])
            if self._entry in entries:
                entries.remove(self._entry)
            if not entries:
                _listeners.pop(self.key, None)

    def __repr__(self) -> str:
        return f"Subscription({self.key!r}, active={self.active})"


def subscribe(
    key: str, callback: Listener, tables: Iterable[str] | None = None, *, weak: bool = True
) -> Subscription:
    """Call ``callback(table)`` after each committed write to ``tables`` (default: all) of
    the database ``key``. Held weakly unless ``weak=False``: keep a reference to the
    callback (a bound method's object) for as long as it should be called."""
    wanted = frozenset(TABLES if tables is None else tables)
    unknown = wanted - set(TABLES)
    if unknown:
        raise ValueError(f"Unknown table(s) {sorted(unknown)}; choose from {list(TABLES)}")
    entry = _Entry(callback, wanted, weak)
    with _lock:
        _listeners.setdefault(key, []).append(entry)
    return Subscription(key, entry)


def notify(key: str, tables: Iterable[str]) -> None:
    """Tell the listeners of ``key`` that ``tables`` changed (call only after a commit)."""
    changed = [t for t in TABLES if t in set(tables)]
    if not changed:
        return
    with _lock:
        entries = list(_listeners.get(key, []))
    dead = []
    for entry in entries:
        for table in changed:
            if not entry.active:
                break
            if table not in entry.tables:
                continue
            callback = entry.ref()
            if callback is None:
                dead.append(entry)
                break
            try:
                callback(table)
            except Exception:  # a listener's bug must not break the write or the others
                log.exception("A store change listener failed on %r (%s)", table, key)
    if dead:
        with _lock:
            entries = _listeners.get(key, [])
            for entry in dead:
                if entry in entries:
                    entries.remove(entry)
            if not entries:
                _listeners.pop(key, None)


def listener_count(key: str) -> int:
    """How many live listeners ``key`` has (diagnostics and tests)."""
    with _lock:
        return sum(1 for e in _listeners.get(key, []) if e.active and e.ref() is not None)


class StoreWatcher:
    """A widget's view of one store: notifications of in-process writes, plus ``check()``
    for writes made by other processes. ``callback(tables)`` gets the set of changed
    tables; it is held weakly, so the watcher never keeps its widget alive."""

    def __init__(
        self,
        store: Any,
        callback: Callable[[set[str]], Any],
        tables: Iterable[str] | None = None,
    ) -> None:
        self._store = store
        self._tables = frozenset(TABLES if tables is None else tables)
        self._callback = _weak(callback, True)
        self._seen_version: int | None = None
        self._seen: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._subscription: Subscription | None = None
        on_change = getattr(store, "on_change", None)
        if on_change is not None:
            self._subscription = on_change(self._on_change, self._tables, weak=True)
        self.baseline()

    @property
    def active(self) -> bool:
        return self._subscription is not None and self._subscription.active

    def _call(self, tables: set[str]) -> None:
        callback = self._callback()
        if callback is None:
            self.close()
            return
        callback(tables)

    def _on_change(self, table: str) -> None:
        self._call({table})

    def baseline(self) -> None:
        """Remember the store's current state; ``check()`` reports changes after it."""
        version, seen = self._read()
        with self._lock:
            self._seen_version, self._seen = version, seen

    def _read(self) -> tuple[int | None, dict[str, Any]]:
        version = self._store.data_version() if hasattr(self._store, "data_version") else None
        seen = self._store.fingerprint(self._tables) if hasattr(self._store, "fingerprint") else {}
        return version, seen

    def check(self) -> set[str]:
        """Look for writes by anyone since the last check (cheap when nothing changed: one
        ``PRAGMA data_version`` on SQLite); calls back with the changed tables and returns
        them. Writes this process made were already notified, so they may show up again here
        once; refreshing is idempotent."""
        if not hasattr(self._store, "fingerprint"):
            return set()
        version = self._store.data_version() if hasattr(self._store, "data_version") else None
        if version is not None and version == self._seen_version:
            return set()
        seen = self._store.fingerprint(self._tables)
        with self._lock:
            changed = {t for t in self._tables if seen.get(t) != self._seen.get(t)}
            self._seen_version, self._seen = version, seen
        if changed:
            self._call(changed)
        return changed

    def close(self) -> None:
        if self._subscription is not None:
            self._subscription.cancel()
            self._subscription = None
