"""What a release re-sends: strata's layering against nixpkgs' popularity layering, measured
by the bytes of the layer blobs a registry does not have yet after each kind of release.

    python3 bench/churn.py [--root DIR] [--scale 1.0] [--seed 11]

Generates a nixpkgs-like closure (the shape matters, not the names): ~30 base libraries,
one library that a fifth of the closure depends on, 120 mid-level libraries, 40 data
outputs (a few large), 220 apps, six env-like bundles of 37 apps each, and a top app over
the bundles; 418 store paths, about 250 MB. A path's hash comes from its name, its version
and its references' hashes, as Nix's does, so a change rebuilds everything above it; its
files hold its references, so their bytes change too. Then four releases, each against the
first: the top app changes; the top app gains a dependency; the widely used library
changes; a large path is added (under one app). Each release is built with the real
builder (build-layered-image, gzip layers, an OCI layout) at maxLayers 30, 100 and 125:
strata's default plan, strata keeping the first release's plan (layerPlan), and nixpkgs'
popularity pipeline (``[["popularity_contest"], ["limit_layers", N]]``, strata's own
implementation). "Re-sent" is the size of the layer blobs whose digests the first release's
image does not have; "the floor" is what it would be with every store path in a layer of
its own (an image of one layer a path, built the same way). Neither counts a top layer: the
images have none.
"""

import argparse
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import closure as synthetic  # noqa: E402

BUDGETS = (30, 100, 125)
KINDS = ("the top app changes", "the top app gains a dependency", "a widely used library changes",
         "a large path is added")


def packages(seed):
    """{name: {"size", "references", "version"}} of the first release."""
    rng = random.Random(seed)
    found = {}

    def add(name, size, references):
        found[name] = {"size": int(size), "references": sorted(set(references)), "version": 1}
    base = ["glibc"] + ["base%d" % index for index in range(29)]
    add("glibc", 30e6, [])
    for index, name in enumerate(base[1:], 1):
        add(name, rng.uniform(0.1e6, 3e6), ["glibc"] + rng.sample(base[1:index] or ["glibc"],
                                                                   min(index - 1, rng.randint(0, 2))))
    add("libwide", 1.5e6, ["glibc", "base1", "base2"])
    mids = []
    for index in range(120):
        references = ["glibc"] + rng.sample(base[1:], rng.randint(1, 3)) + rng.sample(mids, min(len(mids),
                                                                                              rng.randint(0, 2)))
        if rng.random() < 0.12:
            references.append("libwide")
        mids.append("libmid%d" % index)
        add(mids[-1], rng.lognormvariate(12.5, 1.0), references)
    datas = []
    for index in range(40):
        datas.append("data%d" % index)
        add(datas[-1], rng.uniform(5e6, 15e6) if index < 4 else rng.lognormvariate(12, 1.2), [])
    apps = []
    for index in range(220):
        references = ["glibc"] + rng.sample(mids, rng.randint(1, 4)) + rng.sample(base[1:], rng.randint(0, 2))
        if index < len(datas) or rng.random() < 0.3:
            references.append(datas[index] if index < len(datas) else rng.choice(datas))
        if rng.random() < 0.08:
            references.append("libwide")
        apps.append("app%d" % index)
        add(apps[-1], rng.lognormvariate(12.3, 1.1), references)
    bundles = ["env%d" % index for index in range(6)]
    shuffled = rng.sample(apps, len(apps))
    for index, name in enumerate(bundles):  # each app in one bundle, some in two
        add(name, 40e3, shuffled[index::len(bundles)] + rng.sample(apps, 3))
    add("topapp", 0.45e6, bundles + ["glibc"])
    return found


def releases(seed):
    """{kind: packages} of the first release ("first") and of each kind of release."""
    first = packages(seed)

    def changed(change):
        release = json.loads(json.dumps(first))
        change(release)
        return release

    def bump(name):
        return lambda release: release[name].update(version=release[name]["version"] + 1)

    def new_dependency(release):
        release["appnew"] = {"size": 300000, "references": ["glibc", "libmid3", "libmid40"], "version": 1}
        release["topapp"]["references"] = sorted(release["topapp"]["references"] + ["appnew"])
        bump("topapp")(release)

    def large(release):
        release["datalarge"] = {"size": 25000000, "references": [], "version": 1}
        release["app3"]["references"] = sorted(release["app3"]["references"] + ["datalarge"])
        bump("app3")(release)
    return {"first": first, KINDS[0]: changed(bump("topapp")), KINDS[1]: changed(new_dependency),
            KINDS[2]: changed(bump("libwide")), KINDS[3]: changed(large)}


