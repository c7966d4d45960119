"""What the Python peers of the bench scripts share: the portable friedman_hash generator (the
peers' ../shared/peers/peerdata.py, copied so the bench runs without that folder; bench/
friedman-hash.mjs is its bit-identical JavaScript port), and the machine's load.

Imported by the *_sklearn.py scripts beside it (Python puts a script's folder on sys.path).
"""
import os

import numpy as np

M32 = np.uint64(0xFFFFFFFF)


def uniform_hash(seed, start, count):
    """The uniform [0, 1) values start .. start+count-1 of stream `seed` (murmur3's finaliser)."""
    i = np.arange(start, start + count, dtype=np.uint64)
    base = (np.uint64(seed) * np.uint64(0x85EBCA77) + np.uint64(0x165667B1)) & M32
    h = ((i & M32) * np.uint64(0x9E3779B9) + base) & M32
    h ^= h >> np.uint64(16)
    h = (h * np.uint64(0x85EBCA6B)) & M32
    h ^= h >> np.uint64(13)
    h = (h * np.uint64(0xC2B2AE35)) & M32
    h ^= h >> np.uint64(16)
    return h.astype(np.float64) / 4294967296.0


def friedman_hash(n, p=10, seed=42):
    """friedman_hash(n, p, seed): X (n × p, C order) and y, bit-identical to the JavaScript port."""
    u = uniform_hash(seed, 0, n * (p + 1)).reshape(n, p + 1)
    X = np.ascontiguousarray(u[:, :p])
    e = u[:, p]
    t = X[:, 0] * X[:, 1]
    d = X[:, 2] - 0.5
    y = 40.0 * t * (1.0 - t) + 20.0 * d * d + 10.0 * X[:, 3] + 5.0 * X[:, 4] + 2.0 * (e - 0.5)
    return X, y


def load_average():
    """The 1-minute load average, printed with the results."""
    return os.getloadavg()[0]
