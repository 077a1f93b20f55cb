"""``towerwidgets pipeline run-local | compile``: the pipeline stage from a shell."""

from __future__ import annotations

import argparse
import time
from typing import Any

__all__ = ["add_pipeline_parsers"]

MODEL_TYPES = ("retrieval", "ranking", "multitask")


def _inputs(args: argparse.Namespace) -> tuple[Any, Any, Any, str | None]:
    """(feature config, model config, data, rating column) from the command line."""
    from towerwidgets.config import FeatureConfig, ModelConfig
    from towerwidgets.datasets import movielens, sample
    from towerwidgets.pipeline.sources import PipelineInputError, parse_source

    rating = args.rating_column
    if args.sample:
        from towerwidgets.cli import sample_feature_config

        data, features = sample(seed=args.seed), sample_feature_config()
        rating = rating or ("rating" if args.model_type != "retrieval" else None)
    elif args.movielens:
        data = movielens(args.movielens)
        features = FeatureConfig.infer(
            data,
            buyer_columns=["userId"],
            product_columns=["movieId", "genre", "year"],
            name="MovieLens features",
        )
        rating = rating or ("rating" if args.model_type != "retrieval" else None)
    else:
        if not args.data:
            raise PipelineInputError("Name the data: --data PATH, --sample or --movielens DIR")
        if not (args.buyer_columns and args.product_columns):
            raise PipelineInputError(
                "Name the tower columns: --buyer-columns ID [COL ...] --product-columns ID "
                "[COL ...]"
            )
        source = parse_source(args.data)
        frame = source.frame if source.kind == "frame" else source.extra.get("sample")
        if frame is None:
            raise PipelineInputError(
                f"{args.data}: columns cannot be inferred from a cloud source here; build the "
                "FeatureConfig in Python and call tw.compile_pipeline(...)"
            )
        features = FeatureConfig.infer(
            frame,
            buyer_columns=args.buyer_columns,
            product_columns=args.product_columns,
            name=f"Features of {args.data}",
        )
        data = source.frame if source.kind == "frame" else args.data
    model = ModelConfig.from_preset(
        args.preset,
        name=f"{args.preset.capitalize()} {args.model_type.capitalize()}",
        model_type=args.model_type,
    )
    return features, model, data, rating


def _options(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "learning_rate": args.learning_rate,
        "seed": args.seed,
        "split": {"kind": args.split, "eval_fraction": args.eval_fraction},
        "pipeline_name": args.name,
        "enable_cache": not args.no_cache,
        "home": args.home,
    }


class _Progress:
    """One line per component as the TFX run reports it."""

    def __init__(self) -> None:
        self.started: dict[str, float] = {}

    def __call__(self, event: dict[str, Any]) -> None:
        if event.get("event") != "component":
            return
        name = event["name"]
        if event["state"] == "running":
            self.started[name] = time.time()
            print(f"  ▶ {name} …", flush=True)
        else:
            seconds = time.time() - self.started.get(name, time.time())
            print(f"  ✓ {name} ({seconds:.1f} s)", flush=True)


def cmd_run_local(args: argparse.Namespace) -> int:
    import pandas as pd

    from towerwidgets.pipeline import build_pipeline, tfx_python

    tfx_python()  # no TFX environment: say so before preparing any data
    features, model, data, rating = _inputs(args)
    options = _options(args)
    if args.pipeline_root:
        options["pipeline_root"] = args.pipeline_root
    if args.beam_arg:
        options["beam_pipeline_args"] = args.beam_arg
    definition = build_pipeline(features, model, data, rating_column=rating, **options)
    for warning in definition.warnings:
        print(f"warning: {warning}")
    print(f"Pipeline {definition.name} ({model.model_type}) · root {definition.pipeline_root}")
    print("Running in TFX (LocalDagRunner; the TFX environment starts in ~20-40 s) …")
    run = definition.run_local(on_event=_Progress())
    with pd.option_context("display.width", 120, "display.max_columns", 20):
        print(f"\nPer-epoch metrics ({run.model_run_dir}/metrics.jsonl):")
        print(run.metrics.round(4).to_string())
    print(f"\nPushed model: {run.pushed_model_dir} ({run.seconds:.0f} s in all)")
    _show_answer(definition, run)
    if args.compare:
        _compare(args, features, model, data, rating, run)
    return 0


def _show_answer(definition: Any, run: Any) -> None:
    """The pushed model's answer for the first evaluation row: proof that it serves."""
    from pathlib import Path

    import pandas as pd

    from towerwidgets.runner.prepare import module_constants

    source = definition.spec["example_gen"]
    eval_csv = Path(source.get("input_base", "")) / "eval" / "data.csv"
    if source["kind"] != "csv" or not eval_csv.is_file():
        return
    row = pd.read_csv(eval_csv, nrows=1, dtype=str).iloc[0]
    inputs = module_constants(definition.trainer_code)["SERVING_INPUTS"]
    cast = {"string": str, "float": float, "int": int}
    features = {column: [cast[kind](row[column])] for column, (_, kind) in inputs.items()}
    answer = run.query(features)
    shown = ", ".join(f"{k}={v[0]}" for k, v in features.items())
    if "product_ids" in answer:
        print(f"Top 10 for {shown}: {', '.join(answer['product_ids'][0][:10])}")
    else:
        print(f"Predicted rating for {shown}: {answer['rating'][0]:.3f}")


