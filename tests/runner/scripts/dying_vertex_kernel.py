"""A 'kernel' that starts a quick test on (fake) Vertex AI and dies after its first epoch.

Usage: python dying_vertex_kernel.py STORE_DB HOME VERTEX_ENDPOINT
(STORAGE_EMULATOR_HOST comes from the environment; prints the test id.)
"""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from runner_helpers import generated_code, model_config
from vertex_helpers import init_sdk, make_backend

from towerwidgets.config import Feature, FeatureConfig
from towerwidgets.datasets import sample
from towerwidgets.runner import start_quick_test
from towerwidgets.store import Store

init_sdk(sys.argv[3])
features = FeatureConfig(
    name="dying on vertex",
    buyer_id_column="buyer_id",
    product_id_column="product_id",
    buyer_features=[Feature(column="buyer_id", embedding_dim=8)],
    product_features=[Feature(column="product_id", embedding_dim=8)],
)
mc = model_config(epochs=3)
data = sample(n_buyers=60, n_products=40, n_interactions=600, seed=5)
handle = start_quick_test(
    features,
    mc,
    data,
    store=Store(sys.argv[1]),
    home=sys.argv[2],
    backend=make_backend(),
    code=generated_code(features, mc),
)
for event in handle.events(timeout=60):
    if event.kind == "epoch":
        print(handle.id, flush=True)
        os._exit(3)  # the kernel dies; the job goes on running on Vertex AI
print("no epoch", handle.record.error_message, flush=True)
