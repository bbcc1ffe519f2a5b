"""The command line as Nix calls it, on a closure made in a temporary directory."""

import hashlib
import json
import os
import subprocess
import sys
import tarfile

from conftest import REPO


def builder(*args, env=None, cwd=None):
    environment = dict(os.environ, PYTHONPATH=REPO)
    environment.update(env or {})
    return subprocess.run([sys.executable, "-m", "builder"] + list(args), capture_output=True, text=True,
                          env=environment, cwd=cwd)


def closure(tmp_path):
    """A copyToRoot package referring to a library path, and the spec naming them."""
    store = tmp_path / "store"
    lib = store / "aaa-lib"
    (lib / "lib").mkdir(parents=True)
    (lib / "lib" / "libx.so").write_bytes(b"\x7fELF" + bytes(100))
    pkg = store / "bbb-pkg"
    (pkg / "bin").mkdir(parents=True)
    (pkg / "bin" / "app").write_text("#!%s/lib/libx.so\n" % lib)
    os.chmod(pkg / "bin" / "app", 0o555)
    return {
        "imageName": "Demo", "tag": "t",
        "closure": [{"path": str(pkg), "references": [str(lib)]}, {"path": str(lib), "references": []}],
        "copyToRoot": [str(pkg)], "config": {"Cmd": ["/bin/app"]},
    }


def write_spec(tmp_path, document, name="spec.json"):
    path = tmp_path / name
    path.write_text(json.dumps(document))
    return str(path)


def test_help():
    run = builder("--help")
    assert run.returncode == 0 and "build-image" in run.stdout


def test_build_image_writes_a_docker_archive(tmp_path):
    out = tmp_path / "image.tar"
    run = builder("build-image", write_spec(tmp_path, closure(tmp_path)), "--out", str(out))
    assert run.returncode == 0, run.stderr
    with tarfile.open(out) as archive:
        manifest = json.load(archive.extractfile("manifest.json"))
        assert manifest[0]["RepoTags"] == ["demo:t"]
        layer_blob = archive.extractfile(manifest[0]["Layers"][0]).read()
        assert manifest[0]["Layers"][0].endswith(hashlib.sha256(layer_blob).hexdigest())
        config = archive.extractfile(manifest[0]["Config"]).read()
        assert manifest[0]["Config"].endswith(hashlib.sha256(config).hexdigest())
        layer = tarfile.open(fileobj=archive.extractfile(manifest[0]["Layers"][0]))
        names = layer.getnames()
    assert names[:3] == ["bin", "bin/app", "nix"] and "nix/store/aaa-lib/lib/libx.so" in names
    assert not any(name.startswith("nix/store/bbb-pkg") for name in names)


def test_output_bytes_do_not_depend_on_time_zone_umask_locale_or_directory(tmp_path):
    document = closure(tmp_path)
    outputs = []
    for index, env in enumerate([{"TZ": "UTC", "LC_ALL": "C"}, {"TZ": "Asia/Kolkata", "LC_ALL": "C.UTF-8"}]):
        work = tmp_path / ("work%d" % index)
        work.mkdir()
        os.chmod(work, 0o700 if index else 0o755)
        out = work / "image.tar"
        run = subprocess.run(["sh", "-c", "umask %s && exec \"$@\"" % ("077" if index else "022"), "sh",
                              sys.executable, "-m", "builder", "build-image", write_spec(work, document), "--out", str(out)],
                             capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=REPO, **env), cwd=work)
        assert run.returncode == 0, run.stderr
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]


def test_a_malformed_graph_file_is_one_line_naming_file_and_line_and_nothing_is_written(tmp_path):
    graph = tmp_path / "graph"
    graph.write_text("/nix/store/aaa-a\n\nmany\n")
    document = dict(closure(tmp_path), closure=str(graph))
    spec = write_spec(tmp_path, document)
    before = sorted(os.listdir(tmp_path))
    run = builder("build-image", spec, "--out", str(tmp_path / "image.tar"))
    assert run.returncode == 1
    assert run.stderr == "strata: error: %s:3: expected the number of references, got 'many'\n" % graph
    assert sorted(os.listdir(tmp_path)) == before


def test_an_error_while_writing_leaves_no_output(tmp_path):
    document = closure(tmp_path)
    os.mkfifo(tmp_path / "store" / "bbb-pkg" / "bin" / "pipe")
    out = tmp_path / "image.tar"
    run = builder("build-image", write_spec(tmp_path, document), "--out", str(out))
    assert run.returncode == 1 and "bin/pipe: is a fifo" in run.stderr and "Traceback" not in run.stderr
    assert not out.exists()


