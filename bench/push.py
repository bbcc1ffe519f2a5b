"""Pushing an image to a registry: strata's client against skopeo, on the bench closure.

    python3 bench/push.py [--root DIR] [--scale 0.25] [--max-layers 100]

Makes the synthetic closure of bench/closure.py (a quarter of it by default), writes it as
an OCI layout of gzip layers (build-layered-image), then a second release in which one
library changed, starts a docker-registry on 127.0.0.1 and times, for skopeo (``skopeo
copy oci:LAYOUT docker://...``) and for strata's push of the same layouts, each into a
repository of its own: the first push, the same push again (the registry has everything),
and the push of the release with one package changed. The registry's log counts the
uploads.
"""

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import closure as synthetic  # noqa: E402


def registry(directory):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = os.path.join(directory, "config.yml")
    with open(config, "w") as stream:
        stream.write("version: 0.1\nlog:\n  level: info\nstorage:\n  filesystem:\n    rootdirectory: %s\n"
                     "http:\n  addr: 127.0.0.1:%d\n" % (os.path.join(directory, "data"), port))
    log = open(os.path.join(directory, "log"), "wb")
    server = subprocess.Popen(["docker-registry", "serve", config], stdout=log, stderr=log)
    for _ in range(150):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return server, "127.0.0.1:%d" % port, log.name
        except OSError:
            time.sleep(0.2)
    raise SystemExit("docker-registry did not start")


def timed(command, environment):
    started = time.perf_counter()
    subprocess.run(command, check=True, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env=environment)
    return time.perf_counter() - started


def layout_of(root, name, items, max_layers):
    spec = os.path.join(root, name + ".json")
    with open(spec, "w") as stream:
        json.dump({"imageName": "bench", "tag": "t", "closure": items, "contents": [item["path"] for item in items],
                   "compressor": "gz", "maxLayers": max_layers, "mtime": 1, "format": "oci"}, stream)
    layout = os.path.join(root, name)
    subprocess.run([sys.executable, "-m", "builder", "build-layered-image", spec, "--out", layout], check=True,
                   cwd=REPO, stderr=subprocess.DEVNULL)
    index = json.load(open(os.path.join(layout, "index.json")))["manifests"][0]
    return layout, json.load(open(os.path.join(layout, "blobs", "sha256", index["digest"][7:])))


def change_one_library(items):
    """The next release: one middle library's bytes changed (its layer alone differs)."""
    library = next(item["path"] for item in items if os.path.basename(item["path"]).endswith("-lib-5"))
    so = os.path.join(library, "lib", "lib5.so.1.0")
    os.chmod(so, 0o644)
    with open(so, "ab") as stream:
        stream.write(b"release 2")
    for item in items:
        if item["path"] == library:
            item["narSize"] += len(b"release 2")


def uploads(log):
    with open(log) as stream:
        return sum(1 for line in stream if "http.request.method=PUT" in line and "digest=" in line
                   and "response completed" in line)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", default=None)
    parser.add_argument("--scale", type=float, default=0.25)
    parser.add_argument("--max-layers", type=int, default=100)
    options = parser.parse_args(argv)
    root = tempfile.mkdtemp(prefix="strata-push-", dir=options.root)
    environment = dict(os.environ, XDG_CACHE_HOME=os.path.join(root, "cache"))  # strata's record of blob places
    server = None
    try:
        items = synthetic.make(root, options.scale)
        first, manifest = layout_of(root, "release-1", items, options.max_layers)
        change_one_library(items)
        second, changed = layout_of(root, "release-2", items, options.max_layers)
        new = len({layer["digest"] for layer in changed["layers"]} - {layer["digest"] for layer in manifest["layers"]})
        server, address, log = registry(root)

        def skopeo(layout, tag):
            return ["skopeo", "--tmpdir", root, "copy", "--dest-tls-verify=false", "oci:%s:bench:t" % layout,
                    "docker://%s/skopeo:%s" % (address, tag)]

        def strata(layout, tag):
            return [sys.executable, "-m", "builder.registry", "copy", layout, "docker://%s/strata:%s" % (address, tag),
                    "--dest-tls-verify=false"]
        rows = []
        for name, tool in (("skopeo copy oci:", skopeo), ("strata", strata)):
            for push, layout, tag in (("first push", first, "1"), ("again (nothing to send)", first, "1"),
                                      ("one package changed", second, "2")):
                before = uploads(log)
                rows.append((name, push, timed(tool(layout, tag), environment), uploads(log) - before))
        layers = len(manifest["layers"])
        print("image: %d layers, %.0f MB of gzip blobs; the second release changes %d layer(s)"
              % (layers, sum(layer["size"] for layer in manifest["layers"]) / 1e6, new))
        print("| client | push | seconds | blobs uploaded (the registry's count) | strata / skopeo |")
        print("| --- | --- | ---: | ---: | ---: |")
        for number, (name, push, seconds, count) in enumerate(rows):
            ratio = "%.2fx" % (seconds / rows[number - 3][2]) if number >= 3 else ""
            print("| %s | %s | %.2f | %d | %s |" % (name, push, seconds, count, ratio))
    finally:
        if server:
            server.terminate()
            server.wait()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1:])
