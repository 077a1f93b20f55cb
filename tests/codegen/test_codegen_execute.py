"""Generated modules executed for real: tensorflow-transform on Beam's DirectRunner, then
``run_fn`` for one epoch, then the exported SavedModel loaded and served a raw example.

Every preset × model type (15) runs; the three FeatureConfigs rotate so that each model
type and each preset meets every FeatureConfig. ``TOWERWIDGETS_FULL_MATRIX=1`` runs all
45 combinations. One transform per FeatureConfig per session (cached fixture).
"""

from __future__ import annotations

import math
import os

import numpy as np
import pytest
from codegen_helpers import (
    GENERATED_AT,
    MODEL_TYPES,
    PRESETS,
    FnArgs,
    feature_configs,
    load_module,
    model_config,
    rows,
    run_transform,
)

from towerwidgets.codegen import (
    estimate_params_detailed,
    generate_trainer_code,
    generate_transform_code,
    param_breakdown,
)
from towerwidgets.codegen.plan import build_plan

pytestmark = pytest.mark.slow

# TFRS needs Keras 2; set before any test of this worker imports TensorFlow.
os.environ["TF_USE_LEGACY_KERAS"] = "1"

FC_KEYS = ("ids", "rich", "cross")
if os.environ.get("TOWERWIDGETS_FULL_MATRIX"):
    COMBINATIONS = [(p, m, f) for p in PRESETS for m in MODEL_TYPES for f in FC_KEYS]
else:
    COMBINATIONS = [
        (p, m, FC_KEYS[(i + j) % 3])
        for i, p in enumerate(PRESETS)
        for j, m in enumerate(MODEL_TYPES)
    ]


def _group(fc_key):
    """Under ``pytest -n --dist loadgroup`` a FeatureConfig's tests share one worker, so
    each FeatureConfig is transformed once."""
    return pytest.mark.xdist_group(f"codegen-{fc_key}")


MATRIX = [pytest.param(*combo, marks=_group(combo[2])) for combo in COMBINATIONS]

# Hostile but legal column names, run end to end (signature names get sanitized).
HOSTILE_COLUMNS = {
    "user_id": "user id 'quoted'",
    "item_id": 'item "id"\n2',
    "price": "prix (€)",
    "genre": "__import__('os').system('exit 3')",
}


@pytest.fixture(scope="session")
def tf():
    os.environ["TF_USE_LEGACY_KERAS"] = "1"
    import tensorflow

    return tensorflow


@pytest.fixture(scope="session")
def data():
    return rows()


@pytest.fixture(scope="session")
def transformed(tf, data, tmp_path_factory):
    """FeatureConfig key -> transform outputs; one Beam run per FeatureConfig."""
    cache: dict[str, dict] = {}

    def get(fc_key: str) -> dict:
        if fc_key not in cache:
            fc = feature_configs()[fc_key]
            code = generate_transform_code(
                fc, rating_column="rating", generated_at=GENERATED_AT
            ).transform_code
            out = tmp_path_factory.mktemp(f"tft_{fc_key}")
            (out / "transform.py").write_text(code)
            module = load_module(out / "transform.py")
            cache[fc_key] = {**run_transform(module, data, out), "transform_code": code}
        return cache[fc_key]

    return get


