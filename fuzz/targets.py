"""What the fuzzer feeds strata: the inputs it reads from outside, each with valid seeds made
here and a run that reads a (mutated) input the way a build does.

Each target's ``run(data, case)`` writes `data` where the build would find it, under the
case's directory ``case`` (a pathlib.Path), and runs strata's reading of it; outputs go to
``case / "out"``. A run may succeed or raise StrataError (the one-line message a build
prints); anything else is a bug.
"""

import gzip
import hashlib
import io
import json
import os
import sys
import tarfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from builder.commands import cli, spec  # noqa: E402  (the repository's builder, found above)
from builder.nix import graph, layering
from builder.core.errors import StrataError  # noqa: E402
from builder.image.baseimage import read_base_image  # noqa: E402
from builder.commands.export import export_image  # noqa: E402
from builder.commands.layerbuild import planned_groups, read_layer_plan, read_record  # noqa: E402
from builder.inventory.contents import read_image  # noqa: E402
from builder.registry import reference  # noqa: E402

STORE = "/nix/store/"


def _tar(files, tar_format=tarfile.PAX_FORMAT):
    """A tar of [(name, bytes | ("dir",) | ("symlink", target) | ("hardlink", target))]."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tar_format) as tar:
        for name, payload in files:
            info = tarfile.TarInfo(name)
            info.mtime, info.mode = 1, 0o644
            if isinstance(payload, bytes):
                info.size = len(payload)
                tar.addfile(info, io.BytesIO(payload))
                continue
            info.type = {"dir": tarfile.DIRTYPE, "symlink": tarfile.SYMTYPE, "hardlink": tarfile.LNKTYPE}[payload[0]]
            info.mode = 0o755 if payload[0] == "dir" else 0o777
            info.linkname = payload[1] if len(payload) > 1 else ""
            tar.addfile(info)
    return out.getvalue()


LAYERS = [
    _tar([("etc", ("dir",)), ("etc/passwd", b"root:x:0:0::/:/bin/sh\n"), ("bin", ("symlink", "usr/bin")),
          ("usr/bin/", ("dir",)), ("usr/bin/sh", b"#!" * 300), ("usr/bin/sh2", ("hardlink", "usr/bin/sh")),
          ("opt/" + "d" * 120 + "/f", b"deep")]),
    _tar([("etc/.wh.passwd", b""), ("bin/tool", b"tool"), ("opt/.wh..wh..opq", b""), ("opt/new", b"new")],
         tarfile.GNU_FORMAT),
]


def docker_archive(layers, gzip_layers=False):
    """A Docker archive of the layer tars `layers`, with digests that match them."""
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Env": ["A=1"], "Cmd": ["/bin/sh"]},
                         "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(layer).hexdigest()
                                                                   for layer in layers]},
                         "history": [{"created_by": "fuzz"} for _ in layers]}).encode()
    blobs = [gzip.compress(layer, mtime=0) if gzip_layers else layer for layer in layers]
    files = [("config.json", config)] + [("layer%d/layer.tar" % index, blob) for index, blob in enumerate(blobs)]
    files.append(("manifest.json", json.dumps([{"Config": "config.json", "RepoTags": ["fuzz:v1"],
                                                "Layers": ["layer%d/layer.tar" % i for i in range(len(blobs))]}]).encode()))
    return _tar(files, tarfile.USTAR_FORMAT)


def oci_archive(layers):
    """An OCI archive (a tar of an image layout) of the layer tars `layers`."""
    blobs = {}

    def put(data):
        digest = hashlib.sha256(data).hexdigest()
        blobs["blobs/sha256/" + digest] = data
        return {"digest": "sha256:" + digest, "size": len(data)}

    config = put(json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": [
        "sha256:" + hashlib.sha256(layer).hexdigest() for layer in layers]}}).encode())
    descriptors = [dict(put(gzip.compress(layer, mtime=0)), mediaType="application/vnd.oci.image.layer.v1.tar+gzip")
                   for layer in layers]
    manifest = put(json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                               "config": dict(config, mediaType="application/vnd.oci.image.config.v1+json"),
                               "layers": descriptors}).encode())
    index = {"schemaVersion": 2, "manifests": [dict(manifest, mediaType="application/vnd.oci.image.manifest.v1+json",
                                                    annotations={"org.opencontainers.image.ref.name": "v1"})]}
    files = [("oci-layout", b'{"imageLayoutVersion": "1.0.0"}'), ("index.json", json.dumps(index).encode())]
    return _tar(files + sorted(blobs.items()), tarfile.USTAR_FORMAT)


def _read_and_export(archive, case):
    (case / "out").mkdir()
    base = case / "out" / "base"
    read_base_image(spec.base_spec({"fromImage": str(archive), "outputs": {"out": str(base)}}))
    export_image(spec.export_spec({"base": str(base), "outputs": {"out": str(case / "out" / "rootfs.tar")}}, environ={}))


def run_archive(data, case):
    """An image archive as fromImage names it: read as a base, then flattened."""
    archive = case / "in" / "image.tar"
    archive.write_bytes(data)
    _read_and_export(archive, case)


def run_inspect(data, case):
    """An image archive as `strata inspect` reads it: layer by layer, nothing unpacked."""
    archive = case / "in" / "image.tar"
    archive.write_bytes(data)
    read_image(str(archive))


def run_layout(data, case):
    """An OCI layout directory as fromImage names it: the files of the (mutated) archive
    written into a directory, those whose names stay inside it, then read as a base."""
    layout = case / "in" / "layout"
    layout.mkdir()
    try:
        members = list(tarfile.open(fileobj=io.BytesIO(data)))
        archive = tarfile.open(fileobj=io.BytesIO(data))
    except (tarfile.TarError, EOFError, ValueError, OverflowError, OSError):
        return  # not a tar any more: nothing to lay out
    for member in members:
        parts = member.name.split("/")
        if not member.isfile() or ".." in parts or member.name.startswith("/") or "" in parts:
            continue
        target = layout.joinpath(*parts)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(archive.extractfile(member).read())
        except (tarfile.TarError, EOFError, OSError):
            return  # names that clash, data cut short: no layout to read
    _read_and_export(layout, case)


def run_layer(data, case):
    """A layer's tar inside an otherwise valid archive (its digests made to match), so
    that the mutations reach the tar reader behind the digest checks."""
    archive = case / "in" / "image.tar"
    archive.write_bytes(docker_archive([LAYERS[0], data], gzip_layers=len(data) % 2 == 0))
    _read_and_export(archive, case)


PATHS = [STORE + "%032d-%s" % (index, name) for index, name in enumerate(["app", "lib", "libc", "tool"])]


def registration():
    """closureInfo's registration format: path, NAR hash, NAR size, deriver, references."""
    lines = []
    references = {PATHS[0]: PATHS[1:3], PATHS[1]: PATHS[2:3], PATHS[3]: PATHS[2:3]}
    for path in PATHS:
        lines += [path, "sha256:" + "0" * 52, "1000", "", str(len(references.get(path, [])))]
        lines += references.get(path, [])
    return ("\n".join(lines) + "\n").encode()


