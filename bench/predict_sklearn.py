"""scikit-learn side of bench/predict.mjs: fit a DecisionTreeRegressor, export it, time predict.

    /usr/bin/python3 bench/predict_sklearn.py OUT_DIR [--rows 1000000] [--train-rows 100000]
        [--features 10] [--depth 8] [--runs 5]

Data: the portable friedman_hash generator (peers/peerdata.py when present, else the same
formula below), train seed 42, predict seed 7. sklearn trees cast X to float32 inside predict; the
JavaScript side reads the same float64 values and walks the tree with the same rule
(`splitRule: "float32_le"`), so both predict the same on every row.

Writes OUT_DIR/tree.json (the fitted tree_ arrays), OUT_DIR/predictions.f64 (predict's output,
little-endian float64) and OUT_DIR/sklearn.json (timings, versions).
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import sklearn
from sklearn.tree import DecisionTreeRegressor

PEERS = os.environ.get("MLOPS_PEERS", "/work/shared/peers")


def friedman_hash_inline(n, p=10, seed=42):
    """Same as peerdata.friedman_hash (see /work/shared/peers/README.md)."""
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
    u = (fmix32(((i & m32) * np.uint64(0x9E3779B9) + base) & m32).astype(np.float64) / 4294967296.0)
    u = u.reshape(n, p + 1)
    X = np.ascontiguousarray(u[:, :p])
    e = u[:, p]
    t = X[:, 0] * X[:, 1]
    d = X[:, 2] - 0.5
    y = 40.0 * t * (1.0 - t) + 20.0 * d * d + 10.0 * X[:, 3] + 5.0 * X[:, 4] + 2.0 * (e - 0.5)
    return X, y


def generator():
    if os.path.exists(os.path.join(PEERS, "peerdata.py")):
        sys.path.insert(0, PEERS)
        from peerdata import friedman_hash

        return friedman_hash, "peers/peerdata.py"
    return friedman_hash_inline, "inline copy"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--train-rows", type=int, default=100_000)
    parser.add_argument("--features", type=int, default=10)
    parser.add_argument("--depth", type=int, default=8)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    friedman_hash, source = generator()

    X_train, y_train = friedman_hash(args.train_rows, args.features, 42)
    X_train = X_train.astype(np.float32).astype(np.float64)
    tree = DecisionTreeRegressor(max_depth=args.depth, random_state=0).fit(X_train, y_train)
    t = tree.tree_
    exported = {
        "left": t.children_left.tolist(),
        "right": t.children_right.tolist(),
        "feature": t.feature.tolist(),
        "threshold": t.threshold.tolist(),
        "value": t.value[:, 0, 0].tolist(),
        "nodeSamples": t.weighted_n_node_samples.tolist(),
        "impurity": t.impurity.tolist(),
    }
    if hasattr(t, "missing_go_to_left"):
        exported["missingLeft"] = t.missing_go_to_left.astype(int).tolist()
    with open(os.path.join(args.out, "tree.json"), "w") as f:
        json.dump(exported, f)

    X, _ = friedman_hash(args.rows, args.features, 7)
    X = np.ascontiguousarray(X)
    X32 = np.ascontiguousarray(X.astype(np.float32))

    def timed(run):
        # The same warm-up as the JavaScript side: one untimed run, then --runs timed ones.
        out = run()
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            out = run()
            times.append(time.perf_counter() - start)
        return times, out

    times, predictions = timed(lambda: tree.predict(X))
    times32, _ = timed(lambda: tree.predict(X32))
    predictions.astype("<f8").tofile(os.path.join(args.out, "predictions.f64"))
    with open(os.path.join(args.out, "sklearn.json"), "w") as f:
        json.dump(
            {
                "sklearn": sklearn.__version__,
                "numpy": np.__version__,
                "python": sys.version.split()[0],
                "generator": source,
                "rows": args.rows,
                "features": args.features,
                "trainRows": args.train_rows,
                "nodes": int(t.node_count),
                "leaves": int(t.n_leaves),
                "depth": int(tree.get_depth()),
                "predictTimes": times,
                "predictFloat32Times": times32,
            },
            f,
        )


if __name__ == "__main__":
    main()
