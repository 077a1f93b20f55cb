"""Run the worker's transform both ways on the same splits; print whether examples agree.

Usage: python compare_transform_modes.py TRANSFORM_MODULE TRAIN EVAL CANDIDATES WORKDIR
"""

import json
import os
import sys

os.environ["TF_USE_LEGACY_KERAS"] = "1"

from towerwidgets.runner import worker

worker.emit = lambda *args, **kwargs: None


def read(directory):
    import tensorflow as tf

    rows = []
    for path in sorted(tf.io.gfile.glob(os.path.join(directory, "*.gz"))):
        for record in tf.data.TFRecordDataset(path, compression_type="GZIP"):
            example = tf.train.Example.FromString(record.numpy())
            row = {}
            for name, feature in sorted(example.features.feature.items()):
                kind = feature.WhichOneof("kind")
                row[name] = [
                    v.decode() if isinstance(v, bytes) else round(float(v), 5)
                    for v in getattr(feature, kind).value
                ]
            rows.append(json.dumps(row, sort_keys=True))
    return sorted(rows)


def main():
    module_path, train, evaluation, candidates, workdir = sys.argv[1:6]
    module = worker.load_module(module_path, "transform_under_test")
    results = {}
    for mode in ("analyze", "beam"):
        job = {
            "cache_dir": os.path.join(workdir, mode),
            "cache_key": "key",
            "data": {"train": train, "eval": evaluation, "candidates": candidates},
            "transform_mode": mode,
        }
        out = worker.run_transform(job, module)
        results[mode] = {
            split: read(os.path.join(out["dir"], split))
            for split in ("train", "eval", "candidates")
        }
    same = {split: results["analyze"][split] == results["beam"][split] for split in results["beam"]}
    counts = {split: len(rows) for split, rows in results["analyze"].items()}
    example = json.loads(results["analyze"]["train"][0])
    print(json.dumps({"same": same, "counts": counts, "features": sorted(example)}))


if __name__ == "__main__":
    main()