def run_registration(data, case):
    path = case / "in" / "registration"
    path.write_bytes(data)
    closure = graph.read_registration(str(path))
    layering.plan(closure, set(closure), 3)


def structured_graph():
    return json.dumps({"closure": [{"path": path, "narSize": 100 * index, "narHash": "sha256:" + "1" * 52,
                                    "references": PATHS[index + 1:index + 2]} for index, path in enumerate(PATHS)]}
                      ).encode()


def run_structured_graph(data, case):
    path = case / "in" / ".attrs.json"
    path.write_bytes(data)
    document = spec.load(str(path))
    closure = graph.from_structured(document.get("closure") if isinstance(document, dict) else document, "closure")
    layering.plan(closure, set(closure), 2)


def layer_record():
    return json.dumps({"diffId": "sha256:" + "a" * 64, "digest": "sha256:" + "b" * 64, "size": 10,
                       "mediaType": "application/vnd.oci.image.layer.v1.tar", "name": "layer",
                       "storePaths": PATHS[:2], "storeDir": "/nix/store", "references": [], "mtime": 1, "uid": 0,
                       "gid": 0, "uname": "root", "gname": "root", "blob": True, "segments": None,
                       "perms": [{"path": PATHS[0], "mode": "0750", "gid": 2, "gname": "readers"}]}).encode()


def run_layer_record(data, case):
    """A layer derivation's record, as an image reads its layers: read, then planned over."""
    directory = case / "in" / "layer"
    directory.mkdir()
    (directory / "layer.json").write_bytes(data)
    (directory / "blob").write_bytes(b"\0" * 1024)
    record = read_record(str(directory))
    image = spec.image_spec({"imageName": "fuzz", "outputs": {"out": str(case / "out")}, "closure": [
        {"path": path, "references": []} for path in PATHS], "contents": PATHS, "maxLayers": 4})
    planned_groups(image, [record], "/nix/store")


