"""scikit-learn's side of bench/train_tree.mjs: DecisionTreeRegressor fit time on friedman_hash.

Usage (Debian's interpreter, which sees python3-sklearn):

    /usr/bin/python3 bench/train_tree_sklearn.py --rows 100000 --reps 3 --holdout 100000 \
        --max-depth 8 --out .bench/train-tree

Fits `--model tree` (DecisionTreeRegressor(max_depth, random_state=0), the exact splitter) or
`--model hist` (the binned one, see `make`) on friedman_hash(rows, 10, seed=42) with float64 X
(as users pass it; sklearn casts to float32 inside fit), after one untimed warm-up fit on 2,000
other rows, --reps times, and writes `sklearn-<model>-<rows>.json` (every rep's seconds, tree
size, hold-out RMSE, peak memory, a data fingerprint) and `sklearn-<model>-<rows>.f64`
(predictions on friedman_hash(holdout, 10, seed=7), little-endian float64).

The generator is the peers' portable friedman_hash, in bench/peerdata.py (a copy, so this script
runs without ../shared); the JavaScript side has a bit-identical port.
"""
import argparse
import json
import os
import resource
import time

import numpy as np
import sklearn
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.tree import DecisionTreeRegressor
from peerdata import friedman_hash

def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def make(a):
    """The estimator: the exact CART tree, or the binned one.

    The binned tree is scikit-learn's own histogram splitter, HistGradientBoostingRegressor with
    one iteration at learning rate 1 and no regularisation: one regression tree on 255 bins of
    each feature, fitted to y minus its mean (the squared-error gradient), depth-limited like the
    exact tree. It is what @mlops's `splitter: "hist"` is compared with (binned against binned).
    Threads: OMP_NUM_THREADS (bench/train_tree.mjs sets 1, as our fit uses one thread).
    """
    if a.model == "tree":
        return DecisionTreeRegressor(max_depth=a.max_depth, random_state=0)
    return HistGradientBoostingRegressor(
        max_iter=1,
        learning_rate=1.0,
        max_depth=a.max_depth,
        max_leaf_nodes=None,
        min_samples_leaf=1,
        l2_regularization=0.0,
        max_bins=255,
        early_stopping=False,
        random_state=0,
    )


def leaves(model):
    if hasattr(model, "get_n_leaves"):
        return int(model.get_n_leaves())
    return int(sum(1 for node in model._predictors[0][0].nodes if node["is_leaf"]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, required=True)
    ap.add_argument("--features", type=int, default=10)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--holdout", type=int, default=100000)
    ap.add_argument("--max-depth", type=int, default=8)
    ap.add_argument("--model", choices=["tree", "hist"], default="tree")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    X, y = friedman_hash(a.rows, a.features, 42)
    X_test, y_test = friedman_hash(a.holdout, a.features, 7)
    # The same warm-up as the JavaScript side: one fit on 2,000 other rows, untimed.
    X_warm, y_warm = friedman_hash(2000, a.features, 1)
    make(a).fit(X_warm, y_warm)
    baseline = rss_bytes()
    times = []
    model = None
    peak = None
    for _ in range(a.reps):
        model = make(a)
        start = time.perf_counter()
        model.fit(X, y)
        times.append(time.perf_counter() - start)
        if peak is None:
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - baseline
    predictions = model.predict(X_test)
    name = f"sklearn-{a.model}-{a.rows}"
    predictions.astype("<f8").tofile(os.path.join(a.out, f"{name}.f64"))
    result = {
        "sklearn": sklearn.__version__,
        "rows": a.rows,
        "features": a.features,
        "max_depth": a.max_depth,
        "fit_seconds": times,
        "model": a.model,
        "leaves": leaves(model),
        "holdout_rmse": float(np.sqrt(np.mean((predictions - y_test) ** 2))),
        "peak_bytes": int(max(peak, 0)),
        "data_bytes": int(X.nbytes),
        "fingerprint": {"X_first": X[0].tolist(), "X_last": X[-1].tolist(), "y_last": float(y[-1])},
    }
    with open(os.path.join(a.out, f"{name}.json"), "w") as f:
        json.dump(result, f, indent=1)
    print(json.dumps({k: result[k] for k in ("rows", "model", "fit_seconds", "holdout_rmse")}))


if __name__ == "__main__":
    main()
