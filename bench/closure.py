"""A synthetic closure for the benchmarks: store paths in a directory, and their graph.

The default is the shape issue 6 names: 1.5 GB in 3,000 store paths, a few large binaries,
many middle-sized libraries, 50,000+ small files, symlinks, hard links (as an optimised
store has them), deep and long paths. Contents come from a fixed seed and compress about
as real binaries do (half random, half repetitive), so every run measures the same bytes.
"""

import argparse
import json
import os
import random

LARGE = (6, 120 << 20)        # count, bytes each
MIDDLE = (600, 1500 << 10)
SMALL_PATHS = 2394             # store paths of small files
SMALL_FILES = 52000


def chunk(rng, size):
    """`size` bytes: random and repetitive halves, about as compressible as a binary."""
    half = size // 2
    text = (b"strata %d " % rng.randrange(1 << 30)) * (half // 16 + 1)
    return rng.randbytes(size - half) + text[:half]


def make(root, scale=1.0, seed=7):
    """Write the closure under `root`/store and return its structured-attrs graph."""
    rng = random.Random(seed)
    store = os.path.join(root, "store")
    os.makedirs(store)
    paths = []

    def new_path(name):
        path = os.path.join(store, "%032x-%s" % (rng.randrange(1 << 128), name))
        os.makedirs(path)
        paths.append(path)
        return path

    large = [new_path("large-%d" % i) for i in range(LARGE[0])]
    for path in large:
        os.makedirs(os.path.join(path, "bin"))
        with open(os.path.join(path, "bin", "program"), "wb") as out:
            for _ in range(int(LARGE[1] * scale) >> 20):
                out.write(chunk(rng, 1 << 20))
        os.chmod(os.path.join(path, "bin", "program"), 0o555)
    middle = [new_path("lib-%d" % i) for i in range(MIDDLE[0])]
    shared_blob = chunk(rng, 64 << 10)
    for index, path in enumerate(middle):
        lib = os.path.join(path, "lib")
        os.makedirs(lib)
        with open(os.path.join(lib, "lib%d.so.1.0" % index), "wb") as out:
            out.write(chunk(rng, int(MIDDLE[1] * scale * rng.uniform(0.5, 1.5))))
        os.symlink("lib%d.so.1.0" % index, os.path.join(lib, "lib%d.so" % index))
        with open(os.path.join(lib, "license"), "wb") as out:  # identical in every path
            out.write(shared_blob)
    small = [new_path("data-%d" % i) for i in range(SMALL_PATHS)]
    per_path = SMALL_FILES // len(small) + 1
    for index, path in enumerate(small):
        deep = os.path.join(path, *["level-%d-with-a-rather-long-directory-name" % depth for depth in range(index % 6)])
        os.makedirs(deep, exist_ok=True)
        for number in range(per_path):
            with open(os.path.join(deep, "file-%d.txt" % number), "wb") as out:
                out.write(chunk(rng, rng.randrange(200, 4000)))
        if index % 10 == 0:
            os.link(os.path.join(deep, "file-0.txt"), os.path.join(path, "hardlinked"))
    graph = []
    for index, path in enumerate(paths):
        references = sorted(set(rng.sample(middle, 3) if path not in middle[:50] else []) - {path})
        if path in large:
            references += small[index * 10:(index + 1) * 10]
        graph.append({"path": path, "references": sorted(references), "narSize": _size(path)})
    with open(os.path.join(root, "closure.json"), "w") as out:
        json.dump(graph, out)
    return graph


def _size(path):
    return sum(os.lstat(os.path.join(directory, name)).st_size
               for directory, _, files in os.walk(path) for name in files)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("root")
    parser.add_argument("--scale", type=float, default=1.0)
    arguments = parser.parse_args()
    graph = make(arguments.root, arguments.scale)
    print("%d store paths, %.2f GB" % (len(graph), sum(item["narSize"] for item in graph) / 1e9))
