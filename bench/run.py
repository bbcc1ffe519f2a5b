"""strata's builder against the floor and the tools people use today, on one closure.

Prints each time and its ratio to the baselines measured in the same run:
  floor        every file read once and sha256-hashed, one thread (hashlib)
  tar          GNU tar --sort=name of the store, counted (wc -c) and hashed (sha256sum)
  gzip, pigz   that tar through gzip -n and pigz -p 2
and strata writing every layer of the closure (planned within maxLayers), uncompressed and
gzipped: in one process into one archive (importFromDerivation = false), with its peak
memory, and a process a layer, two at a time, into an OCI layout (the default mode, as Nix
runs the layer derivations); the files per second of both on the small files alone (in 99
layers, each store path a layer of its own, and all of them copied into one store path,
one layer); and what a rebuild after one leaf package changes costs. Everything runs
--rounds times, one run after the other, and each keeps its least time: a shared machine's
noise only ever adds.
Usage: python3 bench/run.py [--root DIR] [--scale 1.0] [--max-layers 100] [--rounds 3]
"""

import argparse
import compileall
import concurrent.futures
import hashlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, REPO)
sys.path.insert(0, HERE)

import closure as synthetic  # noqa: E402
from builder.nix import graph as graphs, layering  # noqa: E402


def measured(function):
    """(seconds, CPU seconds of this process and its children, what `function` returns)."""
    cpu = _cpu_seconds()
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, _cpu_seconds() - cpu, result


def _cpu_seconds():
    return sum(getattr(resource.getrusage(who), field) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
               for field in ("ru_utime", "ru_stime"))


def floor(store):
    """The bytes of every file, read once and hashed; how many."""
    total = 0
    for directory, directories, files in os.walk(store):
        directories.sort()
        for name in sorted(files):
            path = os.path.join(directory, name)
            if os.path.islink(path):
                continue
            digest = hashlib.sha256()
            with open(path, "rb") as stream:
                for block in iter(lambda: stream.read(1 << 20), b""):
                    digest.update(block)
                    total += len(block)
    return total


