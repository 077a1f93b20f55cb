"""Code generation without TensorFlow: the response, compatibility rules, determinism,
formatting and lint, injection safety (hypothesis), the literals of the runtime contract."""

from __future__ import annotations

import ast
import io
import os
import subprocess
import sys
import tokenize
import types
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from unittest import mock

import pandas as pd
import pytest
from codegen_helpers import (
    GENERATED_AT,
    MODEL_TYPES,
    PRESETS,
    feature_configs,
    model_config,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from towerwidgets.codegen import (
    estimate_params_detailed,
    generate_trainer_code,
    generate_transform_code,
    param_breakdown,
)
from towerwidgets.codegen.naming import Namer, py_str, sanitize
from towerwidgets.config import Feature, FeatureConfig
from towerwidgets.errors import ConfigValidationError

ROOT = Path(__file__).resolve().parents[2]
RUFF = [sys.executable, "-m", "ruff"]


def _generate(fc_key="rich", preset="standard", model_type="multitask", **kw):
    fc = feature_configs()[fc_key]
    mc = model_config(preset, model_type)
    kw.setdefault("rating_column", "rating")
    kw.setdefault("generated_at", GENERATED_AT)
    return generate_trainer_code(fc, mc, **kw)


def _literals(source: str) -> dict:
    """Module-level literal assignments, read the way the runner reads them."""
    values = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name):
                try:
                    values[target.id] = ast.literal_eval(node.value)
                except ValueError:
                    pass
    return values


# ── the response ─────────────────────────────────────────────────────────────────────────


def test_response_has_both_modules_and_the_specs_summaries():
    result = _generate()
    assert result.is_valid and result.validation_error is None
    assert result.trainer_code.startswith("# Auto-generated TFX Trainer Module\n")
    assert result.transform_code.startswith("# Auto-generated TFX Transform Module\n")
    fc, mc = result.feature_config, result.model_config
    assert fc["id"] == 2 and fc["name"] == "IDs + numeric + timestamp"
    assert (fc["buyer_tensor_dim"], fc["product_tensor_dim"]) == (20, 24)
    assert mc["model_type"] == "multitask"
    assert mc["buyer_tower_summary"] == mc["product_tower_summary"] == "128→64→32"
    assert set(result.to_dict()) >= {"trainer_code", "transform_code", "is_valid"}


def test_trainer_follows_the_specs_structure():
    code = _generate().trainer_code
    header = code.splitlines()[:6]
    assert header[2] == '# FeatureConfig: "IDs + numeric + timestamp" (ID: 2)'
    assert header[3] == '# ModelConfig: "standard multitask" (ID: 7)'
    assert header[4] == "# Model Type: multitask"
    assert header[5] == f"# Generated at: {GENERATED_AT}"
    order = [
        "# BUYER MODEL (Query Tower)",
        "# Input: 20D tensor from FeatureConfig",
        "# Architecture: 128→64→32 from ModelConfig",
        "class BuyerModel(tf.keras.Model):",
        "# PRODUCT MODEL (Candidate Tower)",
        "class ProductModel(tf.keras.Model):",
        "# MULTITASK MODEL",
        "class MultitaskModel(Recommender):",
        "# TFX TRAINER ENTRY POINT",
        "def run_fn(fn_args):",
    ]
    positions = [code.index(marker) for marker in order]
    assert positions == sorted(positions)
    assert 'os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")' in code
    assert code.index("TF_USE_LEGACY_KERAS") < code.index("import tensorflow")
    assert "tfrs.metrics.FactorizedTopK" not in code
    assert 'vocabulary_size("buyer_user_id") + NUM_OOV_BUCKETS' in code
    assert "RETRIEVAL_WEIGHT * retrieval_loss + RANKING_WEIGHT * ranking_loss" in code


@pytest.mark.parametrize("model_type", MODEL_TYPES)
def test_model_class_matches_the_model_type(model_type):
    code = _generate(model_type=model_type).trainer_code
    classes = {"RetrievalModel", "RankingModel", "MultitaskModel"}
    expected = {"retrieval": "RetrievalModel", "ranking": "RankingModel"}.get(
        model_type, "MultitaskModel"
    )
    assert f"class {expected}(Recommender):" in code
    for other in classes - {expected}:
        assert f"class {other}(" not in code
    assert ("recall_at_" in code) == (model_type != "ranking")
    assert ('logs["rmse"]' in code) == (model_type != "retrieval")


