"""Exports the peer service's fitted tree (serve/model_np.joblib) as plain arrays.

Usage: /usr/bin/python3 bench/serve_export_tree.py PEER_SERVE_DIR OUT.json

PEER_SERVE_DIR is a writable copy of ../shared/peers/serve in which train_model.py has run.
OUT.json gets sklearn's tree_ arrays (children_left/right, feature, threshold, value), the
feature names in the order the model reads them, and the offline prediction of
sample_row.json, so bench/serve-entry.mjs serves the very same tree.
"""
import json
import os
import sys

import joblib
import numpy as np

serve_dir, out = sys.argv[1], sys.argv[2]
sys.path.insert(0, serve_dir)
from train_model import FEATURES  # noqa: E402

model = joblib.load(os.path.join(serve_dir, "model_np.joblib"))
t = model.tree_
row = json.load(open(os.path.join(serve_dir, "sample_row.json")))
x = np.array([[row[f] for f in FEATURES]], dtype=np.float64)
with open(out, "w") as f:
    json.dump({
        "features": FEATURES,
        "left": t.children_left.tolist(),
        "right": t.children_right.tolist(),
        "feature": t.feature.tolist(),
        "threshold": t.threshold.tolist(),
        "value": t.value[:, 0, 0].tolist(),
        "sample_prediction": float(model.predict(x)[0]),
    }, f)
print("exported", t.node_count, "nodes to", out)
