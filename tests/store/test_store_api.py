"""The spec's API tests, as store tests: list, create, get, update, delete, clone, presets."""

from __future__ import annotations

import time

import pytest

from towerwidgets import FeatureConfig, ModelConfig, QuickTest, Store, presets
from towerwidgets.config import Feature
from towerwidgets.errors import (
    ConfigValidationError,
    InvalidTransitionError,
    NotFoundError,
    StoreError,
)


def model(name="API Test Config", **fields) -> ModelConfig:
    return ModelConfig.from_preset("standard", name=name, **fields)


def features(name="Sample") -> FeatureConfig:
    return FeatureConfig(
        name=name,
        buyer_id_column="buyer_id",
        product_id_column="product_id",
        buyer_features=[Feature(column="buyer_id")],
        product_features=[Feature(column="product_id")],
    )


# ── the spec's ModelConfigAPITestCase ──────────────────────────────────────────────────


def test_list_model_configs(store):
    assert store.model_configs.list() == []


def test_create_model_config(store):
    data = {
        "name": "API Test Config",
        "model_type": "retrieval",
        "buyer_tower_layers": [
            {"type": "dense", "units": 128, "activation": "relu"},
            {"type": "dense", "units": 32, "activation": None},
        ],
        "product_tower_layers": [
            {"type": "dense", "units": 64, "activation": "relu"},
            {"type": "dense", "units": 32, "activation": None},
        ],
    }
    created = store.model_configs.create(data)
    assert created.id is not None
    assert store.model_configs.get(created.id).get_buyer_tower_summary() == "128→32"


def test_get_presets():
    assert "standard" in presets()


# ── CRUD in detail ───────────────────────────────────────────────────────────────────────


def test_create_sets_id_timestamps_and_author(store):
    config = store.model_configs.create(model())
    assert config.id == 1 and config.created_at and config.updated_at == config.created_at
    again = store.model_configs.get(config.id)
    assert again == config


def test_list_is_newest_updated_first(store):
    first = store.model_configs.create(model("first"))
    store.model_configs.create(model("second"))
    time.sleep(0.01)
    first.learning_rate = 0.05
    store.model_configs.update(first)
    assert [c.name for c in store.model_configs.list()] == ["first", "second"]


def test_update_keeps_created_at_and_refreshes_updated_at(store):
    config = store.model_configs.create(model())
    created = config.created_at
    time.sleep(0.01)
    config.name = "renamed"
    store.model_configs.update(config)
    stored = store.model_configs.get(config.id)
    assert stored.name == "renamed" and stored.created_at == created and stored.updated_at > created


def test_invalid_configs_are_refused_and_nothing_is_written(store):
    with pytest.raises(ConfigValidationError, match="Buyer tower must have at least one layer"):
        store.model_configs.create(ModelConfig(name="empty"))
    config = store.model_configs.create(model())
    config.output_embedding_dim = 4
    with pytest.raises(
        ConfigValidationError, match="Output embedding dimension should be at least 8"
    ):
        store.model_configs.update(config)
    assert store.model_configs.get(config.id).output_embedding_dim == 32
    assert len(store.model_configs.list()) == 1
    with pytest.raises(ConfigValidationError, match="units"):
        store.model_configs.create(
            {"name": "x", "buyer_tower_layers": [{"type": "dense", "units": -1}]}
        )


def test_missing_ids_say_so(store):
    with pytest.raises(NotFoundError, match="Model config 42 does not exist"):
        store.model_configs.get(42)
    with pytest.raises(NotFoundError, match="Feature config 42 does not exist"):
        store.feature_configs.delete(42)
    with pytest.raises(NotFoundError, match="has no id"):
        store.model_configs.update(model())
    with pytest.raises(NotFoundError, match="Quick test 9 does not exist"):
        store.quick_tests.get(9)


def test_clone_names_the_copy(store):
    original = store.model_configs.create(model("Standard Retrieval v1"))
    copy = store.model_configs.clone(original.id)
    assert copy.id != original.id and copy.name == "Standard Retrieval v1 (copy)"
    assert copy.buyer_tower_layers == original.buyer_tower_layers
    assert store.model_configs.clone(original.id, name="Mine").name == "Mine"


def test_feature_configs_crud(store):
    config = store.feature_configs.create(features())
    config.description = "ids only"
    store.feature_configs.update(config)
    assert store.feature_configs.get(config.id).description == "ids only"
    assert store.feature_configs.delete(config.id) == 0
    assert store.feature_configs.list() == []


# ── quick tests ──────────────────────────────────────────────────────────────────────────


