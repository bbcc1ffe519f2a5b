"""How strata's builder grows with the input: a layer of many small files, and an image of
many layers. Prints, for each size, the time, the rate and the peak resident memory of the
command (the largest of its processes), and the time per item against the smallest size's
(1.0 is linear).

    python3 bench/scale.py [--root DIR] [--files 500000] [--layers 1000]

The files: one store path of FILES files of 100-300 bytes, each its own content, in
directories of 1,000, written as one layer by ``build-layer``; the smaller sizes are the
first eighth, quarter and half of it (hard-linked, so made once), each also with a perms
rule that selects every entry. The layers: a closure of
LAYERS store paths of one small file each, planned into one layer each and written into one
archive by ``build-layered-image`` (a quarter, half and all of them).
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILDER = [sys.executable, "-m", "builder"]
PER_DIRECTORY = 1000


def measured(command, cwd):
    """(seconds, peak resident MB of the command's processes) of running `command`."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    if status != 0:
        raise SystemExit("failed: %s" % " ".join(command))
    return time.perf_counter() - started, usage.ru_maxrss / 1024


def spec_file(work, name, document):
    path = os.path.join(work, name + ".json")
    with open(path, "w") as stream:
        json.dump(document, stream)
    return path


def small_files(root, count):
    """A store path of `count` small files; the paths of store paths of its first eighth,
    quarter and half, hard-linked."""
    store = os.path.join(root, "store")
    whole = os.path.join(store, "0" * 32 + "-files-%d" % count)
    for number in range(count):
        directory = os.path.join(whole, "d%04d" % (number // PER_DIRECTORY))
        if number % PER_DIRECTORY == 0:
            os.makedirs(directory)
        with open(os.path.join(directory, "f%06d" % number), "wb") as stream:
            stream.write(b"%d\n" % number * (10 + number % 20))
    paths = {}
    for share in (8, 4, 2):
        part = count // share
        path = os.path.join(store, "%d" % share * 32 + "-files-%d" % part)
        for number in range(part):
            directory = os.path.join(path, "d%04d" % (number // PER_DIRECTORY))
            if number % PER_DIRECTORY == 0:
                os.makedirs(directory)
            name = "d%04d/f%06d" % (number // PER_DIRECTORY, number)
            os.link(os.path.join(whole, name), os.path.join(path, name))
        paths[part] = path
    paths[count] = whole
    return store, paths


def files_rows(root, count):
    """The rows of the layer of small files, without perms and with a rule over the whole
    store path (which makes the command write it entry by entry, in one process)."""
    store, paths = small_files(root, count)
    rows = {False: [], True: []}
    for size in sorted(paths):
        for ruled in (False, True):
            work = tempfile.mkdtemp(dir=root)
            spec = spec_file(work, "layer", {
                "storePaths": [paths[size]], "layerName": "files", "compressor": "none", "mtime": 1, "storeDir": store,
                "perms": [{"path": paths[size], "uid": 1000}] if ruled else []})
            seconds, peak = measured(BUILDER + ["build-layer", spec, "--out", os.path.join(work, "layer")], REPO)
            rows[ruled].append((size, seconds, peak))
            shutil.rmtree(work)
    shutil.rmtree(store)
    return rows[False], rows[True]


def layers_rows(root, count):
    store = os.path.join(root, "store")
    items = []
    for number in range(count):
        path = os.path.join(store, "%032d-p%d" % (number, number))
        os.makedirs(path)
        with open(os.path.join(path, "file"), "w") as stream:
            stream.write("%d\n" % number)
        items.append({"path": path, "references": [], "narSize": 100 + number})
    rows = []
    for size in (count // 4, count // 2, count):
        work = tempfile.mkdtemp(dir=root)
        spec = spec_file(work, "image", {
            "imageName": "scale", "tag": "t", "closure": items[:size], "contents": [item["path"] for item in items[:size]],
            "maxLayers": size + 1, "compressor": "none", "mtime": 1, "storeDir": store})
        seconds, peak = measured(BUILDER + ["build-layered-image", spec, "--out", os.path.join(work, "image.tar")], REPO)
        rows.append((size, seconds, peak))
        shutil.rmtree(work)
    shutil.rmtree(store)
    return rows


def show(title, unit, rows):
    print(title)
    print("| %s | seconds | %s/s | peak MB | time per %s, against the smallest |" % (unit, unit, unit))
    print("| ---: | ---: | ---: | ---: | ---: |")
    first = rows[0][1] / rows[0][0]
    for size, seconds, peak in rows:
        print("| %d | %.2f | %.0f | %.0f | %.2f |" % (size, seconds, size / seconds, peak, seconds / size / first))


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", default=None, help="where to make the inputs (default: a temporary directory)")
    parser.add_argument("--files", type=int, default=500000)
    parser.add_argument("--layers", type=int, default=1000)
    options = parser.parse_args(argv)
    root = tempfile.mkdtemp(prefix="strata-scale-", dir=options.root)
    try:
        plain, ruled = files_rows(root, options.files)
        show("A layer of small files (build-layer, one store path):", "files", plain)
        print()
        show("The same with a perms rule over the whole store path (written entry by entry):", "files", ruled)
        print()
        show("An image of many layers (build-layered-image, one archive):", "layers", layers_rows(root, options.layers))
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1:])