def image_spec_document():
    return json.dumps({"imageName": "Fuzz", "tag": "v1", "config": {"Cmd": ["/bin/app"], "Env": ["A=1"],
                                                                     "WorkingDir": "/", "ExposedPorts": {"80/tcp": {}}},
                       "created": "2024-05-01T12:00:00Z", "mtime": 5, "uid": 1, "gid": 2, "compressor": "none",
                       "architecture": "arm64", "variant": "v8", "copyToRoot": [], "closure": [],
                       "users": {"app": {"uid": 1000}},
                       "perms": [{"path": "/etc", "regex": "passwd$", "mode": "0600", "uid": 7, "uname": "x"}]}).encode()


def run_spec(data, case, command="build-image", output="image.tar"):
    """The JSON spec of build-image, as Nix writes it, through the command line."""
    path = case / "in" / "spec.json"
    path.write_bytes(data)
    (case / "out").mkdir()
    code = cli.main([command, str(path), "--out", str(case / "out" / output)])
    if code not in (0, 1):
        raise AssertionError("%s exited %r" % (command, code))


def shell_spec_document():
    return json.dumps({"shell": "/nix/store/" + "b" * 32 + "-bash/bin/bash", "command": "hello",
                       "staticPath": "/nix/store/" + "b" * 32 + "-bash/bin:/nix/store/" + "d" * 32 + "-files/bin",
                       "drvBuilder": "/bin/sh", "drvArgs": ["-e", "builder.sh"], "passAsFile": {"str": "a string"},
                       "structuredAttrs": {"words": ["a", "b c"], "table": {"k": "v"}, "n": 1, "nested": {"l": [1]},
                                           "outputs": {"out": "/nix/store/" + "c" * 32 + "-x"}}}).encode()


def run_shell_spec(data, case):
    """The spec of a Nix shell image's files (nix-shell-files), through the command line."""
    run_spec(data, case, "nix-shell-files", "files")


REFUSED_CREDENTIALS = str(StrataError(reference.CREDENTIALS_REFUSED))


def run_destination(data, case):
    """A push destination as people type it: checked whole, and one whose host part holds
    credentials (USER:PASSWORD@HOST) refused without echoing them."""
    text = data.decode("utf-8", "replace")
    try:
        reference.parse(text)
    except StrataError as error:
        host = (text[len("docker://"):] if text.startswith("docker://") else text).split("/", 1)[0]
        if "@" in host and str(error) != REFUSED_CREDENTIALS:
            raise AssertionError("a destination with credentials got another error: %r" % str(error)) from None


def layer_plan():
    return json.dumps([{"name": "a", "storePaths": PATHS[:2]}, {"name": "b", "storePaths": PATHS[2:]}]).encode()


def run_layer_plan(data, case):
    """An earlier release's plan (layerPlan), read and kept over the closure."""
    path = case / "in" / "plan.json"
    path.write_bytes(data)
    closure = graph.from_structured([{"path": path, "narSize": 10, "references": []} for path in PATHS], "closure")
    layering.plan(closure, set(closure), 4, PATHS[:1], read_layer_plan(str(path)))


TARGETS = {
    "docker-archive": (run_archive, lambda: [docker_archive(LAYERS), docker_archive(LAYERS, gzip_layers=True),
                                             gzip.compress(docker_archive(LAYERS), mtime=0)]),
    "oci-archive": (run_archive, lambda: [oci_archive(LAYERS)]),
    "oci-layout": (run_layout, lambda: [oci_archive(LAYERS)]),
    "layer-tar": (run_layer, lambda: list(LAYERS)),
    "registration": (run_registration, lambda: [registration()]),
    "structured-graph": (run_structured_graph, lambda: [structured_graph()]),
    "layer-record": (run_layer_record, lambda: [layer_record()]),
    "spec": (run_spec, lambda: [image_spec_document()]),
    "shell-spec": (run_shell_spec, lambda: [shell_spec_document()]),
    "push-destination": (run_destination, lambda: [b"docker://127.0.0.1:5000/team/app:v1",
                                                   b"docker://ship:pass-word@registry.example/app:t",
                                                   b"registry.example/app@sha256:" + b"a" * 64,
                                                   b"docker://[::1]:5000/a/b:c"]),
    "layer-plan": (run_layer_plan, lambda: [layer_plan()]),
    "inspect": (run_inspect, lambda: [docker_archive(LAYERS, gzip_layers=True), oci_archive(LAYERS)]),
}
"""name: (run, the seeds)."""