def store_of(release, store):
    """Write the release's store paths under `store` (those already there are the same) and
    return its closure graph and its root."""
    paths = {}

    def path(name):
        if name not in paths:
            package = release[name]
            references = [path(reference) for reference in package["references"]]
            digest = hashlib.sha256(("%s %d %s" % (name, package["version"], " ".join(references))).encode())
            paths[name] = os.path.join(store, "%s-%s-1.%d" % (digest.hexdigest()[:32], name, package["version"]))
            if not os.path.exists(paths[name]):
                _write(paths[name], name, package, references)
        return paths[name]
    for name in sorted(release):
        path(name)
    items = [{"path": paths[name], "narSize": release[name]["size"],
              "references": sorted(paths[reference] for reference in release[name]["references"])}
             for name in sorted(release)]
    return items, paths["topapp"]


def _write(directory, name, package, references):
    rng = random.Random("%s %d" % (name, package["version"]))
    os.makedirs(os.path.join(directory, "share"))
    with open(os.path.join(directory, "share", name), "wb") as stream:
        left = package["size"]
        while left > 0:
            piece = min(left, 1 << 20)
            stream.write(synthetic.chunk(rng, piece))
            left -= piece
    with open(os.path.join(directory, "references"), "w") as stream:
        stream.write("\n".join(references))


def build(root, name, items, top, max_layers, layering=None):
    """The {digest: size} of the store layers of the image built of `items`."""
    spec = {"imageName": "churn", "tag": "t", "closure": items, "contents": [top], "compressor": "gz",
            "maxLayers": max_layers, "mtime": 1, "format": "oci"}
    spec.update(layering or {})
    path = os.path.join(root, name + ".json")
    with open(path, "w") as stream:
        json.dump(spec, stream)
    layout = os.path.join(root, name)
    subprocess.run([sys.executable, "-m", "builder", "build-layered-image", path, "--out", layout], check=True,
                   cwd=REPO, stderr=subprocess.DEVNULL)
    with open(os.path.join(layout, "index.json")) as stream:
        digest = json.load(stream)["manifests"][0]["digest"]
    with open(os.path.join(layout, "blobs", "sha256", digest[7:])) as stream:
        layers = {layer["digest"]: layer["size"] for layer in json.load(stream)["layers"]}
    shutil.rmtree(layout)
    return layers


def plan_file(root, items, top, max_layers):
    """The plan-layers JSON of the first release, as an image's `plan` holds it."""
    spec = os.path.join(root, "plan-spec.json")
    with open(spec, "w") as stream:
        json.dump({"imageName": "churn", "closure": items, "contents": [top], "maxLayers": max_layers}, stream)
    path = os.path.join(root, "plan-%d.json" % max_layers)
    subprocess.run([sys.executable, "-m", "builder", "plan-layers", spec, "--out", path], check=True, cwd=REPO)
    return path


def resent(before, after):
    return sum(size for digest, size in after.items() if digest not in before)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", default=None)
    parser.add_argument("--seed", type=int, default=11)
    options = parser.parse_args(argv)
    root = tempfile.mkdtemp(prefix="strata-churn-", dir=options.root)
    try:
        store = os.path.join(root, "store")
        os.makedirs(store)
        built = {kind: store_of(release, store) for kind, release in releases(options.seed).items()}
        items, top = built["first"]
        print("closure: %d store paths, %.0f MB; the floor and what is re-sent in MB of gzip blobs"
              % (len(items), sum(item["narSize"] for item in items) / 1e6))
        alone = {kind: build(root, "alone", release_items, release_top, len(release_items) + 2)
                 for kind, (release_items, release_top) in built.items()}
        floor = {kind: resent(alone["first"], alone[kind]) for kind in KINDS}
        print("| maxLayers | the release | the floor | strata | strata, plan kept | popularity | strata / floor"
              " | kept / floor | popularity / floor |")
        print("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for max_layers in BUDGETS:
            pipeline = {"layeringPipeline": [["popularity_contest"], ["limit_layers", max_layers - 1]]}
            kept = {"layerPlan": plan_file(root, items, top, max_layers)}
            first = {label: build(root, label, items, top, max_layers, layering)
                     for label, layering in (("strata", None), ("popularity", pipeline))}
            for kind in KINDS:
                release_items, release_top = built[kind]
                sent = [resent(first["strata"], build(root, "strata", release_items, release_top, max_layers)),
                        resent(first["strata"], build(root, "kept", release_items, release_top, max_layers, kept)),
                        resent(first["popularity"], build(root, "popularity", release_items, release_top, max_layers,
                                                          pipeline))]
                print("| %d | %s | %.2f | %s | %s |" % (
                    max_layers, kind, floor[kind] / 1e6, " | ".join("%.2f" % (size / 1e6) for size in sent),
                    " | ".join("%.2fx" % (size / floor[kind]) for size in sent)))
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1:])
