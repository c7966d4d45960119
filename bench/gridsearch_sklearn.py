"""scikit-learn's side of bench/gridsearch.mjs: GridSearchCV over a DecisionTreeRegressor grid.

Usage (Debian's interpreter, which sees python3-sklearn):

    /usr/bin/python3 bench/gridsearch_sklearn.py --n-jobs 1 --reps 3 --out .bench/gridsearch

Grid: max_depth 2..12 x min_samples_leaf [1, 2, 5, 10, 20, 50, 100, 200, 500] (99 settings),
cv=5 (for a regressor KFold(5, shuffle=False): contiguous folds of 4,000 rows),
scoring=neg_root_mean_squared_error, refit=True, on friedman_hash(20000, 10, seed=42); the refit
model is scored on friedman_hash(5000, 10, seed=43). The same settings as the peers'
bench_gridsearch.py, plus the per-split scores of every setting, so that another implementation
can be compared split by split. Writes `sklearn-jobs<N>.json`: wall seconds per rep, best
params and score, hold-out RMSE and the cv table (RMSE, positive).

The generator is the peers' portable friedman_hash, in bench/peerdata.py (a copy, so this script
runs without ../shared); the JavaScript side has a bit-identical port.
"""
import argparse
import json
import os
import time

import numpy as np
import sklearn
from sklearn.model_selection import GridSearchCV
from sklearn.tree import DecisionTreeRegressor
from peerdata import friedman_hash

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n-jobs", type=int, default=1)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    X, y = friedman_hash(20000, 10, 42)
    X_hold, y_hold = friedman_hash(5000, 10, 43)
    walls, cpu = [], []
    search = None
    for _ in range(a.reps):
        search = GridSearchCV(DecisionTreeRegressor(random_state=0), GRID, cv=5,
                              scoring="neg_root_mean_squared_error", n_jobs=a.n_jobs, refit=True)
        t0, c0 = time.perf_counter(), os.times()
        search.fit(X, y)
        t1, c1 = time.perf_counter(), os.times()
        walls.append(t1 - t0)
        cpu.append(sum(c1[:4]) - sum(c0[:4]))
    results = search.cv_results_
    table = []
    for i, params in enumerate(results["params"]):
        table.append({
            "max_depth": int(params["max_depth"]),
            "min_samples_leaf": int(params["min_samples_leaf"]),
            "mean": float(-results["mean_test_score"][i]),
            "std": float(results["std_test_score"][i]),
            "splits": [float(-results[f"split{k}_test_score"][i]) for k in range(5)],
            "rank": int(results["rank_test_score"][i]),
        })
    hold = float(np.sqrt(np.mean((search.predict(X_hold) - y_hold) ** 2)))
    out = {
        "sklearn": sklearn.__version__,
        "n_jobs": a.n_jobs,
        "walls": walls,
        "cpu_seconds": cpu,
        "best_params": {k: int(v) for k, v in search.best_params_.items()},
        "best_cv_rmse": float(-search.best_score_),
        "holdout_rmse": hold,
        "fingerprint": {"X_last": [float(v) for v in X[-1]], "y_last": float(y[-1])},
        "cv_table": table,
    }
    with open(os.path.join(a.out, f"sklearn-jobs{a.n_jobs}.json"), "w") as f:
        json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
