# Hand-written trainer module following docs/runtime-contract.md (test scaffolding for the
# runner, independent of the code generator). MODEL_TYPE is patched per test.
import numpy as np
import tensorflow as tf
import tensorflow_recommenders as tfrs
import tensorflow_transform as tft
from tfx_bsl.public import tfxio

MODEL_TYPE = "retrieval"
EPOCHS = 2
BATCH_SIZE = 256
LEARNING_RATE = 0.1
EMBEDDING_DIM = 16


class Tower(tf.keras.Model):
    def __init__(self, tft_output, keys):
        super().__init__()
        self.keys = keys
        self.embeddings = {
            key: tf.keras.layers.Embedding(
                tft_output.vocabulary_size_by_name(key + "_vocab") + 1, 16
            )
            for key in keys
        }
        self.dense = tf.keras.Sequential(
            [tf.keras.layers.Dense(32, activation="relu"), tf.keras.layers.Dense(EMBEDDING_DIM)]
        )

    def call(self, features):
        parts = [self.embeddings[k](features[k]) for k in self.keys]
        return self.dense(tf.concat(parts, axis=-1))


class Model(tfrs.models.Model):
    def __init__(self, tft_output, retrieval_weight, ranking_weight):
        super().__init__()
        self.buyer = Tower(tft_output, ["buyer_id"])
        self.product = Tower(tft_output, ["product_id", "category"])
        if ranking_weight:
            self.head = tf.keras.Sequential(
                [tf.keras.layers.Dense(32, activation="relu"), tf.keras.layers.Dense(1)]
            )
        self.retrieval_task = tfrs.tasks.Retrieval()
        self.ranking_task = tfrs.tasks.Ranking(loss=tf.keras.losses.MeanSquaredError())
        self.w_retrieval = retrieval_weight
        self.w_ranking = ranking_weight

    def compute_loss(self, features, training=False):
        q = self.buyer(features)
        c = self.product(features)
        loss = 0.0
        if self.w_retrieval:
            loss += self.w_retrieval * self.retrieval_task(q, c)
        if self.w_ranking:
            pred = self.head(tf.concat([q, c], axis=-1))
            loss += self.w_ranking * self.ranking_task(
                labels=tf.reshape(features["rating"], [-1, 1]), predictions=pred
            )
        return loss


def _dataset(fn_args, pattern, tft_output, batch_size, shuffle):
    return fn_args.data_accessor.tf_dataset_factory(
        pattern,
        tfxio.TensorFlowDatasetOptions(batch_size=batch_size, shuffle=shuffle, num_epochs=1),
        tft_output.transformed_metadata.schema,
    )


class EvalCallback(tf.keras.callbacks.Callback):
    """Tie-aware Recall@K over a brute-force index + RMSE/MAE, added to the epoch logs."""

    def __init__(self, model, eval_ds, cand_ds):
        super().__init__()
        self.m, self.eval_ds, self.cand_ds = model, eval_ds, cand_ds

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        embs, ids = [], []
        for batch in self.cand_ds:
            embs.append(self.m.product(batch).numpy())
            ids.append(batch["product_id"].numpy())
        cands = np.concatenate(embs)
        cand_ids = np.concatenate(ids)
        index = {int(v): i for i, v in enumerate(cand_ids)}
        uniq = np.unique(cands.round(6), axis=0)
        logs["collapsed_fraction"] = float(1 - len(uniq) / len(cands))
        hits = {10: 0, 50: 0, 100: 0}
        n = 0
        se = ae = 0.0
        for batch in self.eval_ds:
            q = self.m.buyer(batch).numpy()
            pid = batch["product_id"].numpy()
            if MODEL_TYPE != "ranking":
                scores = q @ cands.T
                rows = np.array([index.get(int(p), -1) for p in pid])
                true = scores[np.arange(len(q)), np.maximum(rows, 0)]
                rank = (scores >= true[:, None]).sum(axis=1) - 1
                rank[rows < 0] = len(cands)
                for k in hits:
                    hits[k] += int((rank < k).sum())
            if MODEL_TYPE != "retrieval":
                c = self.m.product(batch)
                pred = self.m.head(tf.concat([q, c], axis=-1)).numpy()[:, 0]
                err = pred - batch["rating"].numpy()
                se += float((err**2).sum())
                ae += float(np.abs(err).sum())
            n += len(q)
        if MODEL_TYPE != "ranking":
            for k, h in hits.items():
                logs[f"recall_at_{k}"] = h / max(n, 1)
        if MODEL_TYPE != "retrieval":
            logs["rmse"] = float(np.sqrt(se / max(n, 1)))
            logs["mae"] = ae / max(n, 1)


def run_fn(fn_args):
    cfg = fn_args.custom_config or {}
    epochs = cfg.get("epochs") or EPOCHS
    batch_size = cfg.get("batch_size") or BATCH_SIZE
    lr = cfg.get("learning_rate") or LEARNING_RATE
    if cfg.get("seed") is not None:
        tf.keras.utils.set_random_seed(cfg["seed"])
    tft_output = tft.TFTransformOutput(fn_args.transform_output)
    train = _dataset(fn_args, fn_args.train_files, tft_output, batch_size, True)
    evald = _dataset(fn_args, fn_args.eval_files, tft_output, batch_size, False)
    cands = _dataset(fn_args, cfg.get("candidate_files"), tft_output, 4096, False)
    weights = {"retrieval": (1.0, 0.0), "ranking": (0.0, 1.0), "multitask": (0.5, 0.5)}
    model = Model(tft_output, *weights[MODEL_TYPE])
    model.compile(optimizer=tf.keras.optimizers.Adagrad(learning_rate=lr))
    callbacks = [EvalCallback(model, evald, cands), *cfg.get("callbacks", [])]
    model.fit(train, epochs=epochs, validation_data=evald, callbacks=callbacks, verbose=0)

    buyer_vocab = tft_output.vocabulary_file_by_name("buyer_id_vocab")
    table = tf.lookup.StaticHashTable(
        tf.lookup.TextFileInitializer(
            buyer_vocab,
            tf.string,
            tf.lookup.TextFileIndex.WHOLE_LINE,
            tf.int64,
            tf.lookup.TextFileIndex.LINE_NUMBER,
        ),
        default_value=tft_output.vocabulary_size_by_name("buyer_id_vocab"),
    )
    if MODEL_TYPE == "ranking":

        class Serve(tf.Module):
            def __init__(self):
                self.m, self.table = model, table

            @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
            def serve(self, buyer_id):
                q = self.m.buyer({"buyer_id": self.table.lookup(buyer_id)})
                return {"rating": tf.reduce_sum(q, axis=-1)}

        module = Serve()
        tf.saved_model.save(
            module, fn_args.serving_model_dir, signatures={"serving_default": module.serve}
        )
        return
    index = tfrs.layers.factorized_top_k.BruteForce(model.buyer, k=10)
    index.index_from_dataset(
        cands.map(lambda b: (tf.strings.as_string(b["product_id"]), model.product(b)))
    )

    class Serve(tf.Module):
        def __init__(self):
            self.index, self.table = index, table

        @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
        def serve(self, buyer_id):
            scores, ids = self.index({"buyer_id": self.table.lookup(buyer_id)})
            return {"product_ids": ids, "scores": scores}

    module = Serve()
    tf.saved_model.save(
        module, fn_args.serving_model_dir, signatures={"serving_default": module.serve}
    )
