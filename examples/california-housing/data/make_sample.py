"""Writes housing.csv: 6,000 rows of Géron's California housing file, unchanged, in file order.

    /usr/bin/python3 make_sample.py /path/to/datasets/california-housing/housing.csv

The rows are drawn without replacement with Python's random.Random(2) (seed 002), so the
sample is the same on every machine; the columns and values are copied as they are.
"""

import csv
import random
import sys

SIZE = 6000

with open(sys.argv[1], newline="") as source:
    reader = csv.reader(source)
    header = next(reader)
    rows = list(reader)

chosen = sorted(random.Random(2).sample(range(len(rows)), SIZE))
with open("housing.csv", "w", newline="") as target:
    writer = csv.writer(target, lineterminator="\n")
    writer.writerow(header)
    for index in chosen:
        writer.writerow(rows[index])
print(f"wrote housing.csv: {SIZE} of {len(rows)} rows")
