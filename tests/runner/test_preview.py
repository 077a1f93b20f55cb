"""The recommendation preview on real quick tests: a real worker trains, a real serving
worker loads the export; an independent TensorFlow process checks the answers."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from runner_helpers import model_config

from towerwidgets.runner import run_quick_test
from towerwidgets.runner.preview import Previewer, PreviewError, serving_worker

pytestmark = pytest.mark.slow

MOVIELENS = Path(__file__).resolve().parents[3] / "shared" / "data" / "movielens-latest-small"
if not MOVIELENS.is_dir():
    MOVIELENS = Path("/work/shared/data/movielens-latest-small")

# Scores every input row with a signature of the SavedModel, in its own TensorFlow process
# (not the serving worker): the reference the preview is checked against.
_SCORE = textwrap.dedent(
    """
    import json, os, sys
    os.environ["TF_USE_LEGACY_KERAS"] = "1"
    import tensorflow as tf
    job = json.load(sys.stdin)
    fn = tf.saved_model.load(job["export"]).signatures[job["signature"]]
    _, specs = fn.structured_input_signature
    inputs = {k: tf.constant(v, dtype=specs[k].dtype) for k, v in job["inputs"].items()}
    out = {k: v.numpy().tolist() for k, v in fn(**inputs).items()}
    out = {k: [[x.decode() if isinstance(x, bytes) else x for x in row]
               if isinstance(row, list) else row for row in v] for k, v in out.items()}
    print(json.dumps(out))
    """
)


def _score(export: str, signature: str, inputs: dict) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", _SCORE],
        input=json.dumps({"export": export, "signature": signature, "inputs": inputs}),
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def qt_store_path(tmp_path_factory):
    return tmp_path_factory.mktemp("preview-store") / "store.db"


@pytest.fixture(scope="module")
def qt_store(qt_store_path):
    from towerwidgets.store import Store

    store = Store(qt_store_path)
    yield store
    store.close()


@pytest.fixture(scope="module")
def sample_data():
    from towerwidgets.datasets import sample

    # 80 products: the retrieval index (top 100) then scores every one of them.
    return sample(n_buyers=120, n_products=80, n_interactions=2500, n_categories=6, seed=5)


@pytest.fixture(scope="module")
def sample_features():
    from towerwidgets.config import Feature, FeatureConfig

    return FeatureConfig(
        name="preview features",
        buyer_id_column="buyer_id",
        product_id_column="product_id",
        buyer_features=[
            Feature(column="buyer_id", embedding_dim=16),
            Feature(column="buyer_region", embedding_dim=4),
        ],
        product_features=[
            Feature(column="product_id", embedding_dim=16),
            Feature(column="category", embedding_dim=8),
            Feature(column="price", transform="normalize"),
        ],
    )


def _run(store, home, fc, data, model_type, rating_column=None):
    record = run_quick_test(
        fc,
        model_config(model_type, epochs=2),
        data,
        rating_column=rating_column,
        store=store,
        home=home,
    )
    assert record.status == "completed", record.error_message
    return record


@pytest.fixture(scope="module")
def retrieval_test(qt_store, tmp_path_factory, sample_data, sample_features):
    home = tmp_path_factory.mktemp("preview-home")
    return _run(qt_store, home, sample_features, sample_data, "retrieval")


@pytest.fixture(scope="module")
def ranking_test(qt_store, tmp_path_factory, sample_data, sample_features):
    home = tmp_path_factory.mktemp("preview-home")
    return _run(qt_store, home, sample_features, sample_data, "ranking", "rating")


@pytest.fixture(scope="module")
def movielens_test(qt_store, tmp_path_factory):
    from towerwidgets.config import Feature, FeatureConfig

    ratings = pd.read_csv(MOVIELENS / "ratings.csv")
    ratings = ratings[ratings["userId"] <= 60].reset_index(drop=True)
    fc = FeatureConfig(
        name="movielens ids",
        buyer_id_column="userId",
        product_id_column="movieId",
        buyer_features=[Feature(column="userId", embedding_dim=16)],
        product_features=[Feature(column="movieId", embedding_dim=16)],
    )
    home = tmp_path_factory.mktemp("preview-home")
    return _run(qt_store, home, fc, ratings, "retrieval"), ratings


def _alive(pid: int) -> bool:
    """Running (a zombie or a missing process counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _wait_gone(pid: int, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.1)
    return False


def test_top_10_is_the_best_of_every_candidate_scored_by_the_loaded_model(
    retrieval_test, qt_store, sample_data
):
    preview = Previewer(retrieval_test.id, store=qt_store)
    try:
        buyer = preview.buyers("B000")[3]
        top = preview.recommend(buyer)
        assert list(top["rank"]) == list(range(1, 11))
        # The reference: the loaded model's signature in another process, over all 80
        # candidates (k = min(100, candidates) scores each of them once).
        features = {f["column"]: f["value"] for f in preview.feature_fields(buyer)}
        reference = _score(
            retrieval_test.export_path,
            "serving_default",
            {name: [features[column]] for column, (name, _) in preview.serving_inputs.items()},
        )
        ids, scores = reference["product_ids"][0], np.array(reference["scores"][0])
        assert sorted(ids) == sorted(sample_data["product_id"].unique())
        best = np.argsort(-scores, kind="stable")[:10]
        assert list(top["product_id"]) == [ids[i] for i in best]
        np.testing.assert_allclose(top["score"], scores[best], rtol=1e-5)
        # attributes of the products (no product table: their latest features)
        latest = sample_data.drop_duplicates("product_id", keep="last").set_index("product_id")
        assert list(top["category"]) == list(latest.loc[top["product_id"], "category"])
        # typed features give the same answer as the buyer id they came from
        typed = preview.recommend(features=features)
        assert list(typed["product_id"]) == list(top["product_id"])
        assert not typed["in_history"].any()  # typed features have no history
    finally:
        preview.close()


def test_history_is_the_buyers_training_rows(retrieval_test, qt_store, sample_data):
    preview = Previewer(retrieval_test, store=qt_store)
    splits = Path(retrieval_test.export_path).parent / "splits"
    train = pd.read_parquet(splits / "train.parquet")
    evaluation = pd.read_parquet(splits / "eval.parquet")
    buyer = preview.buyers("B")[0]
    history = preview.history(buyer)
    mine = sample_data[sample_data["buyer_id"] == buyer]
    n_eval = int((evaluation["buyer_id"] == buyer).sum())
    assert len(history) == len(mine) - n_eval == int((train["buyer_id"] == buyer).sum()) > 0
    assert sorted(history["product_id"]) == sorted(train[train["buyer_id"] == buyer]["product_id"])
    top = preview.recommend(buyer, k=100)
    assert set(top[top["in_history"]]["product_id"]) == set(history["product_id"]) & set(
        top["product_id"]
    )
    fresh = preview.recommend(buyer, k=10, exclude_history=True)
    expected = top[~top["in_history"]].head(10)
    assert list(fresh["product_id"]) == list(expected["product_id"])
    assert list(fresh["rank"]) == list(range(1, len(fresh) + 1))
    assert not set(fresh["product_id"]) & set(history["product_id"])


def test_a_test_that_reused_the_cached_transform_keeps_its_splits_too(
    retrieval_test, qt_store, sample_data, sample_features
):
    home = Path(retrieval_test.export_path).parents[2]  # <home>/runs/<run>/model
    again = run_quick_test(
        sample_features,
        model_config("retrieval", epochs=1, learning_rate=0.05, name="other model"),
        sample_data,
        store=qt_store,
        home=home,
    )
    assert again.status == "completed", again.error_message
    assert again.vocabulary_stats["transform_cache_hit"] is True
    first, second = Previewer(retrieval_test, store=qt_store), Previewer(again, store=qt_store)
    buyer = first.buyers("B")[0]
    assert second.history(buyer).equals(first.history(buyer))  # same split, same seed
    assert len(second.recommend(buyer)) == 10
    second.close()


def test_buyer_search_is_by_id_prefix_and_bounded(retrieval_test, qt_store):
    preview = Previewer(retrieval_test.id, store=qt_store)
    every = preview.buyers("", limit=10_000)
    assert len(every) == preview.n_buyers and every == sorted(every)
    assert preview.buyers("B0001") == [b for b in every if b.startswith("B0001")][:50]
    assert len(preview.buyers("", limit=7)) == 7
    assert preview.buyers("nobody") == []
    fields = preview.feature_fields(every[0])
    assert [f["column"] for f in fields] == ["buyer_id", "buyer_region"]
    assert fields[0]["value"] == every[0] and fields[1]["kind"] == "string"
    # An id read from a DataFrame column (numpy int64, e.g. a sweep's test_id) works too.
    assert Previewer(np.int64(retrieval_test.id), store=qt_store).record.id == retrieval_test.id


def test_ranking_preview_predicts_the_eval_rows_and_ranks_every_candidate(ranking_test, qt_store):
    preview = Previewer(ranking_test.id, store=qt_store)
    try:
        splits = Path(ranking_test.export_path).parent / "splits"
        evaluation = pd.read_parquet(splits / "eval.parquet")
        buyer = evaluation["buyer_id"].value_counts().index[0]
        rows = evaluation[evaluation["buyer_id"] == buyer].reset_index(drop=True)
        rated = preview.ratings(buyer)
        assert list(rated["product_id"]) == list(rows["product_id"])
        assert list(rated["actual"]) == list(rows["rating"].astype(float))
        reference = _score(
            ranking_test.export_path,
            "serving_default",
            {name: rows[column].tolist() for column, (name, _) in preview.rating_inputs.items()},
        )
        np.testing.assert_allclose(rated["predicted"], reference["rating"], rtol=1e-5)
        np.testing.assert_allclose(rated["error"], rated["predicted"] - rated["actual"])

        candidates = pd.read_parquet(splits / "candidates.parquet")
        buyer_row = {f["column"]: f["value"] for f in preview.feature_fields(buyer)}
        inputs = {
            name: candidates[column].tolist()
            if column in preview.product_columns
            else [buyer_row[column]] * len(candidates)
            for column, (name, _) in preview.rating_inputs.items()
        }
        every = np.array(_score(ranking_test.export_path, "serving_default", inputs)["rating"])
        best = np.argsort(-every, kind="stable")[:10]
        top = preview.recommend(buyer)
        assert list(top["product_id"]) == list(candidates["product_id"].iloc[best])
        np.testing.assert_allclose(top["score"], every[best], rtol=1e-5)
    finally:
        preview.close()


def test_multitask_recommends_with_the_index_and_rates_with_the_rating_signature(
    qt_store, tmp_path_factory, sample_data, sample_features
):
    home = tmp_path_factory.mktemp("preview-home")
    record = _run(qt_store, home, sample_features, sample_data, "multitask", "rating")
    with Previewer(record.id, store=qt_store) as preview:
        splits = Path(record.export_path).parent / "splits"
        evaluation = pd.read_parquet(splits / "eval.parquet")
        buyer = evaluation["buyer_id"].value_counts().index[0]
        top = preview.recommend(buyer)
        assert len(top) == 10 and "predicted_rating" in top.columns
        candidates = pd.read_parquet(splits / "candidates.parquet").set_index("product_id")
        picked = candidates.loc[list(top["product_id"])].reset_index()
        buyer_row = {f["column"]: f["value"] for f in preview.feature_fields(buyer)}
        inputs = {
            name: picked[column].tolist()
            if column in preview.product_columns
            else [buyer_row[column]] * len(picked)
            for column, (name, _) in preview.rating_inputs.items()
        }
        reference = _score(record.export_path, "rating", inputs)["rating"]
        np.testing.assert_allclose(top["predicted_rating"], reference, rtol=1e-5)
        rated = preview.ratings(buyer)
        assert len(rated) == int((evaluation["buyer_id"] == buyer).sum())
        assert rated["predicted"].notna().all()


def test_movielens_titles_and_genres_join_the_recommendations_and_history(movielens_test, qt_store):
    record, ratings = movielens_test
    movies = pd.read_csv(MOVIELENS / "movies.csv")
    preview = Previewer(record.id, products=MOVIELENS / "movies.csv", store=qt_store)
    try:
        assert preview.buyers("1")[:3] == ["1", "10", "11"]
        top = preview.recommend(7)  # a numeric id works as well as the text "7"
        by_id = movies.set_index("movieId")
        ids = [int(i) for i in top["movieId"]]
        assert list(top["title"]) == list(by_id.loc[ids, "title"])
        assert list(top["genres"]) == list(by_id.loc[ids, "genres"])
        history = preview.history("7")
        train_ids = set(ratings[ratings["userId"] == 7]["movieId"].astype(str))
        assert set(history["movieId"]) <= train_ids and len(history) > 0
        assert history["title"].notna().all()
    finally:
        preview.close()


def test_clear_messages_for_unknown_buyers_unfinished_tests_and_missing_exports(
    retrieval_test, qt_store, add_quick_test, sample_features, tmp_path
):
    preview = Previewer(retrieval_test.id, store=qt_store)
    with pytest.raises(PreviewError, match="Buyer 'X123' is not in quick test"):
        preview.recommend("X123")
    with pytest.raises(PreviewError, match=r"is not in quick test .*; buyers starting with 'B'"):
        preview.history("B99999")
    with pytest.raises(PreviewError, match="predicts no ratings"):
        preview.ratings("B00001")
    with pytest.raises(PreviewError, match="Unknown buyer feature"):
        preview.recommend(features={"buyer_id": "B1", "buyer_region": "x", "age": 3})
    with pytest.raises(PreviewError, match="missing: buyer_region"):
        preview.recommend(features={"buyer_id": "B1"})
    with pytest.raises(PreviewError, match="k must be a positive"):
        preview.recommend("B00001", k=0)

    fc = qt_store.feature_configs.create(sample_features)
    mc = qt_store.model_configs.create(model_config("retrieval"))
    pending = add_quick_test(qt_store, fc, mc)
    with pytest.raises(PreviewError, match=f"Quick test {pending.id} is pending"):
        Previewer(pending.id, store=qt_store)
    with pytest.raises(PreviewError, match="There is no quick test 9999"):
        Previewer(9999, store=qt_store)
    remote = retrieval_test.model_copy(
        update={"export_path": "gs://bucket/run/model", "backend": "vertex"}
    )
    with pytest.raises(PreviewError, match="ran on vertex: its model is at gs://bucket"):
        Previewer(remote)
    gone = retrieval_test.model_copy(update={"export_path": str(tmp_path / "gone")})
    with pytest.raises(PreviewError, match=r"has no exported model .*run the test again"):
        Previewer(gone)
    # an export without its splits (a run from before previews, or cleaned)
    copied = tmp_path / "run" / "model"
    shutil.copytree(retrieval_test.export_path, copied)
    with pytest.raises(PreviewError, match="kept no data splits"):
        Previewer(retrieval_test.model_copy(update={"export_path": str(copied)}))
    # a model the serving worker cannot load: a message, not a hang
    shutil.copytree(Path(retrieval_test.export_path).parent / "splits", tmp_path / "run" / "splits")
    (copied / "saved_model.pb").write_bytes(b"not a model")
    broken = Previewer(retrieval_test.model_copy(update={"export_path": str(copied)}))
    with pytest.raises(PreviewError, match="Cannot load the exported model"):
        broken.recommend("B00001")
    broken.close()


def test_the_serving_worker_is_reused_then_closed_and_a_killed_one_is_replaced(
    retrieval_test, qt_store
):
    preview = Previewer(retrieval_test.id, store=qt_store)
    first = preview.recommend("B00001")
    pid = preview.worker.pid
    assert _alive(pid)
    again = Previewer(retrieval_test.id, store=qt_store)  # same export: same process
    assert again.worker.pid == pid
    assert list(again.recommend("B00001")["product_id"]) == list(first["product_id"])

    old = preview.worker
    os.kill(pid, signal.SIGKILL)
    assert _wait_gone(pid)
    with pytest.raises(PreviewError, match="serving worker was killed by signal 9"):
        old.call("serving_default", {"buyer_id": ["B00001"], "buyer_region": ["west"]})
    assert list(preview.recommend("B00001")["product_id"]) == list(first["product_id"])
    replacement = preview.worker.pid
    assert replacement != pid
    preview.close()
    assert _wait_gone(replacement)
    assert serving_worker(preview.export_dir).pid != replacement  # a new one on demand
    preview.close()


def test_an_idle_serving_worker_leaves_and_the_next_call_starts_another(
    retrieval_test, qt_store, monkeypatch
):
    import towerwidgets.runner.preview as preview_module

    monkeypatch.setattr(preview_module, "IDLE_TIMEOUT", 1.0)
    with Previewer(retrieval_test.id, store=qt_store) as preview:
        preview.close()  # a worker another test left running
        first = preview.recommend("B00001")
        pid = preview.worker.pid
        assert _wait_gone(pid)  # nobody asked for a second: it left by itself
        assert list(preview.recommend("B00001")["product_id"]) == list(first["product_id"])
        assert preview.worker.pid != pid


def test_the_serving_worker_exits_with_its_kernel(retrieval_test, qt_store, tmp_path):
    script = textwrap.dedent(
        f"""
        import sys, time
        from towerwidgets.config import QuickTest
        from towerwidgets.runner.preview import Previewer
        record = QuickTest.model_validate_json(sys.stdin.read())
        preview = Previewer(record)
        preview.recommend("B00001")
        assert "tensorflow" not in sys.modules  # the kernel side never imports it
        print(preview.worker.pid, flush=True)
        if {"kill"!r} in sys.argv:
            time.sleep(600)
        """
    )
    for how in ("exit", "kill"):
        kernel = subprocess.Popen(
            [sys.executable, "-c", script, how],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
        )
        kernel.stdin.write(retrieval_test.model_dump_json())
        kernel.stdin.close()
        pid = int(kernel.stdout.readline())
        assert _alive(pid)
        if how == "kill":  # no atexit: the worker sees its stdin close and leaves
            kernel.kill()
        kernel.wait(300)
        assert _wait_gone(pid), f"serving worker {pid} outlived its kernel ({how})"


# ── the widget and the CLI ──────────────────────────────────────────────────────────────


def _front_end(widget, kind, **payload):
    replies = []
    widget.send = lambda content, buffers=None: replies.append(content)
    widget._handle_custom_msg({"kind": kind, "id": f"t-{kind}", **payload}, [])
    widget.wait(600)
    return replies


def test_widget_searches_buyers_and_shows_what_the_model_recommends(retrieval_test, qt_store):
    import towerwidgets as tw

    w = tw.preview(retrieval_test.id, store=qt_store)
    try:
        assert repr(w) == (
            f"RecommendationPreview(quick_test={retrieval_test.id}, model_type='retrieval', "
            "buyer='')"
        )
        assert w.n_buyers == len(w.buyers("", limit=10_000)) and len(w.matches) == 50
        w.set_state({"query": "B0010"})  # the search box
        assert w.matches == [b for b in w.buyers("", limit=10_000) if b.startswith("B0010")]
        buyer = w.matches[0]
        replies = _front_end(w, "show", buyer=buyer)
        assert replies[-1]["ok"] is True and w.error == "" and w.status == ""
        expected = w.recommend(buyer)
        assert w.buyer == buyer
        assert [r["product_id"] for r in w.results["rows"]] == list(expected["product_id"])
        assert w.results["columns"][:4] == ["rank", "product_id", "score", "in_history"]
        assert w.history_table["total"] == len(w.history(buyer)) > 0
        assert w.fields[0]["value"] == buyer
        assert w.ratings_table == {}

        w.set_state({"exclude_history": True})  # the checkbox: the buyer is shown again
        w.wait(600)
        fresh = w.recommend(buyer)
        assert [r["product_id"] for r in w.results["rows"]] == list(fresh["product_id"])
        assert not any(r["in_history"] for r in w.results["rows"])
        w.exclude_history = False
        w.wait(600)

        features = {f["column"]: f["value"] for f in w.fields}
        _front_end(w, "recommend_features", values=features)
        assert w.buyer == "" and w.history_table == {}
        assert [r["product_id"] for r in w.results["rows"]] == list(expected["product_id"])

        shown = w.results
        _front_end(w, "show", buyer="nobody")
        assert "Buyer 'nobody' is not in quick test" in w.error
        assert w.results == shown  # a mistake loses nothing
        with pytest.raises(PreviewError, match="missing: buyer_region"):
            w.show(features={"buyer_id": "B1"})
        assert _front_end(w, "show", buyer="  ")[-1]["ok"] is False
        with pytest.raises(TypeError, match="unexpected keyword"):
            tw.RecommendationPreview(retrieval_test.id, store=qt_store, colour="red")
        pid = w._previewer.worker.pid
    finally:
        w.close()
    assert _wait_gone(pid)


def test_widget_shows_predicted_vs_actual_for_a_ranking_model(ranking_test, qt_store):
    from towerwidgets.widgets import RecommendationPreview

    w = RecommendationPreview(ranking_test.id, store=qt_store)
    try:
        splits = Path(ranking_test.export_path).parent / "splits"
        evaluation = pd.read_parquet(splits / "eval.parquet")
        buyer = evaluation["buyer_id"].value_counts().index[0]
        w.show(buyer)
        assert w.ratings_table["columns"][:4] == ["product_id", "actual", "predicted", "error"]
        expected = w.ratings(buyer)
        assert [r["predicted"] for r in w.ratings_table["rows"]] == pytest.approx(
            list(expected["predicted"])
        )
        assert w.ratings_table["total"] == int((evaluation["buyer_id"] == buyer).sum())
    finally:
        w.close()


def test_quick_test_panel_opens_a_preview_of_a_completed_test(
    retrieval_test, ranking_test, qt_store, add_quick_test, sample_features
):
    from towerwidgets.widgets import QuickTestPanel, RecommendationPreview

    panel = QuickTestPanel(store=qt_store)
    try:
        assert retrieval_test.id in [r["id"] for r in panel.recent]
        _front_end(panel, "preview", test_id=retrieval_test.id)
        first = panel.preview
        assert isinstance(first, RecommendationPreview)
        assert first.quick_test_id == retrieval_test.id and first.model_type == "retrieval"
        first.show("B00001")
        assert first.results["rows"]
        _front_end(panel, "preview", test_id=ranking_test.id)  # replaces the first
        assert panel.preview.model_type == "ranking" and first.comm is None

        fc = qt_store.feature_configs.create(sample_features)
        mc = qt_store.model_configs.create(model_config("retrieval"))
        pending = add_quick_test(qt_store, fc, mc)
        replies = _front_end(panel, "preview", test_id=pending.id)
        assert replies[-1]["ok"] is False
        assert (
            panel.message == f"Quick test {pending.id} is pending; a preview needs a completed test"
        )
        assert panel.preview.model_type == "ranking"  # the shown preview stays
        shown = panel.preview
    finally:
        panel.close()
    assert shown.comm is None  # closing the panel closes its preview (and its worker)


def test_js_reads_exactly_the_synced_traits():
    import re

    from towerwidgets.widgets import RecommendationPreview

    source = (Path(__file__).resolve().parents[2] / "js" / "preview.js").read_text()
    body = re.search(r"export const PREVIEW_TRAITS = \[(.*?)\];", source, re.S).group(1)
    synced = {
        name
        for name in RecommendationPreview.class_traits(sync=True)
        if not name.startswith("_") and name not in ("layout", "tabbable", "tooltip")
    }
    assert set(re.findall(r'"(\w+)"', body)) == synced


def test_cli_prints_the_recommendations_history_and_ratings(
    movielens_test, ranking_test, qt_store, qt_store_path, capsys
):
    from towerwidgets.cli import main

    record, _ = movielens_test
    argv = ["--store", str(qt_store_path), "recommend", "--quick-test", str(record.id)]
    products = ["--products", str(MOVIELENS / "movies.csv")]
    assert main([*argv, "--buyer", "7", *products, "--k", "5"]) == 0
    out = capsys.readouterr().out
    assert f"Quick test {record.id} (retrieval): top 5 for buyer 7" in out
    assert "History of buyer 7 (training split," in out
    with Previewer(record.id, products=MOVIELENS / "movies.csv", store=qt_store) as preview:
        titles = list(preview.recommend("7", k=5)["title"])
    for title in titles:
        assert title[:40] in out

    assert main([*argv, "--buyer", "7", *products, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [r["title"] for r in data["recommendations"][:5]] == titles
    assert len(data["recommendations"]) == 10 and data["history"]
    assert main([*argv, "--buyer", "7", "--json", "--exclude-history"]) == 0
    fresh = json.loads(capsys.readouterr().out)["recommendations"]
    assert fresh and not any(r["in_history"] for r in fresh)

    ranking = ["--store", str(qt_store_path), "recommend", "--quick-test", str(ranking_test.id)]
    assert main([*ranking, "--buyer", "B00002"]) == 0
    assert "Predicted vs actual rating" in capsys.readouterr().out

    assert main([*argv, "--buyer", "nobody"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: Buyer 'nobody' is not in quick test") and "Traceback" not in err
    assert main([*argv, "--buyer", "7", "--products", "/no/such.csv"]) == 1
    assert "does not exist" in capsys.readouterr().err