@pytest.mark.parametrize(
    ("optimizer", "name"), [("adagrad", "Adagrad"), ("adam", "Adam"), ("sgd", "SGD")]
)
def test_optimizer_and_hyperparameters_come_from_the_model_config(optimizer, name):
    fc = feature_configs()["ids"]
    mc = model_config("minimal", "retrieval", optimizer=optimizer, learning_rate=0.005)
    mc.batch_size, mc.epochs = 512, 3
    code = generate_trainer_code(fc, mc, generated_at=GENERATED_AT).trainer_code
    assert f"tf.keras.optimizers.{name}(learning_rate=learning_rate)" in code
    assert {"LEARNING_RATE": 0.005, "BATCH_SIZE": 512, "EPOCHS": 3}.items() <= _literals(
        code
    ).items()


def test_layers_are_generated_with_activation_l2_dropout_and_batch_norm():
    fc = feature_configs()["ids"]
    layers = [
        {"type": "dense", "units": 32, "activation": "gelu", "l2_reg": 0.01},
        {"type": "batch_norm"},
        {"type": "dropout", "rate": 0.25},
        {"type": "dense", "units": 16, "activation": None},
    ]
    mc = model_config(
        "minimal",
        "retrieval",
        buyer_tower_layers=layers,
        product_tower_layers=layers,
        output_embedding_dim=16,
        share_tower_weights=True,
    )
    code = generate_trainer_code(fc, mc, generated_at=GENERATED_AT).trainer_code
    assert (
        "tf.keras.layers.Dense(\n"
        "                    32,\n"
        '                    activation="gelu",\n'
        "                    kernel_regularizer=tf.keras.regularizers.l2(0.01),\n"
    ) in code
    assert "tf.keras.layers.BatchNormalization()," in code
    assert "tf.keras.layers.Dropout(0.25)," in code
    assert "tf.keras.layers.Dense(16)," in code
    assert "ProductModel(tf_transform_output, buyer_model.dense_layers)" in code
    assert code.count("tf.keras.layers.Dropout(0.25)") == 1  # one tower, shared


# ── compatibility rules ──────────────────────────────────────────────────────────────────


@pytest.mark.parametrize("model_type", ["ranking", "multitask"])
def test_ranking_and_multitask_need_a_rating_column(model_type):
    result = _generate(model_type=model_type, rating_column=None)
    assert not result.is_valid
    assert result.trainer_code == result.transform_code == ""
    assert "needs a rating column" in result.validation_error
    assert result.model_config["model_type"] == model_type  # summaries still there


def test_retrieval_needs_no_rating_column_and_passes_no_label():
    result = _generate(model_type="retrieval", rating_column=None)
    assert result.is_valid
    assert _literals(result.transform_code)["LABEL_KEY"] is None
    assert "LABEL_FEATURE_KEY]" not in result.transform_code


def test_rating_column_must_be_numeric_when_data_is_given():
    df = pd.DataFrame(
        {
            "user_id": ["a", "b"],
            "item_id": ["x", "y"],
            "age": [1.0, 2.0],
            "ts": [1, 2],
            "genre": ["g", "h"],
            "price": [1.0, 2.0],
            "rating": ["good", "bad"],
        }
    )
    result = _generate(data=df)
    assert not result.is_valid
    assert "rating column 'rating' has dtype" in result.validation_error
    df["rating"] = [4.0, 5.0]
    assert _generate(data=df).is_valid
    missing = _generate(data=df.drop(columns=["age"]))
    assert "Column 'age' (buyer feature) is not in the data" in missing.validation_error


def test_shared_weights_need_equal_input_dims_and_identical_layers():
    fc = feature_configs()["rich"]  # buyer 20D, product 24D
    mc = model_config("standard", "retrieval", share_tower_weights=True)
    result = generate_trainer_code(fc, mc)
    assert not result.is_valid
    assert "buyer tower gets 20D and the product tower 24D" in result.validation_error
    mc = model_config("asymmetric", "retrieval", share_tower_weights=True)
    result = generate_trainer_code(feature_configs()["ids"], mc)
    assert "Weight sharing requires identical tower architectures" in result.validation_error
    mc = model_config("standard", "retrieval", share_tower_weights=True)
    assert generate_trainer_code(feature_configs()["ids"], mc).is_valid