def test_extra_commands_run_in_a_copy_of_the_root(tmp_path):
    document = dict(closure(tmp_path), extraCommands="mkdir -m 1777 tmp && test -x bin/app && echo hi > etc-file",
                    shell="/bin/sh")
    out = tmp_path / "image.tar"
    run = builder("build-image", write_spec(tmp_path, document), "--out", str(out), env={"TMPDIR": str(tmp_path)})
    assert run.returncode == 0, run.stderr
    with tarfile.open(out) as archive:
        manifest = json.load(archive.extractfile("manifest.json"))
        layer = tarfile.open(fileobj=archive.extractfile(manifest[0]["Layers"][0]))
        members = {m.name: m for m in layer.getmembers()}
    assert members["tmp"].mode == 0o1777 and members["bin/app"].mode == 0o555 and "etc-file" in members
    assert not [name for name in os.listdir(tmp_path) if name.startswith("strata-root-")], "scratch removed"


def test_a_layered_archive_is_the_same_whatever_the_number_of_cores(tmp_path):
    """One store path a layer: the workers run ahead from one layer into the next, and the
    writer still takes every frame in its place."""
    store = tmp_path / "store"
    paths = []
    for index in range(12):
        path = store / ("%02d-path" % index)
        (path / "share").mkdir(parents=True)
        for number in range(30):
            (path / "share" / ("f%02d" % number)).write_text("file %d of %d\n" % (number, index % 3))
        (path / "lib.so").write_bytes(bytes(70000) + bytes([index % 2]))
        paths.append(str(path))
    spec = write_spec(tmp_path, {"imageName": "many", "tag": "t", "contents": paths, "maxLayers": 20, "mtime": 1,
                                 "closure": [{"path": path, "references": []} for path in paths]})
    digests = set()
    for cores in ("1", "2", "3"):
        out = tmp_path / ("image-%s.tar" % cores)
        run = builder("build-layered-image", spec, "--out", str(out), env={"NIX_BUILD_CORES": cores})
        assert run.returncode == 0, run.stderr
        digests.add(hashlib.sha256(out.read_bytes()).hexdigest())
    assert len(digests) == 1
    with tarfile.open(tmp_path / "image-2.tar") as archive:
        assert len(json.load(archive.extractfile("manifest.json"))[0]["Layers"]) == 12


def test_an_output_in_a_directory_that_does_not_exist(tmp_path):
    out = tmp_path / "missing" / "image.tar"
    run = builder("build-image", write_spec(tmp_path, closure(tmp_path)), "--out", str(out))
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert run.stderr.strip() == "strata: error: %s: the output's directory %s does not exist" % (out, out.parent)


def test_an_sri_nar_hash_graph_gives_the_image_a_nix32_graph_gives(tmp_path):
    """A Nix that writes narHash as SRI (path-info JSON's encoding) into .attrs.json: the
    image with a Nix database is the same, byte for byte, as from this Nix's nix32."""
    import base64
    import sqlite3
    from builder.nix import nar
    document = closure(tmp_path)
    for item in document["closure"]:
        digest, size = nar.nar_hash(item["path"])
        item.update(narHash="sha256:" + nar.nix32_encode(digest), narSize=size, closureSize=size)
    sri = json.loads(json.dumps(document))
    for item in sri["closure"]:
        item["narHash"] = "sha256-" + base64.b64encode(nar.nix32_decode(item["narHash"][7:])).decode()
        del item["closureSize"]
    images = []
    for name, spec in (("nix32", document), ("sri", sri)):
        out = tmp_path / (name + ".tar")
        finished = builder("build-image", write_spec(tmp_path, dict(spec, includeNixDB=True), name + ".json"),
                           "--out", str(out))
        assert finished.returncode == 0, finished.stderr
        images.append(out.read_bytes())
    assert images[0] == images[1]
    with tarfile.open(tmp_path / "sri.tar") as image:
        manifest = json.load(image.extractfile("manifest.json"))[0]
        with tarfile.open(fileobj=image.extractfile(manifest["Layers"][-1])) as layer:
            (tmp_path / "db.sqlite").write_bytes(layer.extractfile("nix/var/nix/db/db.sqlite").read())
    hashes = [row[0] for row in sqlite3.connect(str(tmp_path / "db.sqlite")).execute("select hash from ValidPaths")]
    assert hashes and all(value.startswith("sha256:") and len(value) == 71 for value in hashes), "base16, as Nix's"
