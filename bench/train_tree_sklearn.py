"""scikit-learn's side of bench/train_tree.mjs: DecisionTreeRegressor fit time on friedman_hash.

Usage (Debian's interpreter, which sees python3-sklearn):

    /usr/bin/python3 bench/train_tree_sklearn.py --rows 100000 --reps 3 --holdout 100000 \
        --max-depth 8 --out .bench/train-tree

Fits DecisionTreeRegressor(max_depth, random_state=0) on friedman_hash(rows, 10, seed=42) with
float64 X (as users pass it; sklearn casts to float32 inside fit), best of --reps, and writes
`sklearn-<rows>.json` (times, tree size, hold-out RMSE, peak memory, a data fingerprint) and
`sklearn-<rows>.f64` (predictions on friedman_hash(holdout, 10, seed=7), little-endian float64).

The generator is the peers' portable friedman_hash (../shared/peers/peerdata.py), copied here so
this script runs without that folder; the JavaScript side has a bit-identical port.
"""
import argparse
import json
import os
import resource
import time

import numpy as np
import sklearn
from sklearn.tree import DecisionTreeRegressor

M32 = np.uint64(0xFFFFFFFF)


def uniform_hash(seed, start, count):
    i = np.arange(start, start + count, dtype=np.uint64)
    base = (np.uint64(seed) * np.uint64(0x85EBCA77) + np.uint64(0x165667B1)) & M32
    h = ((i & M32) * np.uint64(0x9E3779B9) + base) & M32
    h ^= h >> np.uint64(16)
    h = (h * np.uint64(0x85EBCA6B)) & M32
    h ^= h >> np.uint64(13)
    h = (h * np.uint64(0xC2B2AE35)) & M32
    h ^= h >> np.uint64(16)
    return h.astype(np.float64) / 4294967296.0


def friedman_hash(n, p=10, seed=42):
    u = uniform_hash(seed, 0, n * (p + 1)).reshape(n, p + 1)
    X = np.ascontiguousarray(u[:, :p])
    e = u[:, p]
    t = X[:, 0] * X[:, 1]
    d = X[:, 2] - 0.5
    y = 40.0 * t * (1.0 - t) + 20.0 * d * d + 10.0 * X[:, 3] + 5.0 * X[:, 4] + 2.0 * (e - 0.5)
    return X, y


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, required=True)
    ap.add_argument("--features", type=int, default=10)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--holdout", type=int, default=100000)
    ap.add_argument("--max-depth", type=int, default=8)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    X, y = friedman_hash(a.rows, a.features, 42)
    X_test, y_test = friedman_hash(a.holdout, a.features, 7)
    baseline = rss_bytes()
    times = []
    model = None
    peak = None
    for _ in range(a.reps):
        model = DecisionTreeRegressor(max_depth=a.max_depth, random_state=0)
        start = time.perf_counter()
        model.fit(X, y)
        times.append(time.perf_counter() - start)
        if peak is None:
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - baseline
    predictions = model.predict(X_test)
    predictions.astype("<f8").tofile(os.path.join(a.out, f"sklearn-{a.rows}.f64"))
    result = {
        "sklearn": sklearn.__version__,
        "rows": a.rows,
        "features": a.features,
        "max_depth": a.max_depth,
        "fit_seconds": times,
        "best_seconds": min(times),
        "leaves": int(model.get_n_leaves()),
        "nodes": int(model.tree_.node_count),
        "holdout_rmse": float(np.sqrt(np.mean((predictions - y_test) ** 2))),
        "peak_bytes": int(max(peak, 0)),
        "data_bytes": int(X.nbytes),
        "fingerprint": {"X_first": X[0].tolist(), "X_last": X[-1].tolist(), "y_last": float(y[-1])},
    }
    with open(os.path.join(a.out, f"sklearn-{a.rows}.json"), "w") as f:
        json.dump(result, f, indent=1)
    print(json.dumps({k: result[k] for k in ("rows", "best_seconds", "leaves", "holdout_rmse")}))


if __name__ == "__main__":
    main()
