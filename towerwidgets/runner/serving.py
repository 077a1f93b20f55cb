"""The serving worker: ``python -m towerwidgets.runner.serving EXPORT_DIR``.

A long-lived process (like the training worker, so TensorFlow never loads in the kernel)
that loads one quick test's SavedModel once and answers requests on stdin, one JSON object
per line: ``{"id": 1, "op": "call", "signature": "serving_default", "inputs": {name:
[values]}}``. Each request gets one JSON line on the original stdout: ``{"kind": "reply",
"id": 1, "ok": true, "outputs": {name: [...]}}`` or ``{"ok": false, "message": ...}``.
It says ``ready`` (with the signatures' inputs) after loading, and exits on EOF (the kernel
went away), on ``{"op": "close"}`` or after ``--idle-timeout`` seconds without a request.
"""

from __future__ import annotations

import os

os.environ["TF_USE_LEGACY_KERAS"] = "1"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import json
import select
import sys
import time
from typing import Any

from towerwidgets.runner.events import encode_event

_OUT = None  # the original stdout, kept for replies


def _send(kind: str, **payload: Any) -> None:
    stream = _OUT or sys.stdout
    stream.write(encode_event({"kind": kind, **payload}))
    stream.flush()


def _redirect_stdout() -> None:
    """Keep fd 1 for replies; whatever TensorFlow prints goes to stderr."""
    global _OUT
    fd = os.dup(1)
    os.dup2(2, 1)
    _OUT = os.fdopen(fd, "w", buffering=1, encoding="utf-8")
    sys.stdout = sys.stderr


def _signature_inputs(model: Any) -> dict[str, dict[str, str]]:
    """signature name -> input name -> dtype name ("string", "float32", "int64")."""
    out: dict[str, dict[str, str]] = {}
    for name, function in model.signatures.items():
        _, kwargs = function.structured_input_signature
        out[name] = {key: spec.dtype.name for key, spec in kwargs.items()}
    return out


def _as_list(value: Any) -> Any:
    array = value.numpy()
    if array.dtype.kind in ("S", "O"):
        return [
            [v.decode("utf-8", "replace") for v in row]
            if array.ndim > 1
            else row.decode("utf-8", "replace")
            for row in array
        ]
    return array.tolist()


def _call(model: Any, inputs_by_signature: dict, request: dict) -> dict[str, Any]:
    import tensorflow as tf

    name = request.get("signature") or "serving_default"
    if name not in model.signatures:
        raise ValueError(
            f"The model has no signature {name!r}; it has: {', '.join(sorted(model.signatures))}"
        )
    wanted = inputs_by_signature[name]
    given = request.get("inputs") or {}
    missing = sorted(set(wanted) - set(given))
    if missing:
        raise ValueError(f"Missing inputs for {name!r}: {', '.join(missing)}")
    tensors = {}
    for key, dtype in wanted.items():
        values = list(given[key])
        if dtype == "string":
            tensors[key] = tf.constant([str(v) for v in values], dtype=tf.string)
        else:
            tensors[key] = tf.constant(values, dtype=tf.as_dtype(dtype))
    outputs = model.signatures[name](**tensors)
    return {key: _as_list(value) for key, value in outputs.items()}


def serve(export_dir: str, idle_timeout: float) -> int:
    started = time.time()
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")
    try:
        model = tf.saved_model.load(export_dir)
        inputs = _signature_inputs(model)
    except Exception as error:  # a missing or unreadable export: say so and stop
        _send("failed", message=f"Cannot load the exported model {export_dir!r}: {error}")
        return 1
    _send("ready", pid=os.getpid(), signatures=inputs, seconds=round(time.time() - started, 2))
    while True:
        ready, _, _ = select.select([sys.stdin], [], [], idle_timeout)
        if not ready:
            return 0  # idle: the kernel starts a new one on the next request
        line = sys.stdin.readline()
        if not line:
            return 0  # EOF: the kernel closed the pipe or went away
        try:
            request = json.loads(line)
        except json.JSONDecodeError:
            continue
        if not isinstance(request, dict):
            continue
        if request.get("op") == "close":
            _send("reply", id=request.get("id"), ok=True, outputs={})
            return 0
        try:
            if request.get("op") == "ping":
                outputs: dict[str, Any] = {}
            else:
                outputs = _call(model, inputs, request)
            _send("reply", id=request.get("id"), ok=True, outputs=outputs)
        except Exception as error:
            text = str(error).strip().splitlines()
            _send(
                "reply",
                id=request.get("id"),
                ok=False,
                message=f"{type(error).__name__}: {text[-1] if text else ''}",
            )


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m towerwidgets.runner.serving")
    parser.add_argument("export_dir")
    parser.add_argument("--idle-timeout", type=float, default=600.0)
    args = parser.parse_args(argv)
    _redirect_stdout()
    code = serve(args.export_dir, args.idle_timeout)
    if _OUT is not None:
        _OUT.close()
    sys.stderr.flush()
    os._exit(code)  # skip TensorFlow's slow interpreter teardown


if __name__ == "__main__":
    sys.exit(main())
