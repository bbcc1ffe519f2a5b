"""Pushing an image to a registry: strata's client against skopeo, on the bench closure.

    python3 bench/push.py [--root DIR] [--scale 0.25] [--max-layers 100]

Makes the synthetic closure of bench/closure.py (a quarter of it by default), writes it as
an OCI layout of gzip layers (build-layered-image), starts a docker-registry on 127.0.0.1
and times, each into a fresh repository: ``skopeo copy oci:LAYOUT docker://...``, strata's
push of the same layout, then strata's push again (the registry has everything: a HEAD a
blob and the manifest), in milliseconds per layer. The registry's log counts the uploads.
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


def timed(command):
    started = time.perf_counter()
    subprocess.run(command, check=True, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


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
    server = None
    try:
        items = synthetic.make(root, options.scale)
        spec = os.path.join(root, "spec.json")
        with open(spec, "w") as stream:
            json.dump({"imageName": "bench", "tag": "t", "closure": items, "contents": [item["path"] for item in items],
                       "compressor": "gz", "maxLayers": options.max_layers, "mtime": 1, "format": "oci"}, stream)
        layout = os.path.join(root, "layout")
        subprocess.run([sys.executable, "-m", "builder", "build-layered-image", spec, "--out", layout], check=True,
                       cwd=REPO, stderr=subprocess.DEVNULL)
        index = json.load(open(os.path.join(layout, "index.json")))["manifests"][0]
        manifest = json.load(open(os.path.join(layout, "blobs", "sha256", index["digest"][7:])))
        layers = len(manifest["layers"])
        size = sum(layer["size"] for layer in manifest["layers"])
        server, address, log = registry(root)
        push = [sys.executable, "-m", "builder.registry", "copy", layout]
        skopeo = timed(["skopeo", "--tmpdir", root, "copy", "--dest-tls-verify=false", "oci:%s:bench:t" % layout,
                        "docker://%s/skopeo:t" % address])
        after_skopeo = uploads(log)
        first = timed(push + ["docker://%s/strata:t" % address, "--dest-tls-verify=false"])
        after_first = uploads(log)
        again = timed(push + ["docker://%s/strata:t" % address, "--dest-tls-verify=false"])
        print("image: %d layers, %.0f MB of gzip blobs" % (layers, size / 1e6))
        print("| push | seconds | uploads counted by the registry | ratio |")
        print("| --- | ---: | ---: | --- |")
        print("| skopeo copy oci: | %.2f | %d | |" % (skopeo, after_skopeo))
        print("| strata, first push | %.2f | %d | %.2fx skopeo |" % (first, after_first - after_skopeo, first / skopeo))
        print("| strata, again (nothing to send) | %.2f | %d | %.1f ms a layer |" % (
            again, uploads(log) - after_first, again * 1000 / layers))
    finally:
        if server:
            server.terminate()
            server.wait()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1:])
