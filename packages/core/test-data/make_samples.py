"""Copies small samples of three public data sets into this folder for the interop tests.

Run once with Debian's interpreter from the repository root:
  /usr/bin/python3 packages/core/test-data/make_samples.py /work/shared/datasets
(the tests read only the copies made here, never the source folder).
"""
import csv
import gzip
import os
import random
import sys

source = sys.argv[1]
here = os.path.dirname(os.path.abspath(__file__))


def write(name, header, rows):
    with open(os.path.join(here, name), "w", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


# California housing: 2,000 rows (seed 0) plus every row whose total_bedrooms is missing.
with open(os.path.join(source, "california-housing", "housing.csv")) as f:
    reader = csv.reader(f)
    header = next(reader)
    rows = list(reader)
missing = [row for row in rows if row[4] == ""]
present = [row for row in rows if row[4] != ""]
random.Random(0).shuffle(present)
sample = present[:2000] + missing
random.Random(1).shuffle(sample)
write("california-housing.csv", header, sample)

# Wine quality (red): the first 800 rows, with the README's column names.
names = ["fixed_acidity", "volatile_acidity", "citric_acid", "residual_sugar", "chlorides",
         "free_sulfur_dioxide", "total_sulfur_dioxide", "density", "pH", "sulphates", "alcohol",
         "quality"]
with open(os.path.join(source, "wine-quality", "winequality-red.csv")) as f:
    rows = [line.strip().split(",") for line in f if line.strip()]
write("wine-quality-red.csv", names, rows[:800])

# Diabetes: all 442 rows, raw (unscaled) features and the target, as one CSV.
with gzip.open(os.path.join(source, "diabetes", "diabetes_data_raw.csv.gz"), "rt") as f:
    features = [line.split() for line in f if line.strip()]
with gzip.open(os.path.join(source, "diabetes", "diabetes_target.csv.gz"), "rt") as f:
    target = [line.split() for line in f if line.strip()]
write("diabetes.csv", ["age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6", "target"],
      [x + [str(int(float(t[0])))] for x, t in zip(features, target)])
