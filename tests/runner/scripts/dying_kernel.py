"""A 'kernel' that starts a long quick test and crashes after its first epoch.

Usage: python dying_kernel.py STORE_DB HOME   (prints the test id and the worker pid)
"""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from runner_helpers import generated_code, model_config

from towerwidgets.config import Feature, FeatureConfig
from towerwidgets.datasets import sample
from towerwidgets.runner import start_quick_test
from towerwidgets.store import Store

features = FeatureConfig(
    name="dying",
    buyer_id_column="buyer_id",
    product_id_column="product_id",
    buyer_features=[Feature(column="buyer_id", embedding_dim=8)],
    product_features=[Feature(column="product_id", embedding_dim=8)],
)
mc = model_config(epochs=500)
data = sample(n_buyers=100, n_products=80, n_interactions=2000, seed=5)
handle = start_quick_test(
    features,
    mc,
    data,
    store=Store(sys.argv[1]),
    home=sys.argv[2],
    code=generated_code(features, mc),
)
for event in handle.events(timeout=180):
    if event.kind == "epoch":
        print(handle.id, handle.record.worker_pid, flush=True)
        os._exit(3)  # the kernel dies without cleaning anything up
print("no epoch", handle.record.error_message, flush=True)