def _recorder(tf):
    class Recorder(tf.keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.logs = []

        def on_epoch_end(self, epoch, logs=None):
            self.logs.append(dict(logs or {}))

    return Recorder()


def _cast(kind, value):
    return {"string": str, "float": float, "int": int}[kind](value)


def _serving_example(module, row, tf):
    return {
        name: tf.constant([_cast(kind, row[column])], dtype=module._DTYPES[kind])
        for column, (name, kind) in module.SERVING_INPUTS.items()
    }


def _train(tf, tmp_path, fc, mc, out, **custom):
    code = generate_trainer_code(fc, mc, rating_column="rating", generated_at=GENERATED_AT)
    assert code.is_valid, code.validation_error
    if mc.model_type != "retrieval":
        # The module the runner would transform with is the one we transformed with.
        assert code.transform_code == out["transform_code"]
    (tmp_path / "trainer.py").write_text(code.trainer_code)
    module = load_module(tmp_path / "trainer.py")
    recorder = _recorder(tf)
    custom = {"epochs": 1, "batch_size": 128, "seed": 1, "verbose": 0, **custom}
    custom["callbacks"] = [recorder]
    fn_args = FnArgs(
        train_files=[out["train"]],
        eval_files=[out["eval"]],
        transform_output=out["transform_output"],
        serving_model_dir=str(tmp_path / "model"),
        custom_config=custom,
    )
    model = module.run_fn(fn_args)
    return module, model, recorder.logs


def _eval_errors(tf, module, model, out):
    """Predicted minus true rating for every eval row."""
    import tensorflow_transform as tft

    tfo = tft.TFTransformOutput(out["transform_output"])
    dataset = module._input_fn(out["eval"], FnArgs([], [], "", "").data_accessor, tfo, 64)
    errors = [
        np.reshape(model(batch, training=False).numpy(), [-1])
        - np.reshape(batch[module.LABEL_FEATURE_KEY].numpy(), [-1])
        for batch in dataset
    ]
    return np.concatenate(errors).astype(np.float64)


def _count_params(model):
    """Keras count_params() of a model whose top level is never called (tfrs retrieval):
    the same sum over the deduplicated weights, and count_params() of each tower."""
    for tower in (model.buyer_model, model.product_model):
        assert tower.count_params() == sum(int(np.prod(w.shape)) for w in tower.weights)
    return sum(int(np.prod(w.shape)) for w in model.weights)


def _vocabulary_sizes(tf_transform_output, fc):
    plan = build_plan(fc)
    return {
        f.key: tf_transform_output.vocabulary_size_by_name(f.key)
        for f in plan.features
        if f.kind == "embedding"
    }


@pytest.mark.parametrize(("preset", "model_type", "fc_key"), MATRIX)
def test_generated_modules_train_export_and_serve(
    tf, transformed, data, tmp_path, preset, model_type, fc_key
):
    import tensorflow_transform as tft

    fc, mc = feature_configs()[fc_key], model_config(preset, model_type)
    out = transformed(fc_key)
    module, model, logs = _train(tf, tmp_path, fc, mc, out)

    # Metrics of the runtime contract, after the one epoch.
    assert len(logs) == 1
    epoch = logs[0]
    assert math.isfinite(epoch["loss"]) and math.isfinite(epoch["val_loss"])
    assert 0.0 <= epoch["collapsed_fraction"] <= 1.0
    if model_type in ("retrieval", "multitask"):
        recalls = [epoch[f"recall_at_{k}"] for k in (10, 50, 100)]
        assert all(0.0 <= r <= 1.0 for r in recalls)
        assert recalls == sorted(recalls)
    if model_type in ("ranking", "multitask"):
        assert epoch["rmse"] > 0 and epoch["mae"] > 0
        # Over every eval row, in the evaluation callback's single pass (no Keras
        # validation pass); val_loss is the mean squared error for ranking.
        errors = _eval_errors(tf, module, model, out)
        assert epoch["rmse"] == pytest.approx(float(np.sqrt(np.mean(errors**2))), rel=1e-4)
        assert epoch["mae"] == pytest.approx(float(np.mean(np.abs(errors))), rel=1e-4)
        if model_type == "ranking":
            assert epoch["val_loss"] == pytest.approx(float(np.mean(errors**2)), rel=1e-4)

    # Exact parameter count, without building anything.
    tfo = tft.TFTransformOutput(out["transform_output"])
    sizes = _vocabulary_sizes(tfo, fc)
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    assert estimate_params_detailed(fc, sizes, mc) == trainable
    assert param_breakdown(fc, sizes, mc)["total"] == _count_params(model)

    # The SavedModel serves raw features, with only what serving uses (no optimizer slots,
    # no training metrics).
    saved = tf.train.list_variables(str(tmp_path / "model" / "variables" / "variables"))
    assert not [name for name, _ in saved if "optimizer" in name or "metrics" in name]
    loaded = tf.saved_model.load(str(tmp_path / "model"))
    serve = loaded.signatures["serving_default"]
    result = serve(**_serving_example(module, data[0], tf))
    if model_type == "ranking":
        assert result["rating"].shape == (1,)
        assert np.isfinite(result["rating"].numpy()).all()
    else:
        known = {r["item_id"].encode() for r in data}
        ids = result["product_ids"].numpy()[0]
        scores = result["scores"].numpy()[0]
        assert len(ids) == min(100, len(known)) == len(scores)
        assert set(ids) <= known
        assert list(scores) == sorted(scores, reverse=True)
    if model_type == "multitask":
        example = {
            name: tf.constant([_cast(kind, data[0][column])], dtype=module._DTYPES[kind])
            for column, (name, kind) in module.RATING_INPUTS.items()
        }
        rating = loaded.signatures["rating"](**example)["rating"].numpy()
        assert rating.shape == (1,) and np.isfinite(rating).all()


@pytest.mark.xdist_group("codegen-ids")
def test_shared_tower_weights_and_batch_norm_are_counted_exactly(tf, transformed, tmp_path):
    """Weight sharing counts the dense tower once; batch norm's moving stats are weights
    (count_params) but not trainable (estimate_params_detailed)."""
    import tensorflow_transform as tft

    fc = feature_configs()["ids"]  # equal tower inputs (16D each)
    layers = [
        {"type": "dense", "units": 32, "activation": "relu"},
        {"type": "batch_norm"},
        {"type": "dropout", "rate": 0.1},
        {"type": "dense", "units": 16, "activation": None, "l2_reg": 0.001},
    ]
    mc = model_config(
        "standard",
        "multitask",
        buyer_tower_layers=layers,
        product_tower_layers=layers,
        output_embedding_dim=16,
        share_tower_weights=True,
        optimizer="adam",
        learning_rate=0.01,
    )
    out = transformed("ids")
    _, model, _ = _train(tf, tmp_path, fc, mc, out)
    assert model.product_model.dense_layers is model.buyer_model.dense_layers
    tfo = tft.TFTransformOutput(out["transform_output"])
    sizes = _vocabulary_sizes(tfo, fc)
    breakdown = param_breakdown(fc, sizes, mc)
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    assert estimate_params_detailed(fc, sizes, mc) == trainable
    assert breakdown["non_trainable"] == 2 * 32 > 0
    assert breakdown["total"] == _count_params(model)
    # Vocabulary sizes by raw column name work too (distinct values in the train split).
    by_column = {"user_id": sizes["buyer_user_id"], "item_id": sizes["product_item_id"]}
    assert estimate_params_detailed(fc, by_column, mc) == trainable


@pytest.mark.xdist_group("codegen-ids")
def test_recall_is_zero_when_every_embedding_is_equal(tf, transformed, tmp_path):
    """Collapsed towers: stock FactorizedTopK would say 1.0; tie-aware recall says 0."""
    fc, mc = feature_configs()["ids"], model_config("minimal", "retrieval")
    out = transformed("ids")
    module, model, _ = _train(tf, tmp_path, fc, mc, out)
    assert len(set(module.__dict__) & {"tie_aware_hits", "EvaluationCallback"}) == 2
    for weight in model.product_model.weights:
        weight.assign(tf.zeros_like(weight))
    evaluation = module.EvaluationCallback(
        model,
        module._input_fn(
            [out["eval"]], FnArgs([], [], "", "").data_accessor, _tfo(out), batch_size=64
        ),
        *module._collect_candidates(
            [module._input_fn([out["train"]], FnArgs([], [], "", "").data_accessor, _tfo(out), 64)]
        ),
    )
    assert len(evaluation.candidate_ids) > 100  # more candidates than the largest K
    logs = {}
    evaluation.on_epoch_end(0, logs)
    assert logs["recall_at_10"] == logs["recall_at_50"] == logs["recall_at_100"] == 0.0
    assert logs["collapsed_fraction"] == 1.0

    # The pure function: equal scores everywhere rank every positive last.
    scores = tf.zeros([4, 200])
    hits = module.tie_aware_hits(scores, tf.constant([0, 5, 199, -1]), (10, 100))
    assert not any(bool(h) for k in hits for h in hits[k].numpy())
    # A strictly best positive is a hit at every K; a missing one (-1) never is.
    scores = tf.tensor_scatter_nd_update(scores, [[0, 3]], [1.0])
    hits = module.tie_aware_hits(scores, tf.constant([3, 3, 3, -1]), (1, 10))
    assert hits[1].numpy().tolist() == [True, False, False, False]


def _tfo(out):
    import tensorflow_transform as tft

    return tft.TFTransformOutput(out["transform_output"])


@pytest.mark.xdist_group("codegen-hostile")
def test_hostile_column_names_run_end_to_end(tf, tmp_path):
    """Quotes, newlines, unicode and code-looking column names: transform, train, serve."""
    fc = feature_configs()["rich"].model_copy(deep=True)
    fc.name = "name\n'''\"\"\" __import__('os').system('exit 3')"
    fc.buyer_id_column = HOSTILE_COLUMNS["user_id"]
    fc.product_id_column = HOSTILE_COLUMNS["item_id"]
    fc.buyer_features[0].column = HOSTILE_COLUMNS["user_id"]
    fc.product_features[0].column = HOSTILE_COLUMNS["item_id"]
    fc.product_features[1].column = HOSTILE_COLUMNS["genre"]
    fc.product_features[2].column = HOSTILE_COLUMNS["price"]
    data = rows(columns=HOSTILE_COLUMNS)
    code = generate_transform_code(
        fc, rating_column="rating", generated_at=GENERATED_AT
    ).transform_code
    (tmp_path / "transform.py").write_text(code)
    out = run_transform(load_module(tmp_path / "transform.py"), data, tmp_path)
    out["transform_code"] = code
    mc = model_config("minimal", "multitask")
    module, _, logs = _train(tf, tmp_path, fc, mc, out)
    assert 0 <= logs[0]["recall_at_100"] <= 1
    serve = tf.saved_model.load(str(tmp_path / "model")).signatures["serving_default"]
    names = {name for name, _ in module.SERVING_INPUTS.values()}
    assert "user_id_quoted" in names  # sanitized: TensorFlow refuses the raw name
    result = serve(**_serving_example(module, data[0], tf))
    assert result["product_ids"].shape[0] == 1


@pytest.mark.parametrize("model_type", ["retrieval", "multitask"])
def test_loss_and_val_loss_are_per_example_whatever_the_batch_size(
    tf, transformed, tmp_path, model_type
):
    """TFRS's Retrieval task sums its loss over the batch; the logged loss and val_loss
    are per example, so runs with different batch sizes compare (issue 11, item 8)."""
    fc, mc = feature_configs()["ids"], model_config("minimal", model_type)
    out = transformed("ids")
    epochs = {}
    for batch in (16, 256):
        (tmp_path / str(batch)).mkdir()
        module, model, logs = _train(
            tf, tmp_path / str(batch), fc, mc, out, batch_size=batch, epochs=2
        )
        epochs[batch] = logs[-1]
        # The epoch's mean restarts every epoch: it counts the last epoch's examples only.
        train = module._input_fn(
            out["train"],
            FnArgs([], [], "", "").data_accessor,
            module.tft.TFTransformOutput(out["transform_output"]),
            batch,
        )
        n_train = sum(int(tf.shape(b[module.CANDIDATE_ID_KEY])[0]) for b in train)
        assert float(model.loss_per_example.count) == n_train
        # val_loss is the eval rows' mean of the per-example loss, batch by batch.
        dataset = module._input_fn(
            out["eval"],
            FnArgs([], [], "", "").data_accessor,
            module.tft.TFTransformOutput(out["transform_output"]),
            batch,
        )
        total = count = 0.0
        for part in dataset:
            objective, per_example = model.compute_losses(part)
            size = int(tf.shape(part[module.CANDIDATE_ID_KEY])[0])
            if model_type == "retrieval":
                assert float(objective) == pytest.approx(float(per_example) * size, rel=1e-5)
            total, count = total + float(per_example) * size, count + size
        assert epochs[batch]["val_loss"] == pytest.approx(total / count, rel=1e-4)
        assert "loss_per_example" not in epochs[batch]
    # An in-batch softmax over B candidates is about log(B) per example at the start; the
    # sums it replaced were 16x apart here (and val_loss 256x).
    for key in ("loss", "val_loss"):
        assert epochs[256][key] / epochs[16][key] < 4, (key, epochs)


@pytest.mark.parametrize("model_type", ["retrieval", "multitask"])
def test_in_batch_softmax_loss_equals_tfrs_retrieval_task(tf, tmp_path, model_type):
    """The generated XLA-compiled loss is tfrs.tasks.Retrieval()'s loss: same value and
    same gradients, for full, odd-sized and single-row batches."""
    import tensorflow_recommenders as tfrs

    fc, mc = feature_configs()["ids"], model_config("minimal", model_type)
    code = generate_trainer_code(fc, mc, rating_column="rating", generated_at=GENERATED_AT)
    (tmp_path / "trainer.py").write_text(code.trainer_code)
    module = load_module(tmp_path / "trainer.py")
    assert "in_batch_softmax_loss(buyer_embeddings, product_embeddings)" in code.trainer_code
    task = tfrs.tasks.Retrieval()
    for size, seed in ((256, 0), (37, 1), (1, 2)):
        queries = tf.Variable(tf.random.stateless_normal([size, 16], [seed, 0]) * 3)
        candidates = tf.Variable(tf.random.stateless_normal([size, 16], [seed, 1]) * 3)
        losses, gradients = [], []
        for loss_fn in (module.in_batch_softmax_loss, task):
            with tf.GradientTape() as tape:
                loss = loss_fn(queries, candidates)
            losses.append(float(loss))
            gradients.append([g.numpy() for g in tape.gradient(loss, [queries, candidates])])
        assert losses[0] == pytest.approx(losses[1], rel=1e-5)
        for ours, theirs in zip(*gradients, strict=True):
            np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-5)
