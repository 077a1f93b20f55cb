"""Command-line pieces for Vertex AI: the shared options, ``pipeline submit``, re-attach.

Kept apart from ``cli.py`` so the ``pipeline`` command group (built with the TFX lane)
only needs one call, ``add_submit_parser(actions)``. Light: argparse only at import.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

__all__ = ["add_submit_parser", "add_vertex_options", "backend_from_args", "cmd_pipeline_submit"]


def add_vertex_options(parser: argparse.ArgumentParser, *, compiling: bool = True) -> None:
    """--project/--region/--bucket/--machine/…; unset ones come from the Vertex settings
    (``<TOWERWIDGETS_HOME>/vertex.json``, ``TOWERWIDGETS_VERTEX_*``). ``compiling=False``
    leaves out what a compiled pipeline already fixed (machine, image)."""
    from towerwidgets.runner.estimates import MACHINE_SPECS

    group = parser.add_argument_group(
        "Vertex AI (default: the settings file, then TOWERWIDGETS_VERTEX_* variables)"
    )
    group.add_argument("--project", default=None, help="Google Cloud project id")
    group.add_argument("--region", default=None, help="Vertex AI region (us-central1)")
    group.add_argument(
        "--bucket", default=None, metavar="GS_PATH", help="pipeline root, gs://BUCKET[/prefix]"
    )
    if compiling:
        group.add_argument("--machine", default=None, choices=sorted(MACHINE_SPECS))
        group.add_argument("--image", default=None, help="pipeline image (default: pinned)")
        group.add_argument(
            "--dataflow",
            action="store_true",
            help="run Transform and StatisticsGen on Dataflow (data beyond ~30M rows)",
        )
    group.add_argument("--service-account", default=None, metavar="EMAIL")
    group.add_argument("--network", default=None, metavar="NAME", help="VPC to peer with")
    group.add_argument(
        "--no-cache", action="store_true", help="run every component again (no Vertex caching)"
    )


def backend_from_args(args: argparse.Namespace) -> Any:
    from towerwidgets.runner.vertex import VertexBackend

    return VertexBackend(
        project=args.project,
        region=args.region,
        pipeline_root=args.bucket,
        machine=getattr(args, "machine", None),
        service_account=args.service_account,
        network=args.network,
        image=getattr(args, "image", None),
        enable_caching=not args.no_cache,
        dataflow=getattr(args, "dataflow", False),
    )


def _print_event(data: dict[str, Any]) -> None:
    from towerwidgets.runner.events import QuickTestEvent

    if data.get("kind") == "error":
        return  # printed once as the result
    if data.get("kind") == "info":
        return
    print(QuickTestEvent.from_dict(data), flush=True)


def cmd_pipeline_submit(args: argparse.Namespace) -> int:
    """Submit a compiled pipeline JSON to Vertex AI; with --wait, follow it to the end."""
    from towerwidgets.runner.vertex import console_url, submit_pipeline

    labels = {}
    for item in args.label or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"--label takes KEY=VALUE, not {item!r}")
        labels[key] = value
    backend = backend_from_args(args)
    job = submit_pipeline(args.pipeline, backend, labels=labels, job_id=args.job_id)
    print(f"Submitted {job.resource_name}")
    print(f"Console: {console_url(job.resource_name, backend.project)}")
    if not args.wait:
        return 0
    run = backend.follow(job, _print_event)
    try:
        code = run.wait()
    except KeyboardInterrupt:
        print("Cancelling… (the job ends once Vertex AI says so)", file=sys.stderr)
        run.cancel()
        code = run.wait()
    if run.ended_cancelled:
        print("cancelled")
        return 1
    if code != 0:
        print(f"error: {run.error_message or run.failure_reason(run.state)}", file=sys.stderr)
        return 1
    print("completed")
    return 0


def add_submit_parser(actions: Any) -> None:
    """``pipeline submit PIPELINE.json``: add to the ``pipeline`` command's subparsers."""
    submit = actions.add_parser(
        "submit", help="submit a compiled pipeline JSON to Vertex AI Pipelines"
    )
    submit.add_argument("pipeline", metavar="PIPELINE_JSON")
    submit.add_argument("--job-id", default=None, help="the Vertex job id (default: generated)")
    submit.add_argument(
        "--label", action="append", metavar="KEY=VALUE", help="a label on the job (repeatable)"
    )
    submit.add_argument("--wait", action="store_true", help="follow the job until it ends")
    add_vertex_options(submit, compiling=False)
    submit.set_defaults(func=cmd_pipeline_submit)
