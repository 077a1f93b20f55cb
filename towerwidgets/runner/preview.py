"""The recommendation preview, kernel side: what a completed quick test's model recommends.

The exported SavedModel runs in a long-lived serving worker (``serving.py``, its own
process: the kernel never imports TensorFlow), one per export, reused across calls, closed
with ``close()``, at interpreter exit, or by itself after ``IDLE_TIMEOUT`` seconds idle.
Here, with pandas only: a buyer's raw features and history from the run's training split
(``<run_dir>/splits/``, kept by ``prepare_data``), the product attributes joined from an
optional product table, and, for ranking, predicted vs actual ratings on the eval rows.
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import json
import numbers
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from towerwidgets.errors import TowerwidgetsError
from towerwidgets.runner.events import decode_line
from towerwidgets.runner.prepare import SPLITS_DIR, load_data, module_constants

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["PreviewError", "Previewer", "ServingWorker", "shutdown_serving_workers"]

START_TIMEOUT = 300.0  # importing TensorFlow on a busy 2-core machine takes a while
REQUEST_TIMEOUT = 120.0
IDLE_TIMEOUT = 600.0
DEFAULT_K = 10
MAX_BUYERS_LISTED = 50


class PreviewError(TowerwidgetsError, ValueError):
    """The preview cannot answer; the message says why and what to do."""


# ── the serving worker, from the kernel ─────────────────────────────────────────────────


class ServingWorker:
    """One ``python -m towerwidgets.runner.serving`` process: requests with ids over a pipe.

    Every wait is bounded (start, request) and a worker that dies fails its pending
    requests at once with the tail of its log, so the kernel never hangs on it.
    """

    def __init__(self, export_dir: str | Path, idle_timeout: float | None = None):
        from towerwidgets.runner.backends import _worker_env

        self.export_dir = str(export_dir)
        self.log_path = Path(self.export_dir).parent / "serving.log"
        self.signatures: dict[str, dict[str, str]] = {}
        self._ready = threading.Event()
        self._failure = ""
        self._lock = threading.Lock()
        self._pending: dict[int, tuple[threading.Event, list[dict[str, Any]]]] = {}
        self._ids = itertools.count(1)
        try:
            log = open(self.log_path, "ab")
        except OSError:
            log = subprocess.DEVNULL  # type: ignore[assignment]
        try:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "towerwidgets.runner.serving",
                    self.export_dir,
                    "--idle-timeout",
                    str(IDLE_TIMEOUT if idle_timeout is None else idle_timeout),
                ],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                env=_worker_env(),
                start_new_session=True,
                close_fds=True,
            )
        finally:
            if log is not subprocess.DEVNULL:
                log.close()
        self.pid = self.process.pid
        self._reader = threading.Thread(target=self._read, name=f"tw-serving-{self.pid}")
        self._reader.daemon = True
        self._reader.start()

    @property
    def alive(self) -> bool:
        return self.process.poll() is None and not self._failure

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            event = decode_line(line)
            if event is None:
                continue
            if event["kind"] == "ready":
                self.signatures = event.get("signatures") or {}
                self._ready.set()
            elif event["kind"] == "failed":
                self._failure = str(event.get("message") or "the serving worker failed")
                self._ready.set()
            elif event["kind"] == "reply":
                with self._lock:
                    waiter = self._pending.pop(event.get("id"), None)
                if waiter is not None:
                    waiter[1].append(event)
                    waiter[0].set()
        self.process.wait()
        if not self._failure:
            self._failure = self._exit_reason()
        self._ready.set()
        with self._lock:
            waiters, self._pending = list(self._pending.values()), {}
        for done, _ in waiters:
            done.set()

    def _exit_reason(self) -> str:
        code = self.process.returncode
        tail = ""
        with contextlib.suppress(OSError):
            lines = self.log_path.read_text(errors="replace").splitlines()
            lines = [ln for ln in lines if ln and not ln.startswith(("I0000", "W0000", "E0000"))]
            tail = " | ".join(lines[-2:])
        if code is not None and code < 0:
            what = f"was killed by signal {-code}"
        else:
            what = f"exited (code {code})"
        return f"The serving worker {what}" + (f": {tail}" if tail else "")

    def wait_ready(self, timeout: float = START_TIMEOUT) -> None:
        """Block until the model is loaded; PreviewError if it failed or took too long."""
        if not self._ready.wait(timeout):
            self.close()
            raise PreviewError(
                f"The serving worker did not load the model within {timeout:.0f} s "
                f"(log: {self.log_path})"
            )
        if self._failure:
            raise PreviewError(self._failure)

    def call(
        self, signature: str, inputs: dict[str, list[Any]], timeout: float = REQUEST_TIMEOUT
    ) -> dict[str, list[Any]]:
        """Run one signature of the loaded model on 1-D inputs; the outputs as lists."""
        return self._request({"op": "call", "signature": signature, "inputs": inputs}, timeout)

    def _request(self, request: dict[str, Any], timeout: float) -> dict[str, list[Any]]:
        self.wait_ready()
        request_id = next(self._ids)
        done: threading.Event = threading.Event()
        box: list[dict[str, Any]] = []
        with self._lock:
            self._pending[request_id] = (done, box)
        try:
            assert self.process.stdin is not None
            self.process.stdin.write((json.dumps({**request, "id": request_id}) + "\n").encode())
            self.process.stdin.flush()
        except (OSError, ValueError):
            with self._lock:
                self._pending.pop(request_id, None)
            self.process.poll()
            raise PreviewError(self._failure or self._exit_reason()) from None
        if not done.wait(timeout):
            with self._lock:
                self._pending.pop(request_id, None)
            self.close()
            raise PreviewError(
                f"The serving worker did not answer within {timeout:.0f} s; it was stopped "
                "(the next preview starts a new one)"
            )
        if not box:
            raise PreviewError(self._failure or "The serving worker stopped")
        reply = box[0]
        if not reply.get("ok"):
            raise PreviewError(f"The model could not score this input: {reply.get('message')}")
        return reply.get("outputs") or {}

    def close(self) -> None:
        """Stop the process (closing its stdin lets it exit; a kill makes sure)."""
        if self.process.poll() is None:
            with contextlib.suppress(OSError, ValueError):
                assert self.process.stdin is not None
                self.process.stdin.close()
            try:
                self.process.wait(2)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.process.wait(2)
        if not self._failure:
            self._failure = "The serving worker was closed"
        self._ready.set()


_WORKERS: dict[str, ServingWorker] = {}
_WORKERS_LOCK = threading.Lock()


def serving_worker(export_dir: str | Path) -> ServingWorker:
    """The live worker for this export, or a new one (one per export, per kernel)."""
    key = str(Path(export_dir).resolve())
    with _WORKERS_LOCK:
        worker = _WORKERS.get(key)
        if worker is None or not worker.alive:
            worker = ServingWorker(key)
            _WORKERS[key] = worker
        return worker


def close_serving_worker(export_dir: str | Path) -> None:
    key = str(Path(export_dir).resolve())
    with _WORKERS_LOCK:
        worker = _WORKERS.pop(key, None)
    if worker is not None:
        worker.close()


def shutdown_serving_workers() -> None:
    """Stop every serving worker of this process (also run at interpreter exit)."""
    with _WORKERS_LOCK:
        workers = list(_WORKERS.values())
        _WORKERS.clear()
    for worker in workers:
        worker.close()


atexit.register(shutdown_serving_workers)


# ── the preview ─────────────────────────────────────────────────────────────────────────


def _tower_columns(snapshot: dict[str, Any], tower: str) -> set[str]:
    columns = {str(snapshot.get(f"{tower}_id_column") or "")}
    columns |= {str(f.get("column")) for f in snapshot.get(f"{tower}_features") or []}
    for cross in snapshot.get("crosses") or []:
        if cross.get("tower") == tower:
            columns |= {str(c) for c in cross.get("columns") or []}
    return columns - {""}


def _id_sort_key(value: str) -> tuple[int, int, str]:
    """Numeric ids in numeric order ("2" before "10"), others alphabetically."""
    return (0, len(value), value) if value.isdigit() else (1, 0, value)


class Previewer:
    """What a completed quick test's exported model recommends, beside the buyer's history.

    ``quick_test``: a stored id or a ``QuickTest`` record; ``products``: an optional product
    table (DataFrame or CSV/Parquet path) with the product id column, whose other columns
    (e.g. MovieLens titles and genres) are joined to recommendations and history.
    """

    def __init__(self, quick_test: Any, products: Any = None, store: Any = None):
        self.record = self._record(quick_test, store)
        record = self.record
        if record.status != "completed":
            raise PreviewError(
                f"Quick test {record.id} is {record.status}; a preview needs a completed test"
            )
        if "://" in (record.export_path or ""):
            raise PreviewError(
                f"Quick test {record.id} ran on {record.backend}: its model is at "
                f"{record.export_path}; the preview serves models exported on this machine"
            )
        export = Path(record.export_path) if record.export_path else None
        if export is None or not (export / "saved_model.pb").is_file():
            raise PreviewError(
                f"Quick test {record.id} has no exported model"
                + (f" ({record.export_path} is gone)" if record.export_path else "")
                + "; run the test again"
            )
        self.export_dir = export
        splits = export.parent / SPLITS_DIR
        if not (splits / "train.parquet").is_file():
            raise PreviewError(
                f"Quick test {record.id} kept no data splits (it ran before previews "
                "existed, or its run folder was cleaned); run the test again"
            )
        transform = module_constants(record.transform_code or "")
        trainer = module_constants(record.trainer_code or "")
        self.model_type: str = str(trainer.get("MODEL_TYPE") or "retrieval")
        self.buyer_key: str = str(transform["BUYER_ID_KEY"])
        self.product_key: str = str(transform["PRODUCT_ID_KEY"])
        self.label_key: str | None = transform.get("LABEL_KEY") or None
        self.column_types: dict[str, str] = dict(transform.get("RAW_COLUMN_TYPES") or {})
        self.serving_inputs: dict[str, tuple[str, str]] = {
            k: tuple(v) for k, v in (trainer.get("SERVING_INPUTS") or {}).items()
        }
        self.rating_inputs: dict[str, tuple[str, str]] = {
            k: tuple(v)
            for k, v in (
                trainer.get("RATING_INPUTS")
                or (trainer.get("SERVING_INPUTS") if self.model_type == "ranking" else {})
                or {}
            ).items()
        }
        snapshot = record.feature_config_snapshot or {}
        product_columns = _tower_columns(snapshot, "product") | {self.product_key}
        if self.model_type != "ranking":  # the retrieval signature takes the buyer tower's
            self.buyer_columns = list(self.serving_inputs)
        else:
            buyer_tower = _tower_columns(snapshot, "buyer") | {self.buyer_key}
            self.buyer_columns = [
                c
                for c in self.column_types
                if c in buyer_tower or (c not in product_columns and c != self.label_key)
            ]
        self.product_columns = [c for c in self.column_types if c in product_columns]

        import pandas as pd

        self._train = pd.read_parquet(splits / "train.parquet")
        self._eval = pd.read_parquet(splits / "eval.parquet")
        self._candidates = pd.read_parquet(splits / "candidates.parquet")
        self._train_rows = self._train.groupby(self.buyer_key, sort=False).indices
        self._eval_rows = self._eval.groupby(self.buyer_key, sort=False).indices
        self._buyers = sorted(self._train_rows, key=_id_sort_key)
        self.products = self._product_table(products)

    @staticmethod
    def _record(quick_test: Any, store: Any) -> Any:
        from towerwidgets.config import QuickTest

        if isinstance(quick_test, QuickTest):
            return quick_test
        # numbers.Integral also takes numpy ints (an id read from a DataFrame column).
        if isinstance(quick_test, bool) or not isinstance(quick_test, numbers.Integral | str):
            raise TypeError(
                f"quick_test must be a stored id or a QuickTest, not {type(quick_test).__name__}"
            )
        try:
            test_id = int(quick_test)
        except ValueError:
            raise PreviewError(f"{quick_test!r} is not a quick test id (a number)") from None
        if store is None:
            from towerwidgets.store import Store

            store = Store()
        from towerwidgets.errors import NotFoundError

        try:
            return store.quick_tests.get(test_id)
        except NotFoundError:
            raise PreviewError(f"There is no quick test {test_id} in the store") from None

    def _product_table(self, products: Any) -> pd.DataFrame | None:
        """The product table indexed by product id (as text, like the splits); else the
        candidates' own product columns (the features of each product's latest row)."""
        if products is None:
            table = self._candidates[self.product_columns].copy()
        else:
            try:
                table = load_data(products)
            except ValueError as error:  # QuickTestInputError: a missing or unreadable file
                raise PreviewError(str(error)) from None
            if self.product_key not in table.columns:
                raise PreviewError(
                    f"The product table has no column {self.product_key!r} (the product id "
                    "of this quick test); its columns: " + ", ".join(map(str, table.columns))
                )
            table = table.copy()
        table[self.product_key] = table[self.product_key].astype(str)
        table = table.drop_duplicates(self.product_key).set_index(self.product_key)
        return table

    # ── buyers ──────────────────────────────────────────────────────────────────────────

    @property
    def n_buyers(self) -> int:
        return len(self._buyers)

    def buyers(self, prefix: str = "", limit: int = MAX_BUYERS_LISTED) -> list[str]:
        """Buyer ids of the training split that start with ``prefix`` (at most ``limit``)."""
        prefix = str(prefix).strip()
        matches = (b for b in self._buyers if b.startswith(prefix))
        return list(itertools.islice(matches, max(int(limit), 0)))

    def _buyer_row(self, buyer_id: Any) -> Any:
        """The buyer's latest training row (else eval row), or a PreviewError."""
        key = str(buyer_id).strip()
        for frame, rows in ((self._train, self._train_rows), (self._eval, self._eval_rows)):
            if key in rows:
                return frame.iloc[rows[key][-1]]
        close = self.buyers(key[:1], limit=5) if key else []
        raise PreviewError(
            f"Buyer {key!r} is not in quick test {self.record.id}'s data"
            + (f"; buyers starting with {key[:1]!r}: {', '.join(close)}" if close else "")
        )

    def feature_fields(self, buyer_id: Any = None) -> list[dict[str, Any]]:
        """The buyer tower's raw columns ({column, kind, value}): the form for typed
        features, pre-filled with the buyer's latest values when ``buyer_id`` is given."""
        row = self._buyer_row(buyer_id) if buyer_id is not None else None
        return [
            {
                "column": column,
                "kind": self.column_types.get(column, "string"),
                "value": None if row is None else _plain(row[column]),
            }
            for column in self.buyer_columns
        ]

    def _typed_features(self, features: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(features, dict):
            raise PreviewError("features must be a dict of buyer column -> value")
        unknown = sorted(set(map(str, features)) - set(self.buyer_columns))
        if unknown:
            raise PreviewError(
                f"Unknown buyer feature(s): {', '.join(unknown)}; the buyer tower reads: "
                + ", ".join(self.buyer_columns)
            )
        missing = [c for c in self.buyer_columns if c not in features]
        if missing:
            raise PreviewError(
                "Give a value for every buyer feature; missing: " + ", ".join(missing)
            )
        typed: dict[str, Any] = {}
        for column in self.buyer_columns:
            value, kind = features[column], self.column_types.get(column, "string")
            if kind == "string":
                typed[column] = "" if value is None else str(value)
                continue
            try:
                number = float(str(value).strip())
            except ValueError:
                raise PreviewError(f"{column} must be a number, not {value!r}") from None
            if number != number or number in (float("inf"), float("-inf")):
                raise PreviewError(f"{column} must be a finite number, not {value!r}")
            typed[column] = number if kind == "float" else round(number)
        return typed

    # ── the model ───────────────────────────────────────────────────────────────────────

    @property
    def worker(self) -> ServingWorker:
        return serving_worker(self.export_dir)

    def start(self) -> None:
        """Start the serving worker now (it loads the model in the background)."""
        self.worker  # noqa: B018 - starting it is the point

    def _call(self, signature: str, inputs: dict[str, list[Any]]) -> dict[str, list[Any]]:
        """One request; a worker that had just left after its idle timeout (a clean exit)
        is replaced once, so an idle preview answers as if it never left."""
        worker = self.worker
        try:
            return worker.call(signature, inputs)
        except PreviewError:
            if worker.process.returncode != 0:
                raise
        return self.worker.call(signature, inputs)

    def _inputs(self, rows: list[dict[str, Any]], spec: dict[str, tuple[str, str]]) -> dict:
        return {name: [row[column] for row in rows] for column, (name, _) in spec.items()}

    def _buyer_values(self, buyer_id: Any, features: dict[str, Any] | None) -> dict[str, Any]:
        if features is not None:
            return self._typed_features(features)
        if buyer_id is None:
            raise PreviewError("Pick a buyer id or give the buyer's features")
        row = self._buyer_row(buyer_id)
        return {c: _plain(row[c]) for c in self.buyer_columns}

    def recommend(
        self,
        buyer_id: Any = None,
        *,
        features: dict[str, Any] | None = None,
        k: int = DEFAULT_K,
        exclude_history: bool = False,
    ) -> pd.DataFrame:
        """The model's top-``k`` products for a buyer (by id, or by raw ``features``):
        rank, product id, score, whether the buyer already has it in training, and the
        product's attributes. Retrieval and multitask use the retrieval index (its top 100
        at most); ranking scores every candidate product with the predicted rating.
        ``exclude_history`` leaves out the buyer's training products (then fewer than ``k``
        remain when the index's top 100 are mostly known ones)."""
        import pandas as pd

        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise PreviewError(f"k must be a positive whole number, not {k!r}")
        buyer = self._buyer_values(buyer_id, features)
        seen: set[str] = set()
        if buyer_id is not None and features is None:
            rows = self._train_rows.get(str(buyer_id).strip())
            if rows is not None:
                seen = set(self._train[self.product_key].iloc[rows])
        keep = (lambda i: i not in seen) if exclude_history else (lambda i: True)
        if self.model_type == "ranking":
            scored = self._rate_pairs(buyer, self._candidates)
            all_ids = self._candidates[self.product_key].astype(str).tolist()
            order = sorted(range(len(scored)), key=lambda i: -scored[i])
            order = [i for i in order if keep(all_ids[i])][:k]
            ids = [all_ids[i] for i in order]
            scores = [scored[i] for i in order]
        else:
            outputs = self._call("serving_default", self._inputs([buyer], self.serving_inputs))
            pairs = zip(outputs["product_ids"][0], outputs["scores"][0], strict=False)
            top = [(str(i), float(v)) for i, v in pairs if keep(str(i))][:k]
            ids = [i for i, _ in top]
            scores = [v for _, v in top]
        frame = pd.DataFrame(
            {
                "rank": range(1, len(ids) + 1),
                self.product_key: ids,
                "score": scores,
                "in_history": [i in seen for i in ids],
            }
        )
        if self.model_type == "multitask" and ids:
            known = self._candidates.set_index(self._candidates[self.product_key].astype(str))
            picked = known.loc[[i for i in ids if i in known.index]].reset_index(drop=True)
            if len(picked) == len(ids):
                frame["predicted_rating"] = self._rate_pairs(buyer, picked)
        return self._attach(frame)

    def _rate_pairs(self, buyer: dict[str, Any], products: pd.DataFrame) -> list[float]:
        """The rating signature for (this buyer, each product row)."""
        signature = "rating" if self.model_type == "multitask" else "serving_default"
        inputs = {}
        for column, (name, _) in self.rating_inputs.items():
            if column in self.product_columns and column in products.columns:
                inputs[name] = [_plain(v) for v in products[column]]
            else:
                inputs[name] = [buyer[column]] * len(products)
        outputs = self._call(signature, inputs)
        return [float(v) for v in outputs["rating"]]

    def history(self, buyer_id: Any) -> pd.DataFrame:
        """The buyer's rows of the training split (what the model learned from), with the
        product attributes."""
        self._buyer_row(buyer_id)  # a clear message for an unknown buyer
        rows = self._train_rows.get(str(buyer_id).strip())
        import pandas as pd

        if rows is None:
            return self._attach(pd.DataFrame({self.product_key: []}))
        part = self._train.iloc[rows]
        columns = [self.product_key] + ([self.label_key] if self.label_key else [])
        return self._attach(part[columns].reset_index(drop=True))

    def ratings(self, buyer_id: Any) -> pd.DataFrame:
        """Ranking and multitask: the buyer's eval rows, actual vs predicted rating."""
        import pandas as pd

        if not self.label_key or not self.rating_inputs:
            raise PreviewError(
                f"Quick test {self.record.id} is a {self.model_type} model: it predicts no "
                "ratings (ranking and multitask models do)"
            )
        self._buyer_row(buyer_id)
        rows = self._eval_rows.get(str(buyer_id).strip())
        if rows is None:
            return self._attach(
                pd.DataFrame({self.product_key: [], "actual": [], "predicted": [], "error": []})
            )
        part = self._eval.iloc[rows].reset_index(drop=True)
        signature = "rating" if self.model_type == "multitask" else "serving_default"
        inputs = {
            name: [_plain(v) for v in part[column]]
            for column, (name, _) in self.rating_inputs.items()
        }
        predicted = [float(v) for v in self._call(signature, inputs)["rating"]]
        frame = pd.DataFrame(
            {
                self.product_key: part[self.product_key].astype(str),
                "actual": part[self.label_key].astype(float),
                "predicted": predicted,
            }
        )
        frame["error"] = frame["predicted"] - frame["actual"]
        return self._attach(frame)

    def _attach(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The product table's columns joined to ``frame`` by product id."""
        if self.products is None or self.products.empty or not len(self.products.columns):
            return frame
        extra = [c for c in self.products.columns if c not in frame.columns]
        joined = self.products[extra].reindex(frame[self.product_key].astype(str))
        joined.index = frame.index
        return frame.join(joined)

    def close(self) -> None:
        """Stop this export's serving worker (a later call starts a new one)."""
        close_serving_worker(self.export_dir)

    def __enter__(self) -> Previewer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _plain(value: Any) -> Any:
    """A numpy scalar as a Python value (JSON-safe)."""
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        with contextlib.suppress(Exception):
            return value.item()
    return value
