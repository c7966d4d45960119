"""XGBoost side of bench/xgboost.mjs: train the 150-tree model, save it as JSON, time
inplace_predict on 1,000,000 rows with 1 and 2 threads.

    /usr/bin/python3 bench/xgboost_peer.py OUT_DIR [--rows 1000000] [--train-rows 100000]
        [--trees 150] [--depth 6] [--runs 5] [--serve]

With --serve it times one run per request instead, so the caller can interleave its own runs
with xgboost's: after writing the files it prints "ready", then reads lines "THREADS" from
stdin and answers each with one JSON line {"threads", "float64": s, "float32": s, "cpu": s}
(one untimed warm-up per thread count first; "cpu" is the process's CPU seconds of the faster
input, all OpenMP threads included), until "quit" or the end of its input.

Data: friedman_hash (the portable generator of bench/friedman-hash.mjs; train seed 42, predict
seed 7, 10 features) with 5% of the values missing (NaN where uniformHash(98 for training, 99
for prediction, r * 10 + j) < 0.05), so both sides read the same numbers. The model: hist trees,
max_depth 6, eta 0.1. inplace_predict is timed on the float64 array and on a float32 copy (an
expert might hand it either); the faster is the peer figure. Writes OUT_DIR/model.json,
OUT_DIR/predictions.f32 (inplace_predict's output) and OUT_DIR/xgboost.json (timings).
"""
import argparse
import json
import os
import statistics
import sys
import time

import numpy as np
import xgboost

M32 = np.uint64(0xFFFFFFFF)


def uniform_hash(seed, i):
    def fmix32(h):
        h = h & M32
        h ^= h >> np.uint64(16)
        h = (h * np.uint64(0x85EBCA6B)) & M32
        h ^= h >> np.uint64(13)
        h = (h * np.uint64(0xC2B2AE35)) & M32
        h ^= h >> np.uint64(16)
        return h

    base = (np.uint64(seed) * np.uint64(0x85EBCA77) + np.uint64(0x165667B1)) & M32
    return fmix32(((i & M32) * np.uint64(0x9E3779B9) + base) & M32).astype(np.float64) / 4294967296.0


def friedman_hash(n, p, seed, missing_seed):
    u = uniform_hash(seed, np.arange(0, n * (p + 1), dtype=np.uint64)).reshape(n, p + 1)
    X = np.ascontiguousarray(u[:, :p])
    e = u[:, p]
    t = X[:, 0] * X[:, 1]
    d = X[:, 2] - 0.5
    y = 40.0 * t * (1.0 - t) + 20.0 * d * d + 10.0 * X[:, 3] + 5.0 * X[:, 4] + 2.0 * (e - 0.5)
    mask = uniform_hash(missing_seed, np.arange(0, n * p, dtype=np.uint64)).reshape(n, p) < 0.05
    X[mask] = np.nan
    return X, y


def timed(run, runs):
    run()  # warm-up
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        out = run()
        times.append(time.perf_counter() - start)
    return out, {"median": statistics.median(times), "min": min(times), "max": max(times)}


def serve(booster, X, X32):
    warm = set()
    for line in iter(sys.stdin.readline, ""):
        line = line.strip()
        if line == "quit":
            break
        threads = int(line)
        booster.set_param({"nthread": threads})
        if threads not in warm:
            booster.inplace_predict(X)
            booster.inplace_predict(X32)
            warm.add(threads)
        answer = {"threads": threads}
        for name, data in (("float64", X), ("float32", X32)):
            cpu = time.process_time()
            start = time.perf_counter()
            booster.inplace_predict(data)
            answer[name] = time.perf_counter() - start
            answer[name + "_cpu"] = time.process_time() - cpu
        print(json.dumps(answer), flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--train-rows", type=int, default=100_000)
    parser.add_argument("--trees", type=int, default=150)
    parser.add_argument("--depth", type=int, default=6)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--serve", action="store_true")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)

    X_train, y_train = friedman_hash(args.train_rows, 10, 42, 98)
    params = {"tree_method": "hist", "max_depth": args.depth, "eta": 0.1, "nthread": 2, "seed": 0}
    booster = xgboost.train(params, xgboost.DMatrix(X_train, label=y_train), args.trees)
    booster.save_model(os.path.join(args.out, "model.json"))

    X, _ = friedman_hash(args.rows, 10, 7, 99)
    X32 = np.ascontiguousarray(X.astype(np.float32))
    if args.serve:
        booster.set_param({"nthread": 1})
        booster.inplace_predict(X).astype("<f4").tofile(os.path.join(args.out, "predictions.f32"))
        with open(os.path.join(args.out, "xgboost.json"), "w") as f:
            json.dump({"xgboost": xgboost.__version__, "rows": args.rows, "trees": args.trees,
                       "depth": args.depth}, f, indent=2)
        print("ready", flush=True)
        serve(booster, X, X32)
        return
    results = {"xgboost": xgboost.__version__, "rows": args.rows, "trees": args.trees,
               "depth": args.depth, "runs": args.runs, "threads": {}}
    predictions = None
    for threads in (1, 2):
        booster.set_param({"nthread": threads})
        out64, t64 = timed(lambda: booster.inplace_predict(X), args.runs)
        out32, t32 = timed(lambda: booster.inplace_predict(X32), args.runs)
        assert np.array_equal(out64, out32)
        best = t64 if t64["median"] <= t32["median"] else t32
        results["threads"][str(threads)] = {"float64": t64, "float32": t32, "best": best}
        predictions = out64
    predictions.astype("<f4").tofile(os.path.join(args.out, "predictions.f32"))
    with open(os.path.join(args.out, "xgboost.json"), "w") as f:
        json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
