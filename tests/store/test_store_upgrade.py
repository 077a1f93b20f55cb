"""A store written by an older schema is upgraded on open, keeping every record."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from towerwidgets import FeatureConfig, ModelConfig, QuickTest
from towerwidgets.config import Feature
from towerwidgets.errors import StoreError
from towerwidgets.store import SCHEMA_VERSION, Store, schema

FIXTURES = Path(__file__).parent / "fixtures"
FIXTURE = FIXTURES / "schema_v0.sql"


def make_v0(path: Path, fixture: Path = FIXTURE) -> None:
    conn = sqlite3.connect(path)
    conn.executescript(fixture.read_text())
    conn.commit()
    conn.close()


def _tables_and_indexes(path: Path) -> dict[str, str]:
    conn = sqlite3.connect(path)
    rows = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type IN ('table', 'index') AND sql IS NOT NULL"
    ).fetchall()
    conn.close()
    # A renamed table's DDL names it in quotes ("quick_tests"); otherwise it is the same.
    return {name: sql.replace(f'TABLE "{name}"', f"TABLE {name}") for name, sql in rows}


def test_version_0_store_is_upgraded_on_open(tmp_path):
    path = tmp_path / "old.db"
    make_v0(path)
    with Store(path) as store:
        assert store.schema_version == SCHEMA_VERSION == 3
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


def test_version_2_store_is_rebuilt_so_ids_never_come_back(tmp_path):
    """Schema 3: the record tables get SQLite's AUTOINCREMENT, keeping every row, every
    epoch, every index and the cascades; a deleted last id is never handed out again."""
    path = tmp_path / "v2.db"
    make_v0(path, FIXTURES / "schema_v2.sql")
    fresh = tmp_path / "fresh.db"
    Store(fresh).close()
    with Store(path, recover=False) as store:
        assert store.schema_version == 3
        assert [t.id for t in store.quick_tests.list()] == [2, 1]
        assert list(store.quick_tests.get(1).metrics["loss"]) == [1.0, 0.5]
        assert store.feature_configs.get(1).name == "Ids v2"
        assert [c.name for c in store.model_configs.list()] == ["Standard v2"]
        # The ids deleted before the upgrade were never recorded; from now on none returns.
        third = store.quick_tests.create(_test_of(store, 1, 1)).id
        store.quick_tests.delete(third)
        assert store.quick_tests.create(_test_of(store, 1, 1)).id == third + 1
        # Cascades still hold: a quick test takes its epochs, a config its quick tests.
        store.quick_tests.delete(1)
        with store.transaction("count epochs") as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM quick_test_epochs").scalar() == 0
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert store.model_configs.delete(1, force=True) == 2
        assert store.quick_tests.list() == []
    assert _tables_and_indexes(path) == _tables_and_indexes(fresh)


def _test_of(store, fc_id, mc_id):
    fc, mc = store.feature_configs.get(fc_id), store.model_configs.get(mc_id)
    return QuickTest(
        feature_config_id=fc.id,
        model_config_id=mc.id,
        feature_config_snapshot=fc.to_dict(),
        model_config_snapshot=mc.to_dict(),
    )


def test_a_new_store_never_reuses_a_deleted_last_id(tmp_path):
    with Store(tmp_path / "s.db") as store:
        fc = FeatureConfig(
            name="F",
            buyer_id_column="b",
            product_id_column="p",
            buyer_features=[Feature(column="b")],
            product_features=[Feature(column="p")],
        )
        first = store.feature_configs.create(fc.model_copy()).id
        store.feature_configs.delete(first)
        fc_id = store.feature_configs.create(fc.model_copy()).id
        assert fc_id == first + 1
        mc = store.model_configs.create(ModelConfig.from_preset("minimal", name="M")).id
        store.model_configs.delete(mc)
        mc_id = store.model_configs.create(ModelConfig.from_preset("minimal", name="M")).id
        assert mc_id == mc + 1
        test = store.quick_tests.create(_test_of(store, fc_id, mc_id)).id
        store.quick_tests.delete(test)
        assert store.quick_tests.create(_test_of(store, fc_id, mc_id)).id == test + 1


def test_failed_version_3_upgrade_leaves_the_version_2_store_intact(tmp_path, monkeypatch):
    path = tmp_path / "v2.db"
    make_v0(path, FIXTURES / "schema_v2.sql")
    before = _tables_and_indexes(path)
    rebuild = schema.UPGRADES[2]

    def broken(conn):
        rebuild(conn)  # every table rebuilt, then the disk fails before the commit
        raise RuntimeError("disk on fire")

    monkeypatch.setitem(schema.UPGRADES, 2, broken)
    with pytest.raises(RuntimeError):
        Store(path)
    assert _tables_and_indexes(path) == before
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT count(*) FROM quick_test_epochs").fetchone()[0] == 2
    assert conn.execute("SELECT value FROM meta").fetchone()[0] == "2"
    conn.close()
    monkeypatch.setitem(schema.UPGRADES, 2, rebuild)
    with Store(path, recover=False) as store:  # and the next open upgrades it
        assert store.schema_version == 3 and len(store.quick_tests.list()) == 2
