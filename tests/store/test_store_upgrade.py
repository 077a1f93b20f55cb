"""A store written by an older schema is upgraded on open, keeping every record."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from towerwidgets.errors import StoreError
from towerwidgets.store import SCHEMA_VERSION, Store

FIXTURE = Path(__file__).parent / "fixtures" / "schema_v0.sql"


def make_v0(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.executescript(FIXTURE.read_text())
    conn.commit()
    conn.close()


def test_version_0_store_is_upgraded_on_open(tmp_path):
    path = tmp_path / "old.db"
    make_v0(path)
    with Store(path) as store:
        assert store.schema_version == SCHEMA_VERSION == 2
        config = store.model_configs.get(1)
        assert config.name == "Legacy Default" and config.created_by == "alice"
        assert config.get_buyer_tower_summary() == "128→32"
        assert store.feature_configs.get(1).buyer_id_column == "user_id"
        test = store.quick_tests.get(1)
        assert test.status == "completed" and test.recall_at_100 == 0.473
        # Epoch metrics moved from the record's JSON into their own rows.
        assert list(test.metrics["loss"]) == [0.5, 0.38]
        store.quick_tests.append_epoch(1, {"epoch": 3, "loss": 0.3})
        assert len(store.quick_tests.get(1).epoch_metrics) == 3
    with Store(path) as store:  # opening again is a no-op
        assert (
            store.schema_version == SCHEMA_VERSION
            and len(store.quick_tests.get(1).epoch_metrics) == 3
        )


def test_a_newer_schema_is_refused_untouched(tmp_path):
    path = tmp_path / "new.db"
    Store(path).close()
    conn = sqlite3.connect(path)
    conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="written by a newer towerwidgets"):
        Store(path)


def test_failed_upgrade_leaves_the_old_store_intact(tmp_path, monkeypatch):
    from towerwidgets.store import schema

    path = tmp_path / "old.db"
    make_v0(path)

    def broken(conn):
        conn.exec_driver_sql("ALTER TABLE quick_tests ADD COLUMN owner_pid INTEGER")
        raise RuntimeError("disk on fire")

    monkeypatch.setitem(schema.UPGRADES, 0, broken)
    with pytest.raises(RuntimeError):
        Store(path)
    conn = sqlite3.connect(path)
    columns = [row[1] for row in conn.execute("PRAGMA table_info(quick_tests)")]
    tables = [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    conn.close()
    assert "owner_pid" not in columns and "meta" not in tables  # rolled back as one transaction
