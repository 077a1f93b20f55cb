"""The `towerwidgets` command: presets, configs, code generation, quick tests, the demo.

Errors a user can cause print one line (``error: …``) and exit 1; no traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import ValidationError

from towerwidgets.config import ModelConfig, friendly_errors, presets
from towerwidgets.config.model_config import PRESET_KEYS
from towerwidgets.errors import TowerwidgetsError
from towerwidgets.runner.estimates import estimate_quick_test, format_duration


def _store(args: argparse.Namespace) -> Any:
    from towerwidgets.store import Store, default_url

    # explicit, so the kernel-side notice does not repeat what the quick test's first line says
    return Store(args.store or default_url())


def _print_config(config: ModelConfig) -> None:
    print(f"#{config.id}  {config.name}  ({config.model_type})")
    print(f"  Buyer tower:   {config.get_buyer_tower_summary()}")
    print(f"  Product tower: {config.get_product_tower_summary()}")
    if config.model_type != "retrieval":
        print(f"  Rating head:   {config.get_rating_head_summary()}")
    print(
        f"  {config.optimizer.capitalize()} @ {config.learning_rate:g} • Batch: {config.batch_size}"
        f" • Epochs: {config.epochs} • Output: {config.output_embedding_dim}D"
    )
    problems = config.validate()
    print("  Validation:    " + ("✓ valid" if not problems else "✗ " + "; ".join(problems)))
    for note in config.warnings():
        print(f"  Warning:       {note}")


# ── presets and configs ─────────────────────────────────────────────────────────────────


def cmd_presets(args: argparse.Namespace) -> int:
    for key, preset in presets().items():
        if args.json:
            continue
        buyer = ModelConfig(buyer_tower_layers=preset["buyer_tower_layers"])
        product = ModelConfig(product_tower_layers=preset["product_tower_layers"])
        # The one duration estimate (the wizard's and the panel's), at 100,000 rows.
        time = format_duration(
            estimate_quick_test(None, ModelConfig.from_preset(key)).seconds, approx=True
        )
        print(f"{key:<12} {preset['name']:<12} {time:>8}  {preset['description']}")
        print(
            f"{'':<12} buyer {buyer.get_buyer_tower_summary()}  product "
            f"{product.get_product_tower_summary()}  output {preset['output_embedding_dim']}D"
        )
    if args.json:
        print(json.dumps(presets(), indent=2))
    return 0


def cmd_configs(args: argparse.Namespace) -> int:
    store = _store(args)
    repo = store.model_configs
    if args.action == "list":
        configs = repo.list()
        if not configs:
            print(
                "No model configs yet. Create one: towerwidgets configs create --preset standard --name NAME"
            )
        for config in configs:
            print(
                f"#{config.id:<4} {config.name[:40]:<40} {config.model_type:<10} "
                f"{config.get_buyer_tower_summary()} | {config.get_product_tower_summary()}"
            )
    elif args.action == "show":
        config = repo.get(args.id)
        if args.json:
            print(json.dumps(config.to_dict(), indent=2, ensure_ascii=False))
        else:
            _print_config(config)
    elif args.action == "create":
        config = ModelConfig.from_preset(args.preset, name=args.name, model_type=args.model_type)
        repo.create(config)
        print(f"Created model config #{config.id}")
        _print_config(config)
    elif args.action == "clone":
        config = repo.clone(args.id, name=args.name)
        print(f"Cloned #{args.id} as #{config.id} {config.name!r}")
    elif args.action == "delete":
        removed = repo.delete(args.id, force=args.force)
        extra = f" and {removed} quick test{'s' if removed != 1 else ''}" if removed else ""
        print(f"Deleted model config #{args.id}{extra}")
    return 0


def _add_config_parsers(sub: Any) -> None:
    configs = sub.add_parser("configs", help="list, show, create, clone or delete model configs")
    actions = configs.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("list", help="all model configs, most recently updated first")
    show = actions.add_parser("show", help="one model config")
    show.add_argument("id", type=int)
    show.add_argument("--json", action="store_true", help="print the config as JSON")
    create = actions.add_parser("create", help="a model config from a preset")
    create.add_argument("--preset", required=True, choices=PRESET_KEYS)
    create.add_argument("--name", required=True)
    create.add_argument(
        "--model-type", default="retrieval", choices=("retrieval", "ranking", "multitask")
    )
    clone = actions.add_parser("clone", help="copy a model config")
    clone.add_argument("id", type=int)
    clone.add_argument("--name", help='name of the copy (default "<name> (copy)")')
    delete = actions.add_parser("delete", help="delete a model config")
    delete.add_argument("id", type=int)
    delete.add_argument(
        "--force", action="store_true", help="also delete the quick tests that used it"
    )
    configs.set_defaults(func=cmd_configs)


# ── code generation (issue 3) ───────────────────────────────────────────────────────────


def cmd_codegen(args: argparse.Namespace) -> int:
    """Write transform.py and trainer.py (TFX ``module_file``s) for two stored configs."""
    from towerwidgets.codegen import generate_trainer_code
    from towerwidgets.errors import ConfigValidationError

    store = _store(args)
    feature_config = store.feature_configs.get(args.feature_config)
    model_config = store.model_configs.get(args.model_config)
    result = generate_trainer_code(feature_config, model_config, rating_column=args.rating_column)
    if not result.is_valid:
        raise ConfigValidationError("The code generation request", result.errors)
    transform, trainer = result.write(args.output)
    print(f"Wrote {transform} (TFX Transform module_file)")
    print(f"Wrote {trainer} (TFX Trainer module_file)")
    return 0


def _add_codegen_parser(sub: Any) -> None:
    codegen = sub.add_parser("codegen", help="write the Transform and Trainer modules")
    codegen.add_argument("--feature-config", type=int, required=True, metavar="ID")
    codegen.add_argument("--model-config", type=int, required=True, metavar="ID")
    codegen.add_argument("--rating-column", default=None, metavar="C")
    codegen.add_argument("-o", "--output", required=True, metavar="DIR")
    codegen.set_defaults(func=cmd_codegen)


# ── quick tests and the demo (issue 4) ──────────────────────────────────────────────────


def _find_or_create(repo: Any, config: Any) -> Any:
    """Reuse a stored config with the same name and content, else store this one."""
    wanted = {k: v for k, v in config.to_dict().items() if k not in _NON_CONTENT}
    for stored in repo.list():
        if (
            stored.name == config.name
            and {k: v for k, v in stored.to_dict().items() if k not in _NON_CONTENT} == wanted
        ):
            return stored
    return repo.create(config)


_NON_CONTENT = ("id", "created_at", "updated_at", "created_by")


def _run_and_show(
    args: argparse.Namespace,
    store: Any,
    features: Any,
    model: Any,
    data: Any,
    rating_column: str | None = None,
) -> int:
    from towerwidgets.runner import start_quick_test
    from towerwidgets.runner.console import run_with_live_table
    from towerwidgets.runner.estimates import estimate_quick_test

    backend = None
    if getattr(args, "backend", "local") == "vertex":
        from towerwidgets.runner.vertex_cli import backend_from_args

        backend = backend_from_args(args)
    rows = len(data) if hasattr(data, "__len__") and not isinstance(data, str) else None
    estimate = estimate_quick_test(
        features,
        model,
        n_rows=rows,
        epochs=args.epochs,
        batch_size=args.batch_size,
        machine=backend.machine if backend is not None else "local",
        dataflow=bool(getattr(backend, "dataflow", False)),
    )
    print(f"Store: {store.location} (--store or TOWERWIDGETS_STORE to change)")
    print(f"Feature config #{features.id}: {features}")
    print(
        f"Model config #{model.id}: {model.name} ({model.model_type}) • buyer "
        f"{model.get_buyer_tower_summary()} • product {model.get_product_tower_summary()}"
    )
    print(estimate.text)
    handle = start_quick_test(
        features,
        model,
        data,
        rating_column=rating_column,
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        store=store,
        seed=args.seed,
        backend=backend,
    )
    title = f"Quick test #{handle.id}: {features.name} + {model.name}"
    record = run_with_live_table(handle, title, model.model_type)
    return 0 if record.status == "completed" else 1


def sample_feature_config() -> Any:
    """The FeatureConfig of the built-in sample (the demo's and the pipeline's)."""
    from towerwidgets.config import Feature, FeatureConfig

    return FeatureConfig(
        name="Sample features",
        description="towerwidgets.datasets.sample(): buyers, products, categories, prices",
        buyer_id_column="buyer_id",
        product_id_column="product_id",
        buyer_features=[
            Feature(column="buyer_id", embedding_dim=32),
            Feature(column="buyer_region", embedding_dim=4),
        ],
        product_features=[
            Feature(column="product_id", embedding_dim=32),
            Feature(column="category", embedding_dim=8),
            Feature(column="price", transform="normalize"),
        ],
    )


def cmd_demo(args: argparse.Namespace) -> int:
    """A retrieval quick test on the built-in synthetic sample with the Standard preset."""
    from towerwidgets.datasets import sample

    store = _store(args)
    data = sample(seed=args.seed)
    features = _find_or_create(store.feature_configs, sample_feature_config())
    model = _find_or_create(
        store.model_configs, ModelConfig.from_preset("standard", name="Standard Retrieval (demo)")
    )
    print(
        f"Sample data: {len(data):,} purchases by {data['buyer_id'].nunique():,} buyers of "
        f"{data['product_id'].nunique():,} products in {data['category'].nunique()} categories"
    )
    return _run_and_show(args, store, features, model, data)


def cmd_quicktest(args: argparse.Namespace) -> int:
    """A quick test on any CSV/Parquet file: features inferred from the named columns."""
    from towerwidgets.config import FeatureConfig
    from towerwidgets.runner.prepare import load_data

    store = _store(args)
    data = load_data(args.data)
    features = FeatureConfig.infer(
        data,
        buyer_columns=args.buyer_columns,
        product_columns=args.product_columns,
        name=args.name or f"Features of {args.data}",
    )
    model = ModelConfig.from_preset(
        args.preset,
        name=f"{args.preset.capitalize()} {args.model_type.capitalize()}",
        model_type=args.model_type,
    )
    features = _find_or_create(store.feature_configs, features)
    model = _find_or_create(store.model_configs, model)
    return _run_and_show(args, store, features, model, data, rating_column=args.rating_column)


def _add_run_options(parser: Any, batch_size: int | None = None) -> None:
    parser.add_argument(
        "--epochs", type=int, default=None, metavar="N", help="override the model config's epochs"
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        default=batch_size,
        metavar="N",
        help="override the model config's batch size"
        + (f" (default here: {batch_size})" if batch_size else ""),
    )
    parser.add_argument("--learning-rate", type=float, default=None, metavar="LR")
    parser.add_argument("--seed", type=int, default=42, help="split and training seed")


def _add_quicktest_parsers(sub: Any) -> None:
    demo = sub.add_parser("demo", help="run a quick test on the built-in sample")
    # 25,000 rows: batches of 512 give the towers enough steps in five epochs.
    _add_run_options(demo, batch_size=512)
    demo.set_defaults(func=cmd_demo)
    quick = sub.add_parser("quicktest", help="run a quick test on a CSV or Parquet file")
    quick.add_argument("--data", required=True, metavar="FILE")
    quick.add_argument(
        "--buyer-columns",
        required=True,
        nargs="+",
        metavar="COL",
        help="buyer columns, the buyer id first",
    )
    quick.add_argument(
        "--product-columns",
        required=True,
        nargs="+",
        metavar="COL",
        help="product columns, the product id first",
    )
    quick.add_argument("--preset", default="standard", choices=PRESET_KEYS)
    quick.add_argument(
        "--model-type", default="retrieval", choices=("retrieval", "ranking", "multitask")
    )
    quick.add_argument("--rating-column", default=None, metavar="C")
    quick.add_argument("--name", default=None, help="name of the stored feature config")
    quick.add_argument(
        "--backend",
        default="local",
        choices=("local", "vertex"),
        help="where to run: this machine, or Vertex AI Pipelines (the options below)",
    )
    _add_run_options(quick)
    from towerwidgets.runner.vertex_cli import add_vertex_options

    add_vertex_options(quick)
    quick.set_defaults(func=cmd_quicktest)


def cmd_compare(args: argparse.Namespace) -> int:
    """Quick tests side by side: last epoch per metric and the settings that differ."""
    from towerwidgets.results.comparison import compare

    result = compare(args.ids, store=_store(args))
    print(result)
    if args.csv:
        result.frame.to_csv(args.csv, index=False)
        print(f"Wrote {len(result.frame)} rows (run × epoch × metric) to {args.csv}")
    return 0


def _add_compare_parser(sub: Any) -> None:
    parser = sub.add_parser("compare", help="compare two or more quick tests")
    parser.add_argument("ids", nargs="+", type=int, metavar="ID", help="quick-test ids")
    parser.add_argument("--csv", default=None, metavar="FILE", help="also write the tidy metrics")
    parser.set_defaults(func=cmd_compare)


# ── recommendation preview ──────────────────────────────────────────────────────────────


def cmd_recommend(args: argparse.Namespace) -> int:
    import pandas as pd

    from towerwidgets.runner.preview import Previewer

    preview = Previewer(args.quick_test, products=args.products, store=_store(args))
    try:
        top = preview.recommend(args.buyer, k=args.k, exclude_history=args.exclude_history)
        history = preview.history(args.buyer)
        ratings = preview.ratings(args.buyer) if preview.model_type != "retrieval" else None
    finally:
        preview.close()
    if args.json:
        out = {
            "quick_test": preview.record.id,
            "model_type": preview.model_type,
            "buyer": str(args.buyer),
            "recommendations": json.loads(top.to_json(orient="records")),
            "history": json.loads(history.to_json(orient="records")),
        }
        if ratings is not None:
            out["ratings"] = json.loads(ratings.to_json(orient="records"))
        print(json.dumps(out, indent=2, ensure_ascii=False))
        return 0
    with pd.option_context("display.max_colwidth", 60, "display.width", 160):
        print(
            f"Quick test {preview.record.id} ({preview.model_type}): top {len(top)} for buyer "
            f"{args.buyer}"
        )
        print(top.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
        print(f"\nHistory of buyer {args.buyer} (training split, {len(history)} rows):")
        shown = history.head(args.history_rows)
        print(shown.to_string(index=False) if len(shown) else "(none)")
        if len(history) > len(shown):
            print(f"… {len(history) - len(shown)} more (--history-rows N)")
        if ratings is not None:
            print(f"\nPredicted vs actual rating on buyer {args.buyer}'s eval rows:")
            print(
                ratings.to_string(index=False, float_format=lambda v: f"{v:.3f}")
                if len(ratings)
                else "(no eval rows)"
            )
    return 0


def _add_recommend_parser(sub: Any) -> None:
    rec = sub.add_parser(
        "recommend", help="what a completed quick test's model recommends to a buyer"
    )
    rec.add_argument("--quick-test", required=True, type=int, metavar="ID")
    rec.add_argument("--buyer", required=True, metavar="ID", help="a buyer id of the data")
    rec.add_argument(
        "--products",
        default=None,
        metavar="FILE",
        help="product table (CSV/Parquet with the product id column) to join, e.g. movies.csv",
    )
    rec.add_argument("--k", type=int, default=10, help="how many products (default 10)")
    rec.add_argument(
        "--exclude-history",
        action="store_true",
        help="leave out the products the buyer already has in the training split",
    )
    rec.add_argument("--history-rows", type=int, default=20, metavar="N")
    rec.add_argument("--json", action="store_true", help="print JSON instead of tables")
    rec.set_defaults(func=cmd_recommend)


# ── entry point ─────────────────────────────────────────────────────────────────────────


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="towerwidgets",
        description="Build, test and export TensorFlow Recommenders models.",
    )
    parser.add_argument(
        "--store",
        default=None,
        metavar="URL",
        help="SQLAlchemy URL or SQLite file (default: $TOWERWIDGETS_STORE or "
        "./.towerwidgets/towerwidgets.db)",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    presets_parser = sub.add_parser("presets", help="the architecture presets")
    presets_parser.add_argument("--json", action="store_true")
    presets_parser.set_defaults(func=cmd_presets)
    _add_config_parsers(sub)
    _add_codegen_parser(sub)
    _add_quicktest_parsers(sub)
    _add_compare_parser(sub)
    _add_recommend_parser(sub)
    from towerwidgets.pipeline.cli import add_pipeline_parsers
    from towerwidgets.runner.vertex_cli import add_submit_parser

    add_submit_parser(add_pipeline_parsers(sub))  # pipeline submit (Vertex AI)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except ValidationError as exc:
        print("error: " + "; ".join(friendly_errors(exc)), file=sys.stderr)
    except (TowerwidgetsError, ValueError, FileNotFoundError, PermissionError) as exc:
        print(f"error: {exc}", file=sys.stderr)
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    return 1


if __name__ == "__main__":
    sys.exit(main())
