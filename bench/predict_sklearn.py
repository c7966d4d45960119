"""scikit-learn side of bench/predict.mjs: fit a DecisionTreeRegressor, export it, time predict.

    /usr/bin/python3 bench/predict_sklearn.py OUT_DIR [--rows 1000000] [--train-rows 100000]
        [--features 10] [--depth 8] [--runs 5]

Data: the portable friedman_hash generator (bench/peerdata.py), train seed 42, predict seed 7.
sklearn trees cast X to float32 inside predict; the JavaScript side reads the same float64 values
and walks the tree with the same rule (`splitRule: "float32_le"`), so both predict the same on
every row.

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

from peerdata import friedman_hash

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
    source = "bench/peerdata.py"

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
