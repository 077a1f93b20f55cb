# Hand-written transform module following docs/runtime-contract.md (test scaffolding for the
# runner, independent of the code generator).
import tensorflow as tf
import tensorflow_transform as tft

RAW_COLUMN_TYPES = {
    "buyer_id": "string",
    "product_id": "string",
    "category": "string",
    "price": "float",
    "rating": "float",
}
BUYER_ID_KEY = "buyer_id"
PRODUCT_ID_KEY = "product_id"
LABEL_KEY = "rating"

_DTYPES = {"string": tf.string, "float": tf.float32, "int": tf.int64}


def raw_feature_spec():
    return {
        name: tf.io.FixedLenFeature([], _DTYPES[kind]) for name, kind in RAW_COLUMN_TYPES.items()
    }


def preprocessing_fn(inputs):
    outputs = {}
    for name in ("buyer_id", "product_id", "category"):
        outputs[name] = tft.compute_and_apply_vocabulary(
            inputs[name], num_oov_buckets=1, vocab_filename=name + "_vocab"
        )
    outputs["price"] = tft.scale_to_z_score(inputs["price"])
    outputs["rating"] = inputs["rating"]
    outputs["buyer_id_raw"] = inputs["buyer_id"]
    outputs["product_id_raw"] = inputs["product_id"]
    return outputs