def shell(command):
    subprocess.run(["bash", "-c", command], check=True, stdout=subprocess.DEVNULL)
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", help="where to make the closure (default: a temporary directory)")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--max-layers", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3,
                        help="run everything this many times, one after the other, and keep each one's least time")
    arguments = parser.parse_args()
    compileall.compile_dir(os.path.join(REPO, "builder"), quiet=1)
    root = arguments.root or tempfile.mkdtemp(prefix="strata-bench-")
    store = os.path.join(root, "store")
    if not os.path.exists(os.path.join(root, "closure.json")):
        synthetic.make(root, arguments.scale)
    with open(os.path.join(root, "closure.json")) as stream:
        items = json.load(stream)
    paths = [item["path"] for item in items]
    out = os.path.join(root, "image.tar")
    files = sum(len(names) for _, _, names in os.walk(store))
    print("closure: %d store paths, %d files, %.2f GB (%s)" % (
        len(items), files, sum(item["narSize"] for item in items) / 1e9, root))

    # The small files alone: their store paths, with no references to the libraries.
    small_items = [dict(item, references=[]) for item in items if "-data-" in item["path"]]
    small = [item["path"] for item in small_items]
    small_files = sum(len(names) for path in small for _, _, names in os.walk(path))
    small_names = " ".join(os.path.relpath(path, root) for path in small)

    # The same small files in one store path: a layer of one large package.
    one_store = os.path.join(root, "one-path")
    one_path = os.path.join(one_store, "00000000000000000000000000000000-small-files")
    if not os.path.exists(one_path):
        os.makedirs(one_path + ".tmp")
        for path in small:
            shutil.copytree(path, os.path.join(one_path + ".tmp", os.path.basename(path)), symlinks=True)
        os.rename(one_path + ".tmp", one_path)

    tar = "cd %s && LC_ALL=C tar --sort=name --format=posix -cf - store" % root
    layers = arguments.max_layers
    runs = {
        "floor": lambda: floor(store),
        "tar | wc -c": lambda: shell(tar + " | wc -c"),
        "tar | sha256sum": lambda: shell(tar + " | sha256sum"),
        "tar | gzip -n": lambda: shell(tar + " | gzip -n -6 | wc -c"),
        "tar | pigz -p 2": lambda: shell(tar + " | pigz -p 2 -6 | wc -c"),
        "strata none": lambda: strata(root, items, paths, "none", layers, out),
        "strata gz": lambda: strata(root, items, paths, "gz", layers, out),
        "strata none, oci, parallel": lambda: strata(root, items, paths, "none", layers, out + ".oci", "oci"),
        "strata gz, oci, parallel": lambda: strata(root, items, paths, "gz", layers, out + ".oci", "oci"),
        "strata none, per layer": lambda: strata_per_layer(root, items, paths, "none", layers),
        "strata gz, per layer": lambda: strata_per_layer(root, items, paths, "gz", layers),
        "small files, tar": lambda: shell("cd %s && LC_ALL=C tar --sort=name -cf - %s | wc -c" % (root, small_names)),
        "small files, strata": lambda: strata(root, small_items, small, "none", layers, out),
        "small files, strata, a layer a path": lambda: strata(root, small_items, small, "none", len(small) + 1, out),
        "one path, tar": lambda: shell("cd %s && LC_ALL=C tar --sort=name -cf - %s | wc -c"
                                       % (one_store, os.path.basename(one_path))),
        "one path, strata": lambda: strata_one_layer(root, one_store, one_path),
    }
    # What is in an image, read back: the SBOM and `strata inspect` of a gzip OCI layout of
    # the closure, against GNU tools hashing every blob and gunzipping and hashing each.
    layout = os.path.join(root, "inventory.oci")
    if not os.path.exists(layout):
        strata(root, items, paths, "gz", layers, layout, "oci")
    runs.update({
        "image: sha256sum, gzip -dc | sha256sum": lambda: shell(
            "cd %s/blobs/sha256 && for blob in *; do sha256sum $blob; gzip -dc < $blob 2>/dev/null | sha256sum; done"
            " > /dev/null" % layout),
        "image: strata build-sbom": lambda: sbom(root, items, layout),
        "image: strata inspect": lambda: shell("cd %s && %s -S -m builder.inspection inspect --json %s > /dev/null"
                                               % (REPO, sys.executable, layout)),
    })
    floor(store)  # warm the page cache: every run below reads from memory alike
    results, cpus, extras = {}, {}, {}  # extras: bytes read by the floor, peak memory (MB) of strata's runs
    for _ in range(arguments.rounds):
        for name, run in runs.items():
            for output in (out, out + ".oci", os.path.join(root, "per-layer")):  # not timed
                if os.path.isdir(output):
                    shutil.rmtree(output)
                elif os.path.exists(output):
                    os.unlink(output)
            seconds, cpu, extra = measured(run)
            results[name] = min(seconds, results.get(name, seconds))
            cpus[name] = min(cpu, cpus.get(name, cpu))
            extras[name] = max(extra, extras.get(name, 0))

    width = max(len(name) for name in results)
    print("\n%-*s  %8s  %8s   (the least of %d rounds)" % (width, "", "seconds", "CPU s", arguments.rounds))
    for name, seconds in results.items():
        print("%-*s  %8.2f  %8.2f" % (width, name, seconds, cpus[name]))
    total = extras["floor"]
    print("\nread %.2f GB at %.2f GB/s in the floor" % (total / 1e9, total / 1e9 / results["floor"]))
    print("strata none / floor            %.2fx   (target <= 1.3)" % (results["strata none"] / results["floor"]))
    print("strata none / tar | sha256sum  %.2fx" % (results["strata none"] / results["tar | sha256sum"]))
    print("strata gz / tar | pigz -p 2    %.2fx   (target <= 1.1)" % (results["strata gz"] / results["tar | pigz -p 2"]))
    print("strata gz / tar | gzip -n      %.2fx" % (results["strata gz"] / results["tar | gzip -n"]))
    print("one process, an OCI layout (layers written in %d processes at once):" % JOBS)
    print("  none / floor                 %.2fx" % (results["strata none, oci, parallel"] / results["floor"]))
    print("  gz / tar | pigz -p 2         %.2fx" % (results["strata gz, oci, parallel"] / results["tar | pigz -p 2"]))
    print("per layer (a process a layer, %d at a time, as Nix builds the layer derivations; an OCI layout):"
          % JOBS)
    print("  none / floor                 %.2fx" % (results["strata none, per layer"] / results["floor"]))
    print("  gz / tar | pigz -p 2         %.2fx" % (results["strata gz, per layer"] / results["tar | pigz -p 2"]))
    print("peak memory: %.0f MB uncompressed, %.0f MB gzip   (target < 100)"
          % (extras["strata none"], extras["strata gz"]))
    tar_small, strata_small = results["small files, tar"], results["small files, strata"]
    print("small files: %d; GNU tar %.0f files/s, strata %.0f files/s (%.2fx)" % (
        small_files, small_files / tar_small, small_files / strata_small, tar_small / strata_small))
    each = results["small files, strata, a layer a path"]
    print("  the same, each of the %d store paths a layer of its own: strata %.0f files/s (%.2fx)" % (
        len(small), small_files / each, tar_small / each))

    one_tar, one = results["one path, tar"], results["one path, strata"]
    print("the same files in one store path, one layer (build-layer): GNU tar %.0f files/s, strata %.0f files/s"
          " (%.2fx)" % (small_files / one_tar, small_files / one, one_tar / one))

    reading = results["image: sha256sum, gzip -dc | sha256sum"]
    print("the image read back (%d layers, gzip): build-sbom %.2fx, inspect %.2fx GNU sha256sum and gzip -dc"
          % (layers, results["image: strata build-sbom"] / reading, results["image: strata inspect"] / reading))

    rebuild(items)


