"""scikit-learn's side of bench/forest.mjs: RandomForestRegressor fit time on friedman_hash.

Usage (Debian's interpreter, which sees python3-sklearn):

    /usr/bin/python3 bench/forest_sklearn.py --rows 100000 --trees 100 --jobs 1 \
        --holdout 20000 --out .bench/forest

Fits RandomForestRegressor(n_estimators=trees, n_jobs=jobs, random_state=0) (every other
setting at its default: bootstrap, unlimited depth, all features) on friedman_hash(rows, 10,
seed=42), once, and writes `sklearn-<rows>-<trees>-<jobs>.json` (fit seconds, node count,
hold-out RMSE) and `.f64` (predictions on friedman_hash(holdout, 10, seed=7) rounded to
float32, little-endian float64).

The generator is the peers' portable friedman_hash (../shared/peers/peerdata.py), copied here;
the JavaScript side has a bit-identical port.
"""
import argparse
import json
import os
import time

import numpy as np
from sklearn.ensemble import RandomForestRegressor
from peerdata import friedman_hash

def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100000)
    parser.add_argument("--trees", type=int, default=100)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--holdout", type=int, default=20000)
    parser.add_argument("--out", default=".bench/forest")
    args = parser.parse_args()
    X, y = friedman_hash(args.rows, 10, 42)
    Xh, yh = friedman_hash(args.holdout, 10, 7)
    # The same warm-up as the JavaScript side: 4 trees on 2,000 other rows, untimed (it also
    # starts joblib's workers for n_jobs > 1, as ours starts its threads).
    Xw, yw = friedman_hash(2000, 10, 3)
    RandomForestRegressor(n_estimators=4, n_jobs=args.jobs, random_state=0).fit(Xw, yw)
    start = time.perf_counter()
    forest = RandomForestRegressor(
        n_estimators=args.trees, n_jobs=args.jobs, random_state=0
    ).fit(X, y)
    seconds = time.perf_counter() - start
    predictions = forest.predict(Xh.astype(np.float32).astype(np.float64))
    os.makedirs(args.out, exist_ok=True)
    stem = os.path.join(args.out, f"sklearn-{args.rows}-{args.trees}-{args.jobs}")
    predictions.astype("<f8").tofile(stem + ".f64")
    with open(stem + ".json", "w") as f:
        json.dump(
            {
                "seconds": seconds,
                "nodes": int(sum(e.tree_.node_count for e in forest.estimators_)),
                "rmse": float(np.sqrt(np.mean((predictions - yh) ** 2))),
            },
            f,
        )


if __name__ == "__main__":
    main()
