"""The store: configs and quick tests in SQLite (default) or any SQLAlchemy database."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.engine import Connection, Engine

from towerwidgets.config import FeatureConfig, ModelConfig, QuickTest
from towerwidgets.config.messages import friendly_errors
from towerwidgets.config.quick_test import TRANSITIONS
from towerwidgets.errors import (
    ConfigValidationError,
    InvalidTransitionError,
    NotFoundError,
    StoreError,
)
from towerwidgets.store import changes, lease, schema

DEFAULT_PATH = Path(".towerwidgets") / "towerwidgets.db"
BUSY_TIMEOUT_MS = 30_000

C = TypeVar("C", FeatureConfig, ModelConfig)

_CHANGED = "towerwidgets.changed"  # Connection.info key: tables this transaction wrote


def _mark(conn: Connection, table: str) -> None:
    """Note that this transaction changed ``table``; listeners hear of it after the commit."""
    pending = conn.info.get(_CHANGED)
    if pending is not None:
        pending.add(table)


def default_url() -> str:
    """``TOWERWIDGETS_STORE`` (a URL or a file path; ``set_default_store`` sets it), else
    ./.towerwidgets/towerwidgets.db in the current directory."""
    value = os.environ.get("TOWERWIDGETS_STORE", "").strip()
    if value and "://" in value:
        return value
    return f"sqlite:///{Path(value) if value else DEFAULT_PATH}"


_announced: set[str] = set()


def _location(url: str) -> str:
    sa_url = sa.engine.make_url(url)
    if sa_url.get_backend_name() == "sqlite" and sa_url.database not in (None, "", ":memory:"):
        return os.path.abspath(sa_url.database)
    return sa_url.render_as_string(hide_password=True)


def _announce_default(url: str) -> None:
    """Say once per process where an unconfigured ``Store()`` keeps its data."""
    if url in _announced:
        return
    _announced.add(url)
    print(
        f"towerwidgets: configs and quick tests are stored in {_location(url)} "
        "(change with TOWERWIDGETS_STORE or tw.set_default_store(...))"
    )


def set_default_store(
    location: str | os.PathLike[str], *, home: str | os.PathLike[str] | None = None
) -> str:
    """Set where ``Store()`` (and every widget without a ``store=``) keeps its data.

    ``location`` is a SQLAlchemy URL or a SQLite file path (made absolute now, so a later
    ``os.chdir`` does not move it). ``home`` also moves runs, exports and the transform
    cache (``TOWERWIDGETS_HOME``, default ./.towerwidgets). Both are set in the environment,
    so worker processes and the CLI started from this process agree. Call it once, before
    opening widgets: a Store already open stays where it is. Returns the store URL.
    """
    value = str(location)
    if "://" not in value:
        value = str(Path(value).expanduser().resolve())
    os.environ["TOWERWIDGETS_STORE"] = value
    if home is not None:
        os.environ["TOWERWIDGETS_HOME"] = str(Path(home).expanduser().resolve())
    return default_url()


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _naive(moment: datetime | None) -> datetime | None:
    """Timestamps are stored as naive UTC (SQLite keeps no zone)."""
    if moment is None:
        return None
    return moment.astimezone(timezone.utc).replace(tzinfo=None) if moment.tzinfo else moment


class Store:
    """Configs and quick tests, one transaction per write.

    ``Store()`` opens SQLite at ./.towerwidgets/towerwidgets.db (or ``TOWERWIDGETS_STORE``,
    or what ``set_default_store`` set; the first unconfigured ``Store()`` says where);
    ``Store(url)`` takes any SQLAlchemy URL or a file path. Opening upgrades an older schema
    and fails quick tests whose lease lapsed (see ``lease.py``): never a live run of another
    host or container sharing the store.
    """

    def __init__(self, url: str | os.PathLike[str] | None = None, *, recover: bool = True):
        if url is None:
            url = default_url()
            if not os.environ.get("TOWERWIDGETS_STORE", "").strip():
                _announce_default(url)
        elif "://" not in str(url):
            url = f"sqlite:///{url}"
        self.url = str(url)
        self._closed = False
        self._engine = self._make_engine(self.url)
        self.changes_key = self._changes_key(self.url)
        self._version_conn: sqlite3.Connection | None = None
        self._version_lock = threading.Lock()
        with self._guard("open"):
            self._migrate()
        self.feature_configs = ConfigRepository(self, FeatureConfig, schema.feature_configs)
        self.model_configs = ConfigRepository(self, ModelConfig, schema.model_configs)
        self.quick_tests = QuickTestRepository(self)
        if recover:
            self.quick_tests.mark_interrupted()

    def __repr__(self) -> str:
        return f"Store({self.location!r})"

    @property
    def location(self) -> str:
        """Where the data is: the absolute SQLite file, else the URL without its password."""
        return _location(self.url)

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._closed = True
        with self._version_lock:
            if self._version_conn is not None:
                self._version_conn.close()
                self._version_conn = None
        self._engine.dispose()

    # ── change signals ──────────────────────────────────────────────────────────────────

    def _changes_key(self, url: str) -> str:
        """One key per database: the resolved file for SQLite, so every Store on the same
        file shares listeners; the password-less URL elsewhere."""
        sa_url = sa.engine.make_url(url)
        if sa_url.get_backend_name() == "sqlite":
            if not sa_url.database or sa_url.database == ":memory:":
                return f"sqlite-memory:{id(self)}"  # private to this Store
            return f"sqlite:{os.path.realpath(sa_url.database)}"
        return sa_url.render_as_string(hide_password=True)

    def on_change(
        self,
        callback: Callable[[str], Any],
        tables: Iterable[str] | None = None,
        *,
        weak: bool = False,
    ) -> changes.Subscription:
        """Call ``callback(table)`` after a committed write to this database (by any Store
        in this process) changed ``tables`` (default: feature_configs, model_configs,
        quick_tests). Quick tests notify on create, status change and delete, not on
        progress. Returns a handle to ``cancel()``; until then the callback is kept alive,
        unless ``weak=True`` (widgets: a listener must not keep its object alive)."""
        return changes.subscribe(self.changes_key, callback, tables, weak=weak)

    def data_version(self) -> int | None:
        """SQLite's ``PRAGMA data_version`` on a kept connection: it changes whenever any
        other connection (another Store, process or kernel) commits to the file. A cheap
        "did anything change?" without a transaction; None where not available."""
        sa_url = sa.engine.make_url(self.url)
        if (
            sa_url.get_backend_name() != "sqlite"
            or not sa_url.database
            or sa_url.database == ":memory:"
        ):
            return None
        with self._version_lock:
            if self._closed:
                return None
            try:
                if self._version_conn is None:
                    self._version_conn = sqlite3.connect(
                        sa_url.database,
                        timeout=BUSY_TIMEOUT_MS / 1000,
                        isolation_level=None,
                        check_same_thread=False,
                    )
                return int(self._version_conn.execute("PRAGMA data_version").fetchone()[0])
            except sqlite3.Error:
                return None

    def fingerprint(self, tables: Iterable[str] | None = None) -> dict[str, tuple[Any, ...]]:
        """Per table, a small value that changes when its rows are created, edited or
        deleted (quick tests: created, deleted or changing status; progress is ignored)."""
        wanted = changes.TABLES if tables is None else tuple(tables)
        out: dict[str, tuple[Any, ...]] = {}
        with self.transaction("check for changes") as conn:
            for name in ("feature_configs", "model_configs"):
                if name in wanted:
                    t = schema.metadata.tables[name]
                    row = conn.execute(
                        sa.select(sa.func.count(), sa.func.max(t.c.id), sa.func.max(t.c.updated_at))
                    ).one()
                    out[name] = tuple(row)
            if "quick_tests" in wanted:
                t = schema.quick_tests
                row = conn.execute(sa.select(sa.func.count(), sa.func.max(t.c.id))).one()
                statuses = conn.execute(
                    sa.select(t.c.status, sa.func.count()).group_by(t.c.status).order_by(t.c.status)
                ).all()
                out["quick_tests"] = (*row, tuple(tuple(s) for s in statuses))
        return out

    # ── engine and transactions ─────────────────────────────────────────────────────────

    @staticmethod
    def _make_engine(url: str) -> Engine:
        sa_url = sa.engine.make_url(url)
        if sa_url.get_backend_name() != "sqlite":
            return sa.create_engine(url, pool_pre_ping=True)
        if sa_url.database and sa_url.database != ":memory:":
            try:
                Path(sa_url.database).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"Cannot create the folder for the store {url}: {exc}") from exc
        engine = sa.create_engine(
            url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False}
        )

        @sa.event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (below)
            cursor = dbapi_conn.cursor()
            cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            if sa_url.database and sa_url.database != ":memory:":
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        @sa.event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            # IMMEDIATE takes the write lock up front, so two writers queue on the busy
            # timeout instead of failing when a read transaction tries to upgrade.
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine

    @contextlib.contextmanager
    def _guard(self, action: str) -> Iterator[None]:
        """Translate database failures into one clear StoreError."""
        if self._closed:
            raise StoreError(f"Cannot {action}: this store is closed; open a new Store()")
        try:
            yield
        except sa.exc.OperationalError as exc:
            text = str(exc.orig) if exc.orig else str(exc)
            if "locked" in text or "busy" in text:
                raise StoreError(
                    f"Cannot {action}: the store {self.url} is locked by another process "
                    f"(waited {BUSY_TIMEOUT_MS // 1000} s). Try again when it is free."
                ) from None
            raise StoreError(f"Cannot {action} in the store {self.url}: {text}") from None
        except sa.exc.DatabaseError as exc:
            text = str(exc.orig) if exc.orig else str(exc)
            raise StoreError(
                f"Cannot {action}: {self.url} is not a readable towerwidgets store ({text}). "
                "Move the file aside or point TOWERWIDGETS_STORE at another one; nothing was changed."
            ) from None

    @contextlib.contextmanager
    def transaction(self, action: str) -> Iterator[Connection]:
        """One transaction; the tables it marked changed are announced after it commits
        (never after a rollback or a failed commit)."""
        changed: set[str] = set()
        with self._guard(action), self._engine.begin() as conn:
            conn.info[_CHANGED] = changed
            try:
                yield conn
            finally:
                conn.info.pop(_CHANGED, None)
        if changed:
            changes.notify(self.changes_key, changed)

    def _migrate(self) -> None:
        with self._engine.connect() as conn:
            sqlite = conn.dialect.name == "sqlite"
            if sqlite:
                # Upgrades rebuild tables; SQLite only turns foreign keys off outside a
                # transaction, and dropping a table with them on would cascade.
                conn.connection.dbapi_connection.execute("PRAGMA foreign_keys=OFF")
            try:
                with conn.begin():
                    self._migrate_in(conn)
            finally:
                if sqlite:
                    try:
                        conn.connection.dbapi_connection.execute("PRAGMA foreign_keys=ON")
                    except sqlite3.Error:
                        conn.invalidate()  # never pool a connection without foreign keys

    def _migrate_in(self, conn: Connection) -> None:
        version = schema.read_version(conn)
        if version is None:
            schema.metadata.create_all(conn)
            schema.write_version(conn, schema.SCHEMA_VERSION)
            return
        if version > schema.SCHEMA_VERSION:
            raise StoreError(
                f"The store {self.url} was written by a newer towerwidgets (schema "
                f"{version}, this one knows {schema.SCHEMA_VERSION}); upgrade towerwidgets."
            )
        while version < schema.SCHEMA_VERSION:
            schema.UPGRADES[version](conn)
            version += 1
        schema.write_version(conn, version)

    @property
    def schema_version(self) -> int:
        with self.transaction("read the schema version") as conn:
            return schema.read_version(conn) or 0


def _coerce(model_cls: type[C], value: Any) -> C:
    if isinstance(value, model_cls):
        return value
    if isinstance(value, dict):
        try:
            return model_cls.model_validate(value)
        except ValidationError as exc:
            raise ConfigValidationError(model_cls.__name__, friendly_errors(exc)) from None
    raise TypeError(f"Expected a {model_cls.__name__} or a dict, got {type(value).__name__}")


class ConfigRepository(Generic[C]):
    """CRUD for one kind of config (the spec's /api/model-configs/ endpoints)."""

    def __init__(self, store: Store, model_cls: type[C], table: sa.Table):
        self._store = store
        self._cls = model_cls
        self._table = table
        self._label = "Feature config" if model_cls is FeatureConfig else "Model config"

    def _row_to_model(self, row: Any) -> C:
        data = json.loads(row.data)
        data["id"] = row.id
        return self._cls.model_validate(data)

    def _values(self, config: C) -> dict[str, Any]:
        data = config.to_dict()
        data.pop("id", None)
        values: dict[str, Any] = {
            "name": config.name,
            "data": json.dumps(data, ensure_ascii=False, sort_keys=True),
            "created_at": _naive(config.created_at),
            "updated_at": _naive(config.updated_at),
        }
        if "model_type" in self._table.c:
            values["model_type"] = config.model_type
        return values

    def _check(self, config: C) -> None:
        problems = config.validate()
        if problems:
            raise ConfigValidationError(f"{self._label} {config.name!r}", problems)

    def list(self) -> list[C]:
        """All configs, most recently updated first."""
        table = self._table
        query = sa.select(table).order_by(table.c.updated_at.desc(), table.c.id.desc())
        with self._store.transaction(f"list {self._label.lower()}s") as conn:
            return [self._row_to_model(row) for row in conn.execute(query)]

    def get(self, config_id: int) -> C:
        with self._store.transaction(f"read {self._label.lower()} {config_id}") as conn:
            row = conn.execute(sa.select(self._table).where(self._table.c.id == config_id)).first()
        if row is None:
            raise NotFoundError(f"{self._label} {config_id} does not exist")
        return self._row_to_model(row)

    def create(self, config: C | dict[str, Any]) -> C:
        """Store a new config (validated first); sets and returns its id and timestamps."""
        config = _coerce(self._cls, config)
        self._check(config)
        moment = _now()
        stored = config.model_copy(deep=True)
        stored.created_at = stored.updated_at = moment
        with self._store.transaction(f"create {self._label.lower()}") as conn:
            new_id = conn.execute(
                sa.insert(self._table).values(self._values(stored))
            ).inserted_primary_key[0]
            _mark(conn, self._table.name)
        config.id, config.created_at, config.updated_at = int(new_id), moment, moment
        return config

    def update(self, config: C | dict[str, Any]) -> C:
        """Replace a stored config by its id (validated first); refreshes ``updated_at``."""
        config = _coerce(self._cls, config)
        if config.id is None:
            raise NotFoundError(f"This {self._label.lower()} has no id: create() it first")
        self._check(config)
        moment = _now()
        stored = config.model_copy(deep=True)
        stored.updated_at = moment
        with self._store.transaction(f"update {self._label.lower()} {config.id}") as conn:
            old = conn.execute(
                sa.select(self._table.c.created_at).where(self._table.c.id == config.id)
            ).first()
            if old is None:
                raise NotFoundError(f"{self._label} {config.id} does not exist")
            if stored.created_at is None:
                stored.created_at = old.created_at.replace(tzinfo=timezone.utc)
            conn.execute(
                sa.update(self._table)
                .where(self._table.c.id == config.id)
                .values(self._values(stored))
            )
            _mark(conn, self._table.name)
        config.created_at, config.updated_at = stored.created_at, moment
        return config

    def delete(self, config_id: int, *, force: bool = False) -> int:
        """Delete a config. With quick tests attached it needs ``force=True``, which removes
        them too; returns how many quick tests were removed."""
        fk = schema.quick_tests.c[
            "feature_config_id" if self._cls is FeatureConfig else "model_config_id"
        ]
        with self._store.transaction(f"delete {self._label.lower()} {config_id}") as conn:
            row = conn.execute(
                sa.select(self._table.c.name).where(self._table.c.id == config_id)
            ).first()
            if row is None:
                raise NotFoundError(f"{self._label} {config_id} does not exist")
            ids = [
                r.id
                for r in conn.execute(sa.select(schema.quick_tests.c.id).where(fk == config_id))
            ]
            if ids and not force:
                raise StoreError(
                    f"{self._label} {config_id} ({row.name!r}) has {len(ids)} quick test"
                    f"{'s' if len(ids) != 1 else ''}; delete(..., force=True) removes "
                    f"{'them' if len(ids) != 1 else 'it'} too"
                )
            if ids:
                conn.execute(
                    sa.delete(schema.quick_test_epochs).where(
                        schema.quick_test_epochs.c.quick_test_id.in_(ids)
                    )
                )
                conn.execute(sa.delete(schema.quick_tests).where(schema.quick_tests.c.id.in_(ids)))
                _mark(conn, schema.quick_tests.name)
            conn.execute(sa.delete(self._table).where(self._table.c.id == config_id))
            _mark(conn, self._table.name)
        return len(ids)

    def count_quick_tests(self, config_id: int) -> int:
        fk = schema.quick_tests.c[
            "feature_config_id" if self._cls is FeatureConfig else "model_config_id"
        ]
        with self._store.transaction("count quick tests") as conn:
            query = (
                sa.select(sa.func.count()).select_from(schema.quick_tests).where(fk == config_id)
            )
            return int(conn.execute(query).scalar() or 0)

    def clone(self, config_id: int, name: str | None = None) -> C:
        """A stored copy named ``name`` (default "<name> (copy)")."""
        original = self.get(config_id)
        copy = original.copy_as_new(name=name or f"{original.name} (copy)"[:255])
        return self.create(copy)


class QuickTestRepository:
    """Quick-test records and their per-epoch metric rows."""

    def __init__(self, store: Store):
        self._store = store
        self._t = schema.quick_tests
        self._e = schema.quick_test_epochs

    def _values(self, test: QuickTest, *, heartbeat: bool) -> dict[str, Any]:
        """Column values; ``heartbeat`` when the owner writes (its writes renew the lease),
        not when someone else cancels or recovers the test."""
        data = test.to_dict()
        data.pop("id", None)
        data.pop("epoch_metrics", None)  # kept one row per epoch in quick_test_epochs
        values = {
            "feature_config_id": test.feature_config_id,
            "model_config_id": test.model_config_id,
            "status": test.status,
            "data": json.dumps(data, ensure_ascii=False, sort_keys=True),
            "created_at": _naive(test.created_at),
            "updated_at": _naive(_now()),
            "owner_pid": test.owner_pid,
            "worker_pid": test.worker_pid,
            "host_id": test.host_id or None,
        }
        if heartbeat:
            values["heartbeat_at"] = values["updated_at"]
        return values

    def _load(self, conn: Connection, rows: list[Any]) -> list[QuickTest]:
        if not rows:
            return []
        epochs: dict[int, list[dict[str, Any]]] = {row.id: [] for row in rows}
        query = (
            sa.select(self._e)
            .where(self._e.c.quick_test_id.in_(list(epochs)))
            .order_by(self._e.c.quick_test_id, self._e.c.epoch)
        )
        for row in conn.execute(query):
            epochs[row.quick_test_id].append(json.loads(row.data))
        tests = []
        for row in rows:
            data = json.loads(row.data)
            data.update(id=row.id, epoch_metrics=epochs[row.id], status=row.status)
            tests.append(QuickTest.model_validate(data))
        return tests

    def create(self, test: QuickTest) -> QuickTest:
        if test.id is not None:
            raise StoreError(f"Quick test {test.id} is already stored; use update()")
        test.created_at = test.created_at or _now()
        test.host_id = test.host_id or lease.host_identity()  # the creator owns it
        with self._store.transaction("create a quick test") as conn:
            new_id = conn.execute(
                sa.insert(self._t).values(self._values(test, heartbeat=True))
            ).inserted_primary_key[0]
            for row in test.epoch_metrics:
                self._insert_epoch(conn, int(new_id), row)
            _mark(conn, self._t.name)
        test.id = int(new_id)
        return test

    def get(self, test_id: int) -> QuickTest:
        with self._store.transaction(f"read quick test {test_id}") as conn:
            row = conn.execute(sa.select(self._t).where(self._t.c.id == test_id)).first()
            if row is None:
                raise NotFoundError(f"Quick test {test_id} does not exist")
            return self._load(conn, [row])[0]

    def list(
        self,
        feature_config_id: int | None = None,
        model_config_id: int | None = None,
        *,
        status: str | None = None,
        limit: int | None = None,
    ) -> list[QuickTest]:
        """Quick tests, newest first, optionally of one config or status."""
        query = sa.select(self._t).order_by(self._t.c.created_at.desc(), self._t.c.id.desc())
        if feature_config_id is not None:
            query = query.where(self._t.c.feature_config_id == feature_config_id)
        if model_config_id is not None:
            query = query.where(self._t.c.model_config_id == model_config_id)
        if status is not None:
            query = query.where(self._t.c.status == status)
        if limit is not None:
            query = query.limit(limit)
        with self._store.transaction("list quick tests") as conn:
            return self._load(conn, list(conn.execute(query)))

    def update(self, test: QuickTest) -> QuickTest:
        """Write a record. Refuses a status the stored one cannot reach, so a test cancelled
        elsewhere is never turned back into "running" by a late progress update."""
        if test.id is None:
            raise NotFoundError("This quick test has no id: create() it first")
        with self._store.transaction(f"update quick test {test.id}") as conn:
            stored = conn.execute(
                sa.select(self._t.c.status).where(self._t.c.id == test.id)
            ).first()
            if stored is None:
                raise NotFoundError(f"Quick test {test.id} does not exist")
            if test.status != stored.status and test.status not in TRANSITIONS[stored.status]:
                raise InvalidTransitionError(
                    f"Quick test {test.id} is {stored.status!r} in the store; it cannot become "
                    f"{test.status!r}"
                )
            conn.execute(
                sa.update(self._t)
                .where(self._t.c.id == test.id)
                .values(self._values(test, heartbeat=True))
            )
            if test.status != stored.status:  # not on progress: those come every half second
                _mark(conn, self._t.name)
        return test

    def patch(self, test_id: int, **fields: Any) -> QuickTest:
        """Read, change some fields (transitions checked) and write, in one transaction."""
        with self._store.transaction(f"update quick test {test_id}") as conn:
            row = conn.execute(sa.select(self._t).where(self._t.c.id == test_id)).first()
            if row is None:
                raise NotFoundError(f"Quick test {test_id} does not exist")
            test = self._load(conn, [row])[0]
            for name, value in fields.items():
                setattr(test, name, value)
            conn.execute(
                sa.update(self._t)
                .where(self._t.c.id == test_id)
                .values(self._values(test, heartbeat=False))
            )
            if test.status != row.status:
                _mark(conn, self._t.name)
        return test

    def _insert_epoch(self, conn: Connection, test_id: int, row: dict[str, Any]) -> None:
        epoch = int(row["epoch"])
        conn.execute(
            sa.delete(self._e).where(self._e.c.quick_test_id == test_id, self._e.c.epoch == epoch)
        )
        conn.execute(
            sa.insert(self._e).values(quick_test_id=test_id, epoch=epoch, data=json.dumps(row))
        )

    def append_epoch(self, test_id: int, row: dict[str, Any]) -> None:
        """Record one epoch's metrics (``row["epoch"]`` numbers it; a repeat replaces it)."""
        if "epoch" not in row:
            raise ValueError("An epoch row needs an 'epoch' number")
        with self._store.transaction(f"record an epoch of quick test {test_id}") as conn:
            if conn.execute(sa.select(self._t.c.id).where(self._t.c.id == test_id)).first() is None:
                raise NotFoundError(f"Quick test {test_id} does not exist")
            self._insert_epoch(conn, test_id, row)

    def cancel(self, test_id: int, reason: str = "") -> QuickTest:
        """Mark a pending or running test cancelled. Its owner notices within a second or
        two and stops its worker; a worker of this very host is also signalled here. A PID
        recorded by another host or container is never signalled."""
        test = self.get(test_id)
        if test.is_finished:
            return test
        fields: dict[str, Any] = {"status": "cancelled", "completed_at": _now()}
        if reason:
            fields["error_message"] = reason
        with self._store.transaction(f"read the lease of quick test {test_id}") as conn:
            last_seen = conn.execute(
                sa.select(sa.func.coalesce(self._t.c.heartbeat_at, self._t.c.updated_at)).where(
                    self._t.c.id == test_id
                )
            ).scalar()
        test = self.patch(test_id, **fields)
        last_seen = _as_datetime(last_seen)
        fresh = (
            last_seen is not None
            and (
                _naive(_now()) - last_seen  # type: ignore[operator]
            ).total_seconds()
            <= lease.LEASE_SECONDS
        )
        # A PID is only meaningful on its own host, and only while its lease holds (after
        # that the worker is gone and the number may belong to another process).
        if fresh and test.host_id == lease.host_identity() and lease.pid_alive(test.worker_pid):
            with contextlib.suppress(OSError):
                os.kill(test.worker_pid, signal.SIGTERM)  # type: ignore[arg-type]
        return test

    def heartbeat(self, test_id: int) -> str | None:
        """Renew a test's lease; returns its stored status (None when it was deleted), so
        the owner also learns of a cancel or a delete made elsewhere."""
        with self._store.transaction(f"renew the lease of quick test {test_id}") as conn:
            status = conn.execute(
                sa.select(self._t.c.status).where(self._t.c.id == test_id)
            ).scalar()
            if status in ("pending", "running"):
                conn.execute(
                    sa.update(self._t)
                    .where(self._t.c.id == test_id)
                    .values(heartbeat_at=_naive(_now()))
                )
        return status

    def delete(self, test_id: int) -> None:
        with self._store.transaction(f"delete quick test {test_id}") as conn:
            conn.execute(sa.delete(self._e).where(self._e.c.quick_test_id == test_id))
            if not conn.execute(sa.delete(self._t).where(self._t.c.id == test_id)).rowcount:
                raise NotFoundError(f"Quick test {test_id} does not exist")
            _mark(conn, self._t.name)

    def mark_interrupted(
        self, *, now: datetime | None = None, lease_seconds: float | None = None
    ) -> list[int]:
        """Fail pending/running tests whose lease lapsed (``lease.recovery_verdict``);
        returns their ids. ``now`` and ``lease_seconds`` exist for tests."""
        now = _naive(now or _now())
        this_host = lease.host_identity()
        t = self._t
        with self._store.transaction("check for interrupted quick tests") as conn:
            rows = conn.execute(
                sa.select(
                    t.c.id,
                    t.c.owner_pid,
                    t.c.worker_pid,
                    t.c.host_id,
                    sa.func.coalesce(t.c.heartbeat_at, t.c.updated_at).label("last_seen"),
                ).where(t.c.status.in_(("pending", "running")))
            ).all()
        verdicts = {
            row.id: lease.recovery_verdict(
                host_id=row.host_id,
                owner_pid=row.owner_pid,
                worker_pid=row.worker_pid,
                last_seen=_as_datetime(row.last_seen),
                now=now,  # type: ignore[arg-type]
                this_host=this_host,
                lease_seconds=lease_seconds,
            )
            for row in rows
        }
        failed = []
        for test_id, why in verdicts.items():
            if why is None:
                continue
            with contextlib.suppress(InvalidTransitionError, NotFoundError):
                if self._fail_interrupted(test_id, now, lease_seconds):  # type: ignore[arg-type]
                    failed.append(test_id)
        return failed

    def _fail_interrupted(self, test_id: int, now: datetime, lease_seconds: float | None) -> bool:
        """Fail one test, judging it again inside the write transaction: its owner may have
        renewed the lease meanwhile, or another host may have recovered it first."""
        with self._store.transaction(f"fail interrupted quick test {test_id}") as conn:
            row = conn.execute(sa.select(self._t).where(self._t.c.id == test_id)).first()
            if row is None or row.status not in ("pending", "running"):
                return False
            why = lease.recovery_verdict(
                host_id=row.host_id,
                owner_pid=row.owner_pid,
                worker_pid=row.worker_pid,
                last_seen=_as_datetime(row.heartbeat_at or row.updated_at),
                now=now,
                this_host=lease.host_identity(),
                lease_seconds=lease_seconds,
            )
            if why is None:
                return False
            test = self._load(conn, [row])[0]
            if test.backend == "vertex" and test.vertex_pipeline_id:
                return False  # runs on Vertex AI without its kernel: re-attach, not fail
            stage = test.current_stage or "validate"
            test.status = "failed"
            test.error_stage = stage
            test.error_message = (
                f"Interrupted: {why} during the {stage!r} stage, before the quick test "
                "finished. Start it again."
            )
            test.completed_at = _now()
            conn.execute(
                sa.update(self._t)
                .where(self._t.c.id == test_id)
                .values(self._values(test, heartbeat=False))
            )
            _mark(conn, self._t.name)
        return True


def _as_datetime(value: Any) -> datetime | None:
    """A stored timestamp as naive UTC (SQLite hands back text from SQL functions)."""
    if value is None or isinstance(value, datetime):
        return _naive(value)
    try:
        return _naive(datetime.fromisoformat(str(value)))
    except ValueError:
        return None
