"""Tables of the store and the upgrades from older schema versions.

Each record's full JSON lives in ``data``; the other columns exist to query and order by.
Version history:
  0 — feature_configs, model_configs, quick_tests (epoch metrics inside quick_tests.data),
      no meta table.
  1 — adds ``meta`` (schema version), ``quick_test_epochs`` (one row per epoch) and the
      owner/worker pid columns used to find interrupted quick tests.
  2 — adds ``host_id`` and ``heartbeat_at`` to quick_tests: a running test's lease (see
      ``lease.py``), so a shared store never fails a colleague's live run.
  3 — SQLite ids never come back: the record tables are rebuilt with AUTOINCREMENT, so a
      deleted last quick test's id (kept in a notebook, a comparison, a link) never names
      the next one. PostgreSQL's sequences never reused ids; nothing changes there.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

SCHEMA_VERSION = 3

metadata = sa.MetaData()

meta = sa.Table(
    "meta",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

feature_configs = sa.Table(
    "feature_configs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("data", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False, index=True),
    sqlite_autoincrement=True,  # a deleted record's id is never handed out again
)

model_configs = sa.Table(
    "model_configs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("model_type", sa.String(20), nullable=False),
    sa.Column("data", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False, index=True),
    sqlite_autoincrement=True,  # a deleted record's id is never handed out again
)

quick_tests = sa.Table(
    "quick_tests",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "feature_config_id",
        sa.Integer,
        sa.ForeignKey("feature_configs.id", ondelete="CASCADE"),
        nullable=True,
        index=True,
    ),
    sa.Column(
        "model_config_id",
        sa.Integer,
        sa.ForeignKey("model_configs.id", ondelete="CASCADE"),
        nullable=True,
        index=True,
    ),
    sa.Column("status", sa.String(20), nullable=False, index=True),
    sa.Column("data", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False, index=True),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    sa.Column("owner_pid", sa.Integer, nullable=True),
    sa.Column("worker_pid", sa.Integer, nullable=True),
    sa.Column("host_id", sa.String(200), nullable=True),
    sa.Column("heartbeat_at", sa.DateTime, nullable=True),
    sqlite_autoincrement=True,
)

quick_test_epochs = sa.Table(
    "quick_test_epochs",
    metadata,
    sa.Column(
        "quick_test_id",
        sa.Integer,
        sa.ForeignKey("quick_tests.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("epoch", sa.Integer, primary_key=True),
    sa.Column("data", sa.Text, nullable=False),
)


def read_version(conn: Connection) -> int | None:
    """The stored schema version; None for an empty database."""
    names = set(sa.inspect(conn).get_table_names())
    if not names:
        return None
    if "meta" not in names:
        return 0
    value = conn.execute(sa.select(meta.c.value).where(meta.c.key == "schema_version")).scalar()
    return int(value) if value is not None else 0


def write_version(conn: Connection, version: int) -> None:
    conn.execute(sa.delete(meta).where(meta.c.key == "schema_version"))
    conn.execute(sa.insert(meta).values(key="schema_version", value=str(version)))


def _upgrade_0_to_1(conn: Connection) -> None:
    meta.create(conn, checkfirst=True)
    conn.exec_driver_sql("ALTER TABLE quick_tests ADD COLUMN owner_pid INTEGER")
    conn.exec_driver_sql("ALTER TABLE quick_tests ADD COLUMN worker_pid INTEGER")
    quick_test_epochs.create(conn, checkfirst=True)
    # Version 0 kept the epoch metrics inside the record's JSON: move them to their table.
    rows = conn.execute(sa.select(quick_tests.c.id, quick_tests.c.data)).all()
    for row in rows:
        data = json.loads(row.data)
        for index, epoch in enumerate(data.pop("epoch_metrics", []) or []):
            number = int(epoch.get("epoch", index + 1))
            conn.execute(
                sa.insert(quick_test_epochs).values(
                    quick_test_id=row.id, epoch=number, data=json.dumps(epoch)
                )
            )
        conn.execute(
            sa.update(quick_tests).where(quick_tests.c.id == row.id).values(data=json.dumps(data))
        )


def _upgrade_1_to_2(conn: Connection) -> None:
    # Rows written before leases keep NULLs: recovery then judges them by updated_at.
    conn.exec_driver_sql("ALTER TABLE quick_tests ADD COLUMN host_id VARCHAR(200)")
    conn.exec_driver_sql("ALTER TABLE quick_tests ADD COLUMN heartbeat_at TIMESTAMP")


# The tables whose ids users hold, parents first (a child's FOREIGN KEY names its parent).
ID_TABLES = (feature_configs, model_configs, quick_tests)


def _upgrade_2_to_3(conn: Connection) -> None:
    """Rebuild SQLite's record tables with AUTOINCREMENT (SQLite cannot add it in place):
    SQLite's 12-step table rebuild, with foreign keys off for the connection (``Store``
    does that around the upgrade), so dropping the old table cascades nowhere."""
    if conn.dialect.name != "sqlite":
        return
    if conn.exec_driver_sql("PRAGMA foreign_keys").scalar():
        raise RuntimeError("the version 3 upgrade needs foreign keys off (Store does that)")
    for table in ID_TABLES:
        new_name = f"{table.name}_v3"
        ddl = str(sa.schema.CreateTable(table).compile(dialect=conn.dialect))
        head = f"CREATE TABLE {table.name} ("
        if head not in ddl:
            raise RuntimeError(f"unexpected DDL for {table.name}: {ddl!r}")
        conn.exec_driver_sql(ddl.replace(head, f"CREATE TABLE {new_name} (", 1))
        columns = ", ".join(f'"{column.name}"' for column in table.columns)
        conn.exec_driver_sql(
            f"INSERT INTO {new_name} ({columns}) SELECT {columns} FROM {table.name}"
        )
        conn.exec_driver_sql(f"DROP TABLE {table.name}")  # its indexes go with it
        conn.exec_driver_sql(f"ALTER TABLE {new_name} RENAME TO {table.name}")
        for index in table.indexes:
            index.create(conn)
    problems = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
    if problems:
        raise RuntimeError(f"foreign keys broken by the version 3 upgrade: {problems[:5]}")


UPGRADES: dict[int, Callable[[Connection], None]] = {
    0: _upgrade_0_to_1,
    1: _upgrade_1_to_2,
    2: _upgrade_2_to_3,
}
