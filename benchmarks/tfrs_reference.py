"""The hand-written reference: a TFRS tutorial-style model on MovieLens ratings.csv.

Written the way the official TensorFlow Recommenders tutorials do it (StringLookup +
Embedding towers, a streaming ``FactorizedTopK`` metric over the candidate dataset for
retrieval, ``RootMeanSquaredError`` for ranking), with the benchmark's settings: ids as the
only features (embedding 32), one linear Dense(32) per tower, Adagrad 0.1, batch 4096,
3 epochs, the same seeded 80/20 split as the quick test. Prints one JSON line of results.

    python benchmarks/tfrs_reference.py retrieval PATH/TO/ratings.csv [SEED]
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import json
import resource
import sys
import time

import numpy as np
import pandas as pd
import tensorflow as tf
import tensorflow_recommenders as tfrs

EMBEDDING_DIM = 32
BATCH_SIZE = 4096
EPOCHS = 3
LEARNING_RATE = 0.1
SEED = 42


def split(n: int, seed: int = SEED, eval_fraction: float = 0.2) -> np.ndarray:
    """The quick test's seeded split: a random permutation, the first 20% for evaluation."""
    n_eval = min(max(1, round(n * eval_fraction)), n - 1)
    is_eval = np.zeros(n, dtype=bool)
    is_eval[np.random.default_rng(seed).permutation(n)[:n_eval]] = True
    return is_eval


def tower(vocabulary: np.ndarray) -> tf.keras.Model:
    return tf.keras.Sequential(
        [
            tf.keras.layers.StringLookup(vocabulary=vocabulary, mask_token=None),
            tf.keras.layers.Embedding(len(vocabulary) + 1, EMBEDDING_DIM),
            tf.keras.layers.Dense(EMBEDDING_DIM),
        ]
    )


class RetrievalModel(tfrs.Model):
    def __init__(self, users: np.ndarray, movies: np.ndarray, candidates: tf.data.Dataset):
        super().__init__()
        self.user_model = tower(users)
        self.movie_model = tower(movies)
        self.task = tfrs.tasks.Retrieval(
            metrics=tfrs.metrics.FactorizedTopK(
                candidates=candidates.batch(128).map(self.movie_model), ks=(10, 50, 100)
            )
        )

    def compute_loss(self, features, training=False):
        user_embeddings = self.user_model(features["userId"])
        movie_embeddings = self.movie_model(features["movieId"])
        return self.task(user_embeddings, movie_embeddings, compute_metrics=not training)


class RankingModel(tfrs.Model):
    def __init__(self, users: np.ndarray, movies: np.ndarray):
        super().__init__()
        self.user_model = tower(users)
        self.movie_model = tower(movies)
        self.ratings = tf.keras.Sequential(
            [
                tf.keras.layers.Dense(256, activation="relu"),
                tf.keras.layers.Dense(64, activation="relu"),
                tf.keras.layers.Dense(1),
            ]
        )
        self.task = tfrs.tasks.Ranking(
            loss=tf.keras.losses.MeanSquaredError(),
            metrics=[
                tf.keras.metrics.RootMeanSquaredError(name="rmse"),
                tf.keras.metrics.MeanAbsoluteError(name="mae"),
            ],
        )

    def compute_loss(self, features, training=False):
        user = self.user_model(features["userId"])
        movie = self.movie_model(features["movieId"])
        predictions = self.ratings(tf.concat([user, movie], axis=1))
        return self.task(labels=features["rating"], predictions=predictions)


def main(task: str, ratings_csv: str, seed: int = SEED) -> dict:
    tf.keras.utils.set_random_seed(seed)
    ratings = pd.read_csv(ratings_csv, dtype={"userId": str, "movieId": str})
    is_eval = split(len(ratings), seed)
    train_df, test_df = ratings[~is_eval], ratings[is_eval]
    users = np.unique(train_df["userId"].to_numpy())
    movies = np.unique(train_df["movieId"].to_numpy())
    columns = ["userId", "movieId"] + (["rating"] if task == "ranking" else [])

    def dataset(frame: pd.DataFrame) -> tf.data.Dataset:
        return tf.data.Dataset.from_tensor_slices({c: frame[c].to_numpy() for c in columns})

    train = dataset(train_df).shuffle(100_000, seed=seed).batch(BATCH_SIZE).cache()
    test = dataset(test_df).batch(BATCH_SIZE).cache()
    if task == "retrieval":
        candidates = tf.data.Dataset.from_tensor_slices(np.unique(ratings["movieId"].to_numpy()))
        model = RetrievalModel(users, movies, candidates)
    else:
        model = RankingModel(users, movies)
    model.compile(optimizer=tf.keras.optimizers.Adagrad(learning_rate=LEARNING_RATE))
    start = time.time()
    model.fit(train, epochs=EPOCHS, verbose=0)
    train_seconds = time.time() - start
    start = time.time()
    metrics = model.evaluate(test, return_dict=True, verbose=0)
    eval_seconds = time.time() - start
    result = {
        "task": task,
        "seed": seed,
        "train_seconds": round(train_seconds, 2),
        "eval_seconds": round(eval_seconds, 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    if task == "retrieval":
        for k in (10, 50, 100):
            result[f"recall_at_{k}"] = float(
                metrics[f"factorized_top_k/top_{k}_categorical_accuracy"]
            )
    else:
        result["rmse"] = float(metrics["rmse"])
        result["mae"] = float(metrics["mae"])
    return result


if __name__ == "__main__":
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else SEED
    print(json.dumps(main(sys.argv[1], sys.argv[2], seed)), flush=True)
