"""Analyse one transform module in memory and on Beam; print whether the graphs agree.

Usage: python compare_analysis.py TRANSFORM_MODULE TRAIN_PARQUET WORKDIR ROWS_PER_BATCH
Prints one JSON line: the analysis each mode ran, whether every vocabulary file is the
same byte for byte, and the largest difference of every output over the training rows.
"""

import json
import os
import sys

os.environ["TF_USE_LEGACY_KERAS"] = "1"

from towerwidgets.runner import worker

worker.emit = lambda *args, **kwargs: None


def main():
    module_path, train, workdir, rows_per_batch = sys.argv[1:5]
    worker.ROWS_PER_BATCH = int(rows_per_batch)
    import numpy as np
    import tensorflow as tf
    import tensorflow_transform as tft
    from tensorflow_transform.tf_metadata import schema_utils
    from tfx_bsl.public import tfxio
    from tfx_bsl.tfxio import tensor_representation_util

    module = worker.load_module(module_path, "analysis_under_test")
    column_types = dict(module.RAW_COLUMN_TYPES)
    schema = schema_utils.schema_from_feature_spec(module.raw_feature_spec())
    representations = tensor_representation_util.InferTensorRepresentationsFromSchema(schema)
    config = tfxio.TensorAdapterConfig(worker._list_schema(column_types), representations)
    outputs, vocabularies, analyses, batches = {}, {}, {}, 0
    for mode in ("memory", "beam_analysis"):
        out = worker.Path(workdir) / mode
        out.mkdir(parents=True)
        analyses[mode] = worker._analyze(
            module, train, worker._split_rows(train), column_types, config, out, mode
        )
        transform_output = tft.TFTransformOutput(str(out / "transform_output"))
        assets = out / "transform_output" / "transform_fn" / "assets"
        vocabularies[mode] = {p.name: p.read_bytes() for p in sorted(assets.iterdir())}
        results = {}
        batches = 0
        for part in worker._flat_batches(train, column_types):
            batches += 1
            raw = {
                name: tf.constant(
                    part.column(name).to_numpy(zero_copy_only=False),
                    dtype={"string": tf.string, "float": tf.float32, "int": tf.int64}[kind],
                )
                for name, kind in column_types.items()
            }
            for name, value in transform_output.transform_raw_features(raw).items():
                results.setdefault(name, []).append(value.numpy())
        outputs[mode] = {name: np.concatenate(parts) for name, parts in results.items()}
    differences = {
        name: float(np.max(np.abs(outputs["memory"][name] - outputs["beam_analysis"][name])))
        for name in outputs["beam_analysis"]
    }
    print(
        json.dumps(
            {
                "analyses": analyses,
                "batches": batches,
                "same_vocabularies": vocabularies["memory"] == vocabularies["beam_analysis"],
                "vocabularies": {
                    name: data.count(b"\n") for name, data in vocabularies["memory"].items()
                },
                "differences": differences,
            }
        )
    )


if __name__ == "__main__":
    main()
