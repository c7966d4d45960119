"""The Python peers of bench/gbm.mjs: one fit of scikit-learn's HistGradientBoostingRegressor or
XGBoost's hist booster on friedman_hash, timed, in a fresh process.

Usage (Debian's interpreter: python3-sklearn 1.2.1, python3-xgboost 1.7):

    /usr/bin/python3 bench/gbm_peers.py --peer sklearn --rows 1000000 --threads 2 \
        --iters 100 --leaves 31 --bins 255 --holdout 100000

Both are configured as their users would for the comparison: no early stopping, `iters` trees
of at most `leaves` leaves grown best-first, `bins` bins per feature, `threads` threads
(OpenMP), learning rate 0.1, no L2 penalty. scikit-learn keeps its `min_samples_leaf=20`;
XGBoost gets `min_child_weight=20` (its hessian sum is the row count for squared error).
Prints one JSON line: fit seconds, hold-out RMSE, peak memory (the peak RSS during the fit,
reset just before it with /proc/self/clear_refs, minus the RSS before it, bytes), and the data's
own size.
"""
import argparse
import json
import os
import resource
import sys

parser = argparse.ArgumentParser()
parser.add_argument("--peer", choices=["sklearn", "xgboost"], required=True)
parser.add_argument("--rows", type=int, default=1_000_000)
parser.add_argument("--threads", type=int, default=2)
parser.add_argument("--iters", type=int, default=100)
parser.add_argument("--leaves", type=int, default=31)
parser.add_argument("--bins", type=int, default=255)
parser.add_argument("--holdout", type=int, default=100_000)
args = parser.parse_args()
# Before numpy / scikit-learn load OpenMP.
os.environ["OMP_NUM_THREADS"] = str(args.threads)

import time  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from forest_sklearn import friedman_hash  # noqa: E402


def status_bytes(field):
    """VmRSS / VmHWM from /proc/self/status, in bytes."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(field)


def reset_peak():
    """Resets the peak RSS (VmHWM) to the current RSS (Linux: clear_refs 5)."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


X, y = friedman_hash(args.rows, 10, 42)
Xh, yh = friedman_hash(args.holdout, 10, 7)
if args.peer == "sklearn":
    from sklearn.ensemble import HistGradientBoostingRegressor

    model = HistGradientBoostingRegressor(
        max_iter=args.iters,
        max_leaf_nodes=args.leaves,
        max_bins=args.bins,
        learning_rate=0.1,
        early_stopping=False,
        random_state=0,
    )
    # Warm-up on other rows (imports, OpenMP pool), as the JavaScript side warms its JIT.
    Xw, yw = friedman_hash(2000, 10, 3)
    HistGradientBoostingRegressor(max_iter=5, early_stopping=False).fit(Xw, yw)
else:
    import xgboost

    model = xgboost.XGBRegressor(
        tree_method="hist",
        n_estimators=args.iters,
        max_leaves=args.leaves,
        grow_policy="lossguide",
        max_depth=0,
        max_bin=args.bins,
        learning_rate=0.1,
        reg_lambda=0.0,
        min_child_weight=20,
        n_jobs=args.threads,
        random_state=0,
    )
    Xw, yw = friedman_hash(2000, 10, 3)
    xgboost.XGBRegressor(tree_method="hist", n_estimators=5, n_jobs=args.threads).fit(Xw, yw)

reset_peak()
before = status_bytes("VmRSS")
usage = resource.getrusage(resource.RUSAGE_SELF)
start = time.perf_counter()
model.fit(X, y)
seconds = time.perf_counter() - start
after = resource.getrusage(resource.RUSAGE_SELF)
cpu_seconds = (after.ru_utime + after.ru_stime) - (usage.ru_utime + usage.ru_stime)
peak = status_bytes("VmHWM")
predictions = model.predict(Xh)
print(
    json.dumps(
        {
            "seconds": seconds,
            "cpuSeconds": cpu_seconds,
            "rmse": float(np.sqrt(np.mean((predictions - yh) ** 2))),
            "peakBytes": max(0, peak - before),
            "dataBytes": int(X.nbytes + y.nbytes),
        }
    )
)