def _compare(
    args: argparse.Namespace, features: Any, model: Any, data: Any, rating: Any, run: Any
) -> None:
    """A quick test on the same data, split and seed, beside the TFX run's final metrics."""
    from towerwidgets.runner import run_quick_test

    record = run_quick_test(
        features,
        model,
        data,
        rating_column=rating,
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        seed=args.seed,
        split=args.split,
        home=args.home,
    )
    tfx_final = run.final_metrics()
    quick_final = record.metrics.iloc[-1].to_dict() if len(record.metrics) else {}
    print(f"\nSame data, split and seed — quick test #{record.id} ({record.status}) vs TFX:")
    for key in ("loss", "val_loss", "recall_at_10", "recall_at_50", "recall_at_100", "rmse", "mae"):
        if key in tfx_final and key in quick_final:
            a, b = float(quick_final[key]), float(tfx_final[key])
            print(f"  {key:>14}: quick test {a:.4f} · TFX {b:.4f} · |Δ| {abs(a - b):.4f}")


def cmd_compile(args: argparse.Namespace) -> int:
    from towerwidgets.pipeline import build_pipeline, dataflow_args

    features, model, data, rating = _inputs(args)
    options = _options(args)
    beam = list(args.beam_arg or [])
    if args.dataflow_temp_location:
        if not (args.project and args.region):
            from towerwidgets.pipeline.sources import PipelineInputError

            raise PipelineInputError("--dataflow-temp-location needs --project and --region")
        beam = dataflow_args(args.project, args.region, args.dataflow_temp_location) + beam
    definition = build_pipeline(
        features,
        model,
        data,
        rating_column=rating,
        pipeline_root=args.pipeline_root,
        image=args.image,
        project=args.project,
        region=args.region,
        trainer_machine=args.trainer_machine,
        accelerator_type=args.accelerator_type,
        accelerator_count=args.accelerator_count,
        beam_pipeline_args=beam or None,
        **options,
    )
    print(f"Compiling {definition.name} for Vertex AI (KubeflowV2DagRunner) …")
    output = definition.compile(args.output)
    print(f"Pipeline JSON: {output}")
    print(f"Copy to Cloud Storage before submitting: {output}.uploads.json")
    return 0


def _common(parser: argparse.ArgumentParser) -> None:
    source = parser.add_argument_group("data and configs")
    source.add_argument("--data", metavar="PATH", help="CSV/Parquet file, CSV folder, gs://, bq://")
    source.add_argument("--sample", action="store_true", help="the built-in synthetic sample")
    source.add_argument("--movielens", metavar="DIR", help="a MovieLens folder (ml-latest-small)")
    source.add_argument("--buyer-columns", nargs="+", metavar="COL")
    source.add_argument("--product-columns", nargs="+", metavar="COL")
    source.add_argument("--model-type", default="retrieval", choices=MODEL_TYPES)
    from towerwidgets.config.model_config import PRESET_KEYS

    source.add_argument("--preset", default="standard", choices=PRESET_KEYS)
    source.add_argument("--rating-column", default=None, metavar="COL")
    run = parser.add_argument_group("pipeline")
    run.add_argument("--name", default=None, help="pipeline name")
    run.add_argument("--epochs", type=int, default=None, metavar="N")
    run.add_argument("--batch-size", type=int, default=None, metavar="N")
    run.add_argument("--learning-rate", type=float, default=None, metavar="LR")
    run.add_argument("--seed", type=int, default=42, help="split and training seed")
    run.add_argument("--split", default="random", choices=("random", "temporal"))
    run.add_argument("--eval-fraction", type=float, default=0.2, metavar="F")
    run.add_argument("--no-cache", action="store_true", help="turn TFX's caching off")
    run.add_argument("--beam-arg", action="append", metavar="ARG", help="a Beam pipeline arg")
    run.add_argument("--home", default=None, help="towerwidgets home (default ./.towerwidgets)")


def add_pipeline_parsers(sub: Any) -> Any:
    """``pipeline run-local`` and ``pipeline compile``; returns the group's subcommands
    (``pipeline submit`` joins them from the Vertex AI backend)."""
    pipeline = sub.add_parser("pipeline", help="run the generated modules in a TFX pipeline")
    commands = pipeline.add_subparsers(dest="pipeline_command", required=True, metavar="COMMAND")
    local = commands.add_parser("run-local", help="run the whole pipeline here (LocalDagRunner)")
    _common(local)
    local.add_argument("--pipeline-root", default=None, metavar="DIR")
    local.add_argument(
        "--compare", action="store_true", help="also run a quick test on the same split"
    )
    local.set_defaults(func=cmd_run_local)
    comp = commands.add_parser("compile", help="compile for Vertex AI Pipelines")
    _common(comp)
    comp.add_argument("-o", "--output", required=True, metavar="FILE", help="pipeline JSON")
    comp.add_argument("--pipeline-root", required=True, metavar="GCS_URI")
    comp.add_argument("--image", default=None, help="the pipeline image (default: from project)")
    comp.add_argument("--project", default=None)
    comp.add_argument("--region", default="us-central1")
    comp.add_argument(
        "--trainer-machine",
        default=None,
        metavar="TYPE",
        help="train on Vertex AI Training on this machine type",
    )
    comp.add_argument("--accelerator-type", default=None, metavar="TYPE")
    comp.add_argument("--accelerator-count", type=int, default=0, metavar="N")
    comp.add_argument(
        "--dataflow-temp-location",
        default=None,
        metavar="GCS_URI",
        help="run StatisticsGen and Transform on Dataflow",
    )
    comp.set_defaults(func=cmd_compile)
    return commands
