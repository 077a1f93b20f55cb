"""Run the worker's transform three ways on the same splits; print whether they agree.

"memory": tft's analysis graph run in this process (runner/analysis.py), graph applied in
TensorFlow; "beam_analysis": the analysis on Beam, graph applied in TensorFlow; "beam":
analysis and TransformDataset both on Beam. Compared: the examples of every split, the
vocabulary files byte for byte and the transformed schema.

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


def artifacts(transform_output):
    """The vocabulary files (name -> bytes) and the transformed schema, as text."""
    from tensorflow_transform.tf_metadata import metadata_io

    assets = os.path.join(transform_output, "transform_fn", "assets")
    vocabularies = {}
    for name in sorted(os.listdir(assets)) if os.path.isdir(assets) else []:
        with open(os.path.join(assets, name), "rb") as file:
            vocabularies[name] = file.read()
    schema = metadata_io.read_metadata(os.path.join(transform_output, "transformed_metadata"))
    return vocabularies, str(schema.schema)


def main():
    module_path, train, evaluation, candidates, workdir = sys.argv[1:6]
    module = worker.load_module(module_path, "transform_under_test")
    results = {}
    outputs = {}
    analyses = {}
    for mode in ("memory", "beam_analysis", "beam"):
        job = {
            "cache_dir": os.path.join(workdir, mode),
            "cache_key": "key",
            "data": {"train": train, "eval": evaluation, "candidates": candidates},
            "transform_mode": mode,
        }
        out = worker.run_transform(job, module)
        analyses[mode] = out["analysis"]
        outputs[mode] = artifacts(os.path.join(out["dir"], "transform_output"))
        results[mode] = {
            split: read(os.path.join(out["dir"], split))
            for split in ("train", "eval", "candidates")
        }
    same = {
        split: results["memory"][split] == results["beam_analysis"][split] == results["beam"][split]
        for split in results["beam"]
    }
    vocabularies, schema = outputs["memory"]
    report = {
        "same": same,
        "same_vocabularies": all(outputs[mode][0] == vocabularies for mode in outputs),
        "same_schema": all(outputs[mode][1] == schema for mode in outputs),
        "vocabularies": {name: data.count(b"\n") for name, data in vocabularies.items()},
        "analyses": analyses,
        "counts": {split: len(rows) for split, rows in results["memory"].items()},
        "features": sorted(json.loads(results["memory"]["train"][0])),
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