JOBS = 2

# The builder as the Nix functions start it: isolated, no site-packages, its bytecode
# compiled beforehand as the strata-builder-compiled derivation has it (see main).
BUILDER = [sys.executable, "-I", "-S", "-B", "-c",
           "import sys; sys.path.insert(0, %r); from builder.commands.cli import main; sys.exit(main(sys.argv[1:]))" % REPO]


def strata_per_layer(root, closure, paths, compressor, max_layers):
    """The default mode: plan-layers, then build-layer for every layer, JOBS processes at a
    time (as Nix runs the layer derivations), then an OCI layout of them."""
    work = os.path.join(root, "per-layer")
    os.mkdir(work)
    plan = os.path.join(work, "plan.json")
    _builder("plan-layers", work, {"imageName": "bench", "closure": closure, "contents": paths,
                                   "maxLayers": max_layers}, plan)
    with open(plan) as stream:
        groups = json.load(stream)
    outputs = [os.path.join(work, "layer-%03d" % index) for index in range(len(groups))]
    with concurrent.futures.ThreadPoolExecutor(JOBS) as pool:
        list(pool.map(lambda item: _builder("build-layer", work, {
            "storePaths": item[0]["storePaths"], "layerName": item[0]["name"], "compressor": compressor,
            "mtime": 1}, item[1]), zip(groups, outputs)))
    _builder("build-layered-image", work, {"imageName": "bench", "tag": "t", "layers": outputs, "format": "oci",
                                           "compressor": compressor, "mtime": 1}, os.path.join(work, "oci"))
    return 0


def strata_one_layer(root, store_dir, path):
    """build-layer writing the layer of the one store path `path`."""
    work = os.path.join(root, "per-layer")
    os.mkdir(work)
    _builder("build-layer", work, {"storePaths": [path], "layerName": "one", "compressor": "none", "mtime": 1,
                                   "storeDir": store_dir}, os.path.join(work, "layer"))
    return 0


def _builder(command, work, spec, out):
    spec_file = os.path.join(work, "spec-%s-%s.json" % (command, os.path.basename(out)))
    with open(spec_file, "w") as stream:
        json.dump(spec, stream)
    subprocess.run(BUILDER + [command, spec_file, "--out", out], check=True)


def strata(root, closure, paths, compressor, max_layers, out, image_format="docker-archive"):
    """build-layered-image writing every layer of `paths`; its peak memory (MB)."""
    spec = {"imageName": "bench", "tag": "t", "closure": closure, "contents": paths, "compressor": compressor,
            "maxLayers": max_layers, "mtime": 1, "format": image_format}
    spec_file = os.path.join(root, "spec.json")
    with open(spec_file, "w") as stream:
        json.dump(spec, stream)
    command = BUILDER + ["build-layered-image", spec_file, "--out", out]
    status, usage = _run_measured(command)
    if status != 0:
        raise SystemExit("strata failed: %s" % command)
    return usage.ru_maxrss / 1024


def sbom(root, closure, layout):
    """build-sbom of the image `layout` of `closure`."""
    out = os.path.join(root, "sbom")
    if os.path.exists(out):
        shutil.rmtree(out)
    _builder("build-sbom", root, {"image": layout, "closure": closure, "storeDir": os.path.dirname(closure[0]["path"])},
             out)
    return 0


def _run_measured(command):
    """Run `command` in the repository; (exit status, its rusage)."""
    process = subprocess.Popen(command, cwd=REPO)
    _, status, usage = os.wait4(process.pid, 0)
    return status, usage


def rebuild(items):
    """What changing one leaf package costs with a derivation per layer: the layers whose
    store paths change are rebuilt (hashed and written again), the others are not."""
    closure = graphs.from_structured(items, "closure")
    referenced = {ref for item in items for ref in item["references"]}
    leaf = sorted(path for path in closure if path not in referenced)[0]
    before = layering.plan(closure, list(closure), 99)
    changed_path = leaf[:-1] + ("x" if leaf[-1] != "x" else "y")
    changed = dict(closure)
    changed[changed_path] = changed.pop(leaf)._replace(path=changed_path)
    after = layering.plan(changed, list(changed), 99)
    old = {tuple(group) for group in before}
    rebuilt = [group for group in after if tuple(group) not in old]
    size = sum(changed[path].nar_size for group in rebuilt for path in group)
    total = sum(info.nar_size for info in changed.values())
    print("rebuild after one leaf package changes: %d of %d layers, %.1f MB of %.0f MB re-hashed and re-written"
          % (len(rebuilt), len(after), size / 1e6, total / 1e6))


if __name__ == "__main__":
    main()