def test_both_configs_must_be_valid_and_every_problem_is_one_line():
    fc = FeatureConfig(name="", buyer_id_column="u", product_id_column="u")
    mc = model_config("standard", "ranking", output_embedding_dim=4)
    result = generate_trainer_code(fc, mc, rating_column="r")
    assert not result.is_valid
    lines = result.validation_error.splitlines()
    assert lines == result.errors
    assert "Feature config: Feature config name is required" in lines
    assert "Model config: Output embedding dimension should be at least 8" in lines
    assert all(line.strip() for line in lines)


def test_label_must_not_be_a_feature():
    result = _generate(rating_column="age")
    assert not result.is_valid
    assert "Rating column 'age' is also a feature" in result.validation_error


def test_both_generators_report_an_invalid_config_the_same_way():
    bad = FeatureConfig(name="x", buyer_id_column="u")
    transform = generate_transform_code(bad)
    trainer = generate_trainer_code(bad, model_config("minimal", "retrieval"))
    for result in (transform, trainer):
        assert not result.is_valid and result.transform_code == result.trainer_code == ""
        assert "Product id column is required" in result.validation_error
        with pytest.raises(ConfigValidationError, match="Product id column is required"):
            result.raise_for_errors()
        with pytest.raises(ConfigValidationError):
            result.write("never-written")


# ── determinism, formatting, lint ────────────────────────────────────────────────────────


def test_same_inputs_and_timestamp_give_identical_bytes():
    a, b = _generate(), _generate()
    assert a.trainer_code == b.trainer_code and a.transform_code == b.transform_code
    fc = feature_configs()["rich"]
    copy = FeatureConfig.from_json(fc.to_json())
    mc = model_config("standard", "multitask")
    c = generate_trainer_code(copy, mc, rating_column="rating", generated_at=GENERATED_AT)
    assert c.trainer_code == a.trainer_code


def test_output_does_not_depend_on_the_process_hash_seed():
    script = (
        "import hashlib, sys\n"
        "sys.path.insert(0, 'tests/codegen')\n"
        "from codegen_helpers import feature_configs, model_config, GENERATED_AT\n"
        "from towerwidgets.codegen import generate_trainer_code\n"
        "r = generate_trainer_code(feature_configs()['cross'], model_config('deep', 'multitask'),"
        " rating_column='rating', generated_at=GENERATED_AT)\n"
        "print(hashlib.sha256((r.trainer_code + r.transform_code).encode()).hexdigest())\n"
    )
    digests = set()
    for seed in ("1", "2"):
        done = subprocess.run(
            [sys.executable, "-c", script],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)},
        )
        assert done.returncode == 0, done.stderr
        digests.add(done.stdout.strip())
    assert len(digests) == 1


def test_generation_time_only_changes_the_header():
    a = _generate(generated_at=datetime(2026, 5, 1, 12, 0, tzinfo=timezone.utc))
    b = _generate(generated_at=datetime(2026, 5, 2, 12, 0, tzinfo=timezone.utc))
    diff = [
        (x, y)
        for x, y in zip(a.trainer_code.splitlines(), b.trainer_code.splitlines(), strict=True)
        if x != y
    ]
    assert diff == [
        ("# Generated at: 2026-05-01T12:00:00Z", "# Generated at: 2026-05-02T12:00:00Z")
    ]
    assert "# Generated at: 20" in _generate(generated_at=None).trainer_code


def _extra_pairs():
    """Corners the presets do not reach: a numbers-only tower, shared weights with batch
    norm and dropout, SGD, a linear-only rating head."""
    numeric = FeatureConfig(
        name="numbers only buyer",
        buyer_id_column="user_id",
        product_id_column="item_id",
        buyer_features=[
            Feature(column="age", transform="normalize"),
            Feature(column="ts", transform="cyclical", period="day"),
        ],
        product_features=[Feature(column="item_id", embedding_dim=8)],
    )
    layers = [
        {"type": "batch_norm"},
        {"type": "dense", "units": 64, "activation": "tanh", "l2_reg": 0.001},
        {"type": "dropout", "rate": 0.3},
        {"type": "dense", "units": 16, "activation": None},
    ]
    shared = model_config(
        "standard",
        "multitask",
        buyer_tower_layers=layers,
        product_tower_layers=layers,
        output_embedding_dim=16,
        share_tower_weights=True,
        optimizer="sgd",
        rating_head_layers=[{"type": "dense", "units": 1, "activation": None}],
    )
    for model_type in MODEL_TYPES:
        yield f"numeric_{model_type}", numeric, model_config("minimal", model_type)
    yield "shared", feature_configs()["ids"], shared


