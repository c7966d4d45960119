"""Writes seed_split.json: which of the 74 feature rows seed 004's test set holds.

Seed 004 split its 74 rows (months 2014-2 … 2020-4 after the lag and the 3-month windows) with
scikit-learn's train_test_split(test_size=0.2, random_state=42). That function shuffles with
numpy's RandomState(42).permutation(74) and takes the first ceil(0.2 × 74) = 15 positions as the
test set. The example uses the same rows so its test r2 compares with the seed's 0.8325.

    /usr/bin/python3 examples/milk-price/data/make_split.py
"""
import json
import math
import os

import numpy as np

n = 74
n_test = math.ceil(0.2 * n)
permutation = np.random.RandomState(42).permutation(n)
here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "seed_split.json"), "w") as out:
    json.dump(
        {
            "rows": n,
            "test": sorted(int(i) for i in permutation[:n_test]),
            "source": "numpy RandomState(42).permutation(74)[:15], as train_test_split does",
        },
        out,
        indent=2,
    )
    out.write("\n")
