"""pandas side of bench/batch.mjs: the usual batch-scoring script, timed.

    /usr/bin/python3 bench/batch_pandas.py fit OUT_DIR [--train-rows 100000] [--depth 8]
    /usr/bin/python3 bench/batch_pandas.py score OUT_DIR INPUT.csv OUTPUT.csv

`fit` trains DecisionTreeRegressor(max_depth=8) on friedman_hash rows (seed 42, values rounded to
float32 as bench/predict_sklearn.py does), pickles it to OUT_DIR/model.pkl and exports its tree_
arrays to OUT_DIR/tree.json, so the JavaScript side scores with the very same tree.

`score` is the script a data scientist writes, as pandas' and scikit-learn's docs show it:
`pd.read_csv` → `model.predict(df[features])` → `df["prediction"] = ...` → `df.to_csv(index=False)`,
single-threaded (pandas and a tree's predict are). It prints one JSON line: the seconds (and
CPU seconds) from the start of read_csv to the end of to_csv (the interpreter's start and the
unpickling excluded, as the JavaScript side excludes Node's start and the model load), and the
peak RSS.
"""
import json
import os
import pickle
import resource
import sys
import time

import numpy as np
import pandas as pd

PEERS = os.environ.get("MLOPS_PEERS", "/work/shared/peers")


def friedman_hash(n, p, seed):
    """X of peerdata.friedman_hash (see /work/shared/peers/README.md), inline."""
    m32 = np.uint64(0xFFFFFFFF)

    def fmix32(h):
        h = h & m32
        h ^= h >> np.uint64(16)
        h = (h * np.uint64(0x85EBCA6B)) & m32
        h ^= h >> np.uint64(13)
        h = (h * np.uint64(0xC2B2AE35)) & m32
        h ^= h >> np.uint64(16)
        return h

    i = np.arange(0, n * (p + 1), dtype=np.uint64)
    base = (np.uint64(seed) * np.uint64(0x85EBCA77) + np.uint64(0x165667B1)) & m32
    k = (i * np.uint64(0x9E3779B9) + base) & m32
    u = fmix32(k).astype(np.float64) / 4294967296.0
    u = u.reshape(n, p + 1)
    X = u[:, :p]
    e = u[:, p]
    t = X[:, 0] * X[:, 1]
    d = X[:, 2] - 0.5
    y = 40 * t * (1 - t) + 20 * d * d + 10 * X[:, 3] + 5 * X[:, 4] + 2 * (e - 0.5)
    return X, y


def fit(out, train_rows=100_000, depth=8):
    from sklearn.tree import DecisionTreeRegressor

    os.makedirs(out, exist_ok=True)
    X, y = friedman_hash(train_rows, 10, 42)
    X = X.astype(np.float32).astype(np.float64)
    tree = DecisionTreeRegressor(max_depth=depth, random_state=0).fit(
        pd.DataFrame(X, columns=[f"x{j}" for j in range(10)]), y
    )
    with open(os.path.join(out, "model.pkl"), "wb") as f:
        pickle.dump(tree, f)
    t = tree.tree_
    with open(os.path.join(out, "tree.json"), "w") as f:
        json.dump(
            {
                "left": t.children_left.tolist(),
                "right": t.children_right.tolist(),
                "feature": t.feature.tolist(),
                "threshold": t.threshold.tolist(),
                "value": t.value[:, 0, 0].tolist(),
            },
            f,
        )


def score(out, source, target):
    with open(os.path.join(out, "model.pkl"), "rb") as f:
        model = pickle.load(f)
    features = list(model.feature_names_in_)
    start = time.perf_counter()
    cpu_start = time.process_time()
    df = pd.read_csv(source)
    df["prediction"] = model.predict(df[features])
    df.to_csv(target, index=False)
    seconds = time.perf_counter() - start
    cpu_seconds = time.process_time() - cpu_start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"seconds": seconds, "cpuSeconds": cpu_seconds, "rows": len(df), "peakBytes": peak, "pandas": pd.__version__}))


if __name__ == "__main__":
    if sys.argv[1] == "fit":
        fit(sys.argv[2])
    elif sys.argv[1] == "score":
        score(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        raise SystemExit(__doc__)