def _write_matrix(directory: Path) -> int:
    n = 0
    for label, fc, mc in _extra_pairs():
        result = generate_trainer_code(fc, mc, rating_column="rating", generated_at=GENERATED_AT)
        assert result.is_valid, result.validation_error
        result.write(directory / label)
        n += 2
    for fc_key in feature_configs():
        for preset in PRESETS:
            for model_type in MODEL_TYPES:
                result = _generate(fc_key, preset, model_type)
                assert result.is_valid, result.validation_error
                result.write(directory / f"{fc_key}_{preset}_{model_type}")
                n += 2
    return n


def test_generated_modules_are_ruff_formatted_and_lint_clean(tmp_path):
    """ruff format is a fixpoint and ruff check (pyflakes, pycodestyle, isort, bugbear,
    pyupgrade) finds nothing, for every FeatureConfig × preset × model type."""
    n = _write_matrix(tmp_path)
    assert n == 98
    formatted = subprocess.run(
        [*RUFF, "format", "--isolated", "--check", "--diff", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert formatted.returncode == 0, formatted.stdout + formatted.stderr
    checked = subprocess.run(
        [*RUFF, "check", "--isolated", "--select", "E,F,W,I,B,UP", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_codegen_never_imports_tensorflow():
    script = (
        "import sys\n"
        "sys.path.insert(0, 'tests/codegen')\n"
        "from codegen_helpers import feature_configs, model_config\n"
        "from towerwidgets import generate_trainer_code\n"
        "r = generate_trainer_code(feature_configs()['cross'], model_config('deep', 'multitask'),"
        " rating_column='rating')\n"
        "assert r.is_valid, r.validation_error\n"
        "heavy = [m for m in ('tensorflow', 'tensorflow_transform', 'tensorflow_recommenders',"
        " 'ruff', 'apache_beam') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 0, done.stderr


# ── the runtime contract's literals ──────────────────────────────────────────────────────


def test_transform_literals_follow_the_runtime_contract():
    values = _literals(_generate("rich").transform_code)
    assert values["RAW_COLUMN_TYPES"] == {
        "user_id": "string",
        "item_id": "string",
        "age": "float",
        "ts": "int",
        "genre": "string",
        "price": "float",
        "rating": "float",
    }
    assert values["BUYER_ID_KEY"] == "user_id"
    assert values["PRODUCT_ID_KEY"] == "item_id"
    assert values["LABEL_KEY"] == "rating"
    assert values["SERVING_INPUT_NAMES"]["user_id"] == "user_id"
    code = _generate("rich").transform_code
    assert 'vocab_filename="buyer_user_id"' in code
    assert "num_oov_buckets=NUM_OOV_BUCKETS" in code
    assert "tft.scale_to_z_score(" in code and "tft.bucketize(" in code
    assert "period_seconds=604800" in code
    cross = _generate("cross").transform_code
    assert "tf.strings.to_hash_bucket_fast(" in cross and "num_buckets=64" in cross


def test_serving_inputs_are_buyer_columns_for_retrieval_and_all_for_ranking():
    retrieval = _literals(_generate("cross", model_type="retrieval").trainer_code)
    assert list(retrieval["SERVING_INPUTS"]) == ["user_id", "country", "age"]
    ranking = _literals(_generate("cross", model_type="ranking").trainer_code)
    assert list(ranking["SERVING_INPUTS"]) == [
        "user_id",
        "country",
        "age",
        "item_id",
        "price",
        "genre",
    ]


# ── parameters ───────────────────────────────────────────────────────────────────────────


def test_param_breakdown_counts_embeddings_dense_and_head():
    fc = feature_configs()["rich"]
    mc = model_config("minimal", "ranking")
    sizes = {"user_id": 100, "item_id": 200, "genre": 6}
    parts = param_breakdown(fc, sizes, mc)
    assert parts["buyer"]["embeddings"] == {"buyer_user_id": 101 * 16}
    assert parts["product"]["embeddings"] == {
        "product_item_id": 201 * 16,
        "product_genre": 7 * 4,
        "product_price_bucket": 5 * 4,
    }
    assert parts["buyer"]["dense"] == 20 * 64 + 64 + 64 * 32 + 32
    assert parts["rating_head"]["trainable"] == 64 * 256 + 256 + 256 * 64 + 64 + 64 + 1
    assert parts["missing_vocabularies"] == []
    assert estimate_params_detailed(fc, sizes, mc) == parts["trainable"] == parts["total"]
    assert mc.estimate_params_detailed(fc, sizes) == parts["trainable"]
    assert param_breakdown(fc, {}, mc)["missing_vocabularies"] == ["user_id", "item_id", "genre"]


# ── naming and injection safety ──────────────────────────────────────────────────────────


def test_identifiers_are_sanitized_and_collision_free():
    assert sanitize("Prénom de l'acheteur") == "prenom_de_l_acheteur"
    assert sanitize("123") == "f_123"
    assert sanitize("∑∑") == "f"
    namer = Namer()
    assert [namer.name(x) for x in ("a", "a", "a_2", "class")] == ["a", "a_2", "a_2_2", "class_2"]
    fc = FeatureConfig(
        name="collide",
        buyer_id_column="user id",
        product_id_column="user-id",
        buyer_features=[Feature(column="user id"), Feature(column="user_id")],
        product_features=[Feature(column="user-id")],
    )
    values = _literals(generate_transform_code(fc).transform_code)
    assert values["SERVING_INPUT_NAMES"] == {
        "user id": "user_id_2",
        "user-id": "user-id",
        "user_id": "user_id",
    }
    code = generate_transform_code(fc).transform_code
    assert 'outputs["buyer_user_id"]' in code and 'outputs["buyer_user_id_2"]' in code


@pytest.mark.parametrize(
    "text",
    ["plain", "it's", 'say "hi"', "both ' and \"", "back\\slash", "new\nline", "\u2028", "\x00"],
)
def test_py_str_round_trips_and_matches_ruffs_quote_choice(text):
    literal = py_str(text)
    assert ast.literal_eval(literal) == text
    assert "\n" not in literal and "\u2028" not in literal


HOSTILE = [
    "__import__('os').system('touch {sentinel}')",
    "x\nimport os; os.system('touch {sentinel}')",
    "'''\n__import__('os').system('touch {sentinel}')\n'''",
    '"""\n__import__("os").system("touch {sentinel}")\n"""',
    "\\\n__import__('os').system('touch {sentinel}')  # \\",
    "\r__import__('os').system('touch {sentinel}')",
    "\u2028__import__('os').system('touch {sentinel}')",
    "coding: latin-1 {sentinel}",
    "{{ 7*7 }} {% raw %} ${{sentinel}}",
    "Prénom 名前 🚀 {sentinel}",
]


class _Stub(types.ModuleType):
    """A stand-in for tensorflow & co: classes where the module subclasses, else stubs."""

    def __init__(self, name="stub"):
        super().__init__(name)

    def __getattr__(self, name):
        if name in ("Model", "Callback"):
            return type(name, (), {})
        return _Stub(name)

    def __call__(self, *args, **kwargs):
        return _Stub()


@contextmanager
def _fake_tensorflow():
    names = [
        "tensorflow",
        "tensorflow_transform",
        "tensorflow_recommenders",
        "tfx_bsl",
        "tfx_bsl.public",
    ]
    with mock.patch.dict(sys.modules, {name: _Stub(name) for name in names}):
        yield


def _check_module(source: str, sentinel: Path, name: str) -> dict:
    ast.parse(source)
    # A comment never holds a raw line break; the first two lines are fixed text
    # (so no user text can become an encoding declaration).
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            assert "\n" not in token.string and "\r" not in token.string
    assert source.splitlines()[1].startswith("# Edit the")
    namespace: dict = {"__name__": name}
    with _fake_tensorflow():
        exec(compile(source, name, "exec"), namespace)
    assert not sentinel.exists(), "user text was executed"
    return namespace


hostile_text = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(min_size=1, max_size=40),
    st.text(alphabet="'\"\\\n\r#{}%()_ ", min_size=1, max_size=12),
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    name=hostile_text,
    description=hostile_text,
    columns=st.lists(hostile_text, min_size=4, max_size=4, unique=True),
    model_type=st.sampled_from(MODEL_TYPES),
)
def test_hostile_strings_stay_literals(tmp_path, name, description, columns, model_type):
    sentinel = tmp_path / "pwned"
    fill = {"sentinel": str(sentinel)}
    name, description = (s.replace("{sentinel}", fill["sentinel"]) for s in (name, description))
    name = f"N{name}"  # a blank name is (rightly) refused by validate()
    columns = [c.replace("{sentinel}", fill["sentinel"]) for c in columns]
    if len(set(columns)) < 4:
        return
    buyer, product, category, rating = columns
    fc = FeatureConfig(
        name=name,
        description=description,
        buyer_id_column=buyer,
        product_id_column=product,
        buyer_features=[Feature(column=buyer), Feature(column=category, transform="normalize")],
        product_features=[Feature(column=product), Feature(column=category)],
    )
    mc = model_config("regularized", model_type, name=name, description=description)
    result = generate_trainer_code(fc, mc, rating_column=rating, generated_at=name)
    assert result.is_valid, result.validation_error
    transform = _check_module(result.transform_code, sentinel, "transform")
    trainer = _check_module(result.trainer_code, sentinel, "trainer")
    expected = {buyer: "string", product: "string", category: "float"}
    if model_type != "retrieval":
        expected[rating] = "float"
    assert transform["RAW_COLUMN_TYPES"] == expected
    assert (transform["BUYER_ID_KEY"], transform["PRODUCT_ID_KEY"]) == (buyer, product)
    assert set(transform["SERVING_INPUT_NAMES"]) == set(expected)
    assert set(trainer["SERVING_INPUTS"]) <= set(expected)
    # Every identifier in the code is ASCII: user text never becomes a name.
    for source in (result.transform_code, result.trainer_code):
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Name | ast.Attribute | ast.FunctionDef | ast.ClassDef):
                ident = getattr(node, "id", None) or getattr(node, "attr", None) or node.name
                assert ident.isascii() and ident.isidentifier()


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    columns=st.lists(
        st.text(alphabet="abcdefxyz _-'\"\\é名\n", min_size=1, max_size=30),
        min_size=3,
        max_size=3,
        unique=True,
    )
)
def test_output_stays_ruff_formatted_for_any_column_names(tmp_path, columns):
    buyer, product, other = columns
    fc = FeatureConfig(
        name=f"N{other}",
        buyer_id_column=buyer,
        product_id_column=product,
        buyer_features=[Feature(column=buyer), Feature(column=other, transform="bucketize")],
        product_features=[Feature(column=product), Feature(column=other, transform="cyclical")],
    )
    result = generate_trainer_code(fc, model_config("standard", "ranking"), rating_column="r")
    assert result.is_valid, result.validation_error
    for kind, source in (("transform", result.transform_code), ("trainer", result.trainer_code)):
        done = subprocess.run(
            [*RUFF, "format", "--isolated", "-"], input=source, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout == source, f"{kind} module is not a ruff-format fixpoint"


@pytest.mark.parametrize("preset", ["minimal", "regularized"])
@pytest.mark.parametrize("model_type", ["retrieval", "ranking", "multitask"])
@pytest.mark.parametrize("share", [False, True])
def test_one_count_everywhere_summary_rows_count_params_and_breakdown_agree(
    preset, model_type, share
):
    """The View's summary table, the screens' figure and the exact count are one number."""
    from towerwidgets.codegen.params import count_params, summary_rows

    fc = feature_configs()["rich"]
    mc = model_config(preset, model_type)
    mc.share_tower_weights = share
    mc.buyer_tower_layers = [
        *mc.buyer_tower_layers[:1],
        {"type": "batch_norm"},
        *mc.buyer_tower_layers[1:],
    ]
    mc = type(mc).from_dict(mc.to_dict())
    if share:
        mc.product_tower_layers = mc.buyer_tower_layers
    sizes = {"user_id": 100, "item_id": 200, "genre": 6}
    parts = param_breakdown(fc, sizes, mc)
    counts = count_params(mc, fc, sizes)
    assert counts["exact"] and counts["total"] == parts["total"]
    assert sum(r["params"] for r in summary_rows(mc, fc, sizes)) == parts["total"]
    loose = count_params(mc)
    assert not loose["exact"] and loose["text"].startswith("≈")
    assert sum(r["params"] for r in summary_rows(mc)) == loose["total"]


def test_layer_code_refuses_a_layer_type_it_does_not_know():
    from types import SimpleNamespace

    from towerwidgets.codegen.generator import layer_code

    with pytest.raises(ValueError, match="Unknown layer type: conv2d"):
        layer_code(SimpleNamespace(type="conv2d"), 16)
