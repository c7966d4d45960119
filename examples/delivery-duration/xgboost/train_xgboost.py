"""Trains seed 000's kind of model, an XGBoost regressor, on the example's delivery data.

Called by make-model.mjs (which writes the data): python3 train_xgboost.py DATA_DIR OUT_DIR REQUEST
Writes OUT_DIR/model.json (booster.save_model) and OUT_DIR/expected.json: xgboost's prediction
for the seed's request (request.json, without its id), its hold-out rmse, and its predictions
for the first 100 hold-out rows.
"""
import csv
import json
import os
import sys

import numpy as np
import xgboost

data_dir, out_dir, request = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])


def read(name):
    with open(os.path.join(data_dir, name)) as f:
        rows = list(csv.DictReader(f))
    features = [c for c in rows[0].keys() if c != "duration_time"]
    X = np.array([[float(r[c]) for c in features] for r in rows])
    y = np.array([float(r["duration_time"]) for r in rows])
    return features, X, y


features, X, y = read("train.csv")
_, X_holdout, y_holdout = read("holdout.csv")
model = xgboost.XGBRegressor(
    n_estimators=150, max_depth=6, learning_rate=0.1, subsample=0.8, colsample_bytree=0.8,
    tree_method="hist", random_state=0, n_jobs=2,
)
model.fit(X, y)
booster = model.get_booster()
booster.feature_names = features
booster.save_model(os.path.join(out_dir, "model.json"))
row = np.array([[float(request[name]) for name in features]])
predicted = model.predict(X_holdout)
expected = {
    "xgboost": xgboost.__version__,
    "params": {"n_estimators": 150, "max_depth": 6, "learning_rate": 0.1, "subsample": 0.8,
               "colsample_bytree": 0.8, "tree_method": "hist", "random_state": 0},
    "request": float(model.predict(row)[0]),
    "holdoutRmse": float(np.sqrt(np.mean((predicted - y_holdout) ** 2))),
    "holdout": [float(v) for v in predicted[:100]],
}
with open(os.path.join(out_dir, "expected.json"), "w") as out:
    json.dump(expected, out, indent=1)
    out.write("\n")
print(f"xgboost {xgboost.__version__}: hold-out rmse {expected['holdoutRmse']:.3f}, "
      f"request → {expected['request']:.3f} min")
