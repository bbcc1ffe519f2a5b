"""The builder runs on Python 3.9 and newer: vermin reads every module for what it needs.
(zstd is the exception by design: it is imported only where the interpreter has it.)"""

import hashlib
import json
import os
import subprocess
import sys

from conftest import REPO


def test_the_builder_needs_nothing_newer_than_python_3_9():
    vermin = os.path.join(os.path.dirname(sys.executable), "vermin")  # where pip put it for this Python
    command = [vermin if os.path.exists(vermin) else "vermin", "--no-tips", "-t=3.9-", "--violations",
               "--exclude", "compression", "--exclude", "compression.zstd", os.path.join(REPO, "builder")]
    run = subprocess.run(command, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


PYENV = os.path.expanduser("~/.pyenv/versions")


def supported_pythons():
    """The interpreters of Python 3.9 and newer that pyenv holds on this machine."""
    found = []
    for version in sorted(os.listdir(PYENV)) if os.path.isdir(PYENV) else []:
        interpreter = os.path.join(PYENV, version, "bin", "python3")
        parts = version.split(".")
        if parts[0] == "3" and parts[1].isdigit() and int(parts[1]) >= 9 and os.access(interpreter, os.X_OK):
            found.append(interpreter)
    return found


def test_every_python_writes_the_same_bytes(tmp_path):
    """A one-layer image and a layered one (store paths written by worker processes), with
    copied files, hard links, large files, declared users and perms, and the SBOM of the
    layered one, built by each Python."""
    pythons = supported_pythons()
    if len(pythons) < 2:
        import pytest
        pytest.skip("fewer than two Pythons >= 3.9 under %s" % PYENV)
    store = tmp_path / "store"
    paths = []
    for number in range(12):
        path = store / ("%032d-package-%d" % (number, number))
        (path / "bin").mkdir(parents=True)
        (path / "bin" / "tool").write_bytes(b"#!/bin/sh\necho %d\n" % (number % 3))  # some identical: links
        (path / "bin" / "tool").chmod(0o755)
        (path / "share").mkdir()
        (path / "share" / "data").write_bytes(bytes(range(256)) * (300 + number))  # large: over 64 KiB
        os.symlink("bin/tool", str(path / "run"))
        paths.append(str(path))
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "motd").write_text("hello %s\n" % paths[-1])
    closure = [{"path": path, "references": paths[:index]} for index, path in enumerate(paths)]
    closure.append({"path": str(root), "references": [paths[-1]]})
    common = {"imageName": "Same", "tag": "v1", "storeDir": str(store), "closure": closure, "mtime": 1700000000,
              "users": {"app": {"uid": 1000}}, "compressor": "gz",
              "perms": [{"path": paths[3], "mode": "0750", "gid": 1000}, {"path": "/etc/motd", "uid": 1000}]}
    documents = {
        "build-image": dict(common, copyToRoot=[str(root)]),
        "build-layered-image": dict(common, contents=paths, maxLayers=6,
                                    perms=common["perms"][:1], users={}),
    }
    digests = {}
    for command, document in documents.items():
        spec_file = tmp_path / (command + ".json")
        spec_file.write_text(json.dumps(document))
        for python in pythons:
            out = tmp_path / ("%s-%s.tar" % (command, os.path.basename(os.path.dirname(os.path.dirname(python)))))
            run = subprocess.run([python, "-m", "builder", command, str(spec_file), "--out", str(out)], cwd=REPO,
                                 capture_output=True, text=True, env=dict(os.environ, SOURCE_DATE_EPOCH="1"))
            assert run.returncode == 0, "%s %s: %s" % (python, command, run.stderr)
            digests.setdefault(command, {})[python] = hashlib.sha256(out.read_bytes()).hexdigest()
    # The SBOM of one of those images, written by each Python.
    image = next(iter(tmp_path.glob("build-layered-image-*.tar")))
    spec_file = tmp_path / "build-sbom.json"
    spec_file.write_text(json.dumps({"image": str(image), "closure": closure, "storeDir": str(store),
                                     "packages": [{"path": paths[0], "licenses": [{"spdxId": "MIT"}]}]}))
    for python in pythons:
        out = tmp_path / ("sbom-%s" % os.path.basename(os.path.dirname(os.path.dirname(python))))
        run = subprocess.run([python, "-m", "builder", "build-sbom", str(spec_file), "--out", str(out)], cwd=REPO,
                             capture_output=True, text=True)
        assert run.returncode == 0, "%s build-sbom: %s" % (python, run.stderr)
        digests.setdefault("build-sbom", {})[python] = hashlib.sha256(
            (out / "spdx.json").read_bytes() + (out / "cyclonedx.json").read_bytes()).hexdigest()
    for command, by_python in digests.items():
        assert len(set(by_python.values())) == 1, "%s differs between Pythons: %s" % (command, by_python)
