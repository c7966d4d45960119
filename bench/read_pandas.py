"""Times pandas.read_csv on one file, as the reference for bench/read.mjs.

Usage: /usr/bin/python3 bench/read_pandas.py FILE [--runs 3] [--float-precision round_trip]
Prints one JSON object: best wall seconds over the runs, the peak memory of the first read
(max RSS minus the RSS before it), the DataFrame's own size, and the shape.
"""

import argparse
import json
import os
import resource
import sys
import time

import pandas as pd


def current_rss() -> int:
    """Resident set size now, in bytes (Linux /proc)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("file")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--float-precision",
        default=None,
        help="passed to read_csv: None (pandas' fast parser) or round_trip (exact, slower)",
    )
    args = parser.parse_args()

    best = float("inf")
    peak = None
    shape = (0, 0)
    frame_bytes = 0
    for run in range(args.runs):
        before = current_rss()
        start = time.perf_counter()
        frame = pd.read_csv(args.file, float_precision=args.float_precision)
        seconds = time.perf_counter() - start
        if run == 0:
            # ru_maxrss is in KiB on Linux; only the first read starts from a clean high-water mark.
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - before
            shape = frame.shape
            frame_bytes = int(frame.memory_usage(index=False, deep=True).sum())
        best = min(best, seconds)
        del frame

    json.dump(
        {
            "seconds": best,
            "peakBytes": peak,
            "frameBytes": frame_bytes,
            "rows": shape[0],
            "columns": shape[1],
            "pandas": pd.__version__,
            "floatPrecision": args.float_precision,
        },
        sys.stdout,
    )
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
