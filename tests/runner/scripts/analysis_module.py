"""A transform module that uses tft's analyzers beyond what the code generator emits:
vocabularies with top_k, a frequency threshold, numbers as tokens, counts kept in the
file and a fingerprint order; mean, variance, min, max and quantiles."""

import tensorflow as tf
import tensorflow_transform as tft

RAW_COLUMN_TYPES = {"word": "string", "number": "float", "count": "int"}
_DTYPES = {"string": tf.string, "float": tf.float32, "int": tf.int64}


def raw_feature_spec():
    return {
        column: tf.io.FixedLenFeature([], _DTYPES[kind])
        for column, kind in RAW_COLUMN_TYPES.items()
    }


def preprocessing_fn(inputs):
    word = tf.reshape(inputs["word"], [-1])
    number = tf.reshape(inputs["number"], [-1])
    count = tf.reshape(inputs["count"], [-1])
    with_counts = tft.vocabulary(word, store_frequency=True, vocab_filename="with_counts")
    shuffled = tft.vocabulary(word, fingerprint_shuffle=True, vocab_filename="shuffled")
    return {
        "by_frequency": tft.compute_and_apply_vocabulary(
            word, num_oov_buckets=1, vocab_filename="by_frequency"
        ),
        "top_3": tft.compute_and_apply_vocabulary(word, top_k=3, vocab_filename="top_3"),
        "frequent": tft.compute_and_apply_vocabulary(
            word, frequency_threshold=190, vocab_filename="frequent"
        ),
        "count_token": tft.compute_and_apply_vocabulary(count, vocab_filename="count_token"),
        "with_counts_size": tf.fill(tf.shape(word), tf.size(with_counts, out_type=tf.int64)),
        "shuffled_size": tf.fill(tf.shape(word), tf.size(shuffled, out_type=tf.int64)),
        "z": tft.scale_to_z_score(number),
        "unit": tft.scale_to_0_1(number),
        "buckets": tft.bucketize(number, num_buckets=4),
        "centred_count": tf.cast(count, tf.float32) - tft.mean(tf.cast(count, tf.float32)),
    }