def stored_test(store) -> QuickTest:
    fc = store.feature_configs.create(features())
    mc = store.model_configs.create(model())
    test = QuickTest(
        feature_config_id=fc.id,
        model_config_id=mc.id,
        feature_config_snapshot=fc.to_dict(),
        model_config_snapshot=mc.to_dict(),
        owner_pid=__import__("os").getpid(),
    )
    return store.quick_tests.create(test)


def test_quick_test_lifecycle_and_epoch_rows(store):
    test = stored_test(store)
    test.status = "running"
    test.current_stage = "train"
    store.quick_tests.update(test)
    store.quick_tests.append_epoch(test.id, {"epoch": 1, "loss": 3.0})
    store.quick_tests.append_epoch(test.id, {"epoch": 2, "loss": 2.0})
    store.quick_tests.append_epoch(test.id, {"epoch": 2, "loss": 1.9})  # a repeat replaces
    test = store.quick_tests.patch(test.id, status="completed", loss=1.9)
    stored = store.quick_tests.get(test.id)
    assert stored.status == "completed"
    assert list(stored.metrics["loss"]) == [3.0, 1.9]


def test_list_quick_tests_by_config_newest_first(store):
    a = stored_test(store)
    b = stored_test(store)
    assert [t.id for t in store.quick_tests.list()] == [b.id, a.id]
    assert [t.id for t in store.quick_tests.list(model_config_id=a.model_config_id)] == [a.id]
    assert [t.id for t in store.quick_tests.list(feature_config_id=b.feature_config_id)] == [b.id]


def test_cancel_and_late_updates_cannot_revive(store):
    test = stored_test(store)
    store.quick_tests.patch(test.id, status="running")
    cancelled = store.quick_tests.cancel(test.id)
    assert cancelled.status == "cancelled" and cancelled.completed_at
    test.status = "running"  # a stale copy, as a runner would hold it
    with pytest.raises(InvalidTransitionError, match="is 'cancelled' in the store"):
        store.quick_tests.update(test)
    assert store.quick_tests.get(test.id).status == "cancelled"


def test_deleting_a_config_with_tests_needs_force(store):
    test = stored_test(store)
    with pytest.raises(
        StoreError, match=r"has 1 quick test; delete\(..., force=True\) removes it too"
    ):
        store.model_configs.delete(test.model_config_id)
    assert store.model_configs.count_quick_tests(test.model_config_id) == 1
    assert store.model_configs.delete(test.model_config_id, force=True) == 1
    assert store.quick_tests.list() == []
    assert store.feature_configs.get(test.feature_config_id)


def test_interrupted_tests_are_failed_on_open(tmp_path):
    path = tmp_path / "s.db"
    with Store(path) as store:
        test = stored_test(store)
        store.quick_tests.patch(
            test.id, status="running", current_stage="train", owner_pid=2**22 + 7, worker_pid=None
        )
        alive = stored_test(store)  # owned by this (live) process
        store.quick_tests.patch(alive.id, status="running")
    with Store(path) as store:
        failed = store.quick_tests.get(test.id)
        assert failed.status == "failed" and failed.error_stage == "train"
        assert failed.error_message.startswith("Interrupted")
        assert store.quick_tests.get(alive.id).status == "running"


# ── the database itself ─────────────────────────────────────────────────────────────────


def test_default_store_location_from_env(tmp_path, monkeypatch):
    monkeypatch.setenv("TOWERWIDGETS_STORE", str(tmp_path / "env.db"))
    with Store() as store:
        assert store.url.endswith("env.db")
    monkeypatch.setenv("TOWERWIDGETS_STORE", "")
    monkeypatch.chdir(tmp_path)
    with Store() as store:
        store.model_configs.create(model())
    assert (tmp_path / ".towerwidgets" / "towerwidgets.db").exists()


def test_sqlite_runs_in_wal_mode(store):
    with store.transaction("check") as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_closed_store_says_so(tmp_path):
    store = Store(tmp_path / "c.db")
    store.close()
    with pytest.raises(StoreError, match="this store is closed"):
        store.model_configs.list()


def test_corrupt_file_is_a_clear_error_and_untouched(tmp_path):
    path = tmp_path / "corrupt.db"
    path.write_bytes(b"this is not sqlite" * 100)
    before = path.read_bytes()
    with pytest.raises(StoreError, match="is not a readable towerwidgets store"):
        Store(path)
    assert path.read_bytes() == before


def test_locked_database_is_a_clear_error(tmp_path, monkeypatch):
    import sqlite3

    from towerwidgets.store import store as store_module

    path = tmp_path / "locked.db"
    Store(path).close()
    monkeypatch.setattr(store_module, "BUSY_TIMEOUT_MS", 200)
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StoreError, match="is locked by another process"):
            Store(path, recover=False).model_configs.create(model())
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    with Store(path) as store:
        assert store.model_configs.list() == []
