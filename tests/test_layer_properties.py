"""Property tests of the layer writer: any tree a Linux file system can hold, written by
strata and read back by Python's tarfile and extracted by GNU tar, is the tree it was —
names, bytes, modes, owners, times, link targets — and the digests strata reports are those
of the bytes it wrote. Hypothesis makes the trees: names of every length up to 255 bytes
and of any bytes (UTF-8 of every plane, bytes that are not UTF-8, newlines, leading dashes,
names that look like whiteouts but are none), deep paths, long and odd symlink targets,
identical store files (hard links), setuid, setgid and sticky bits, owners up to 2^32 - 2,
times from 0 to far past 2242, sizes around a block."""

import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from builder.layers import layer
from builder.tar import tarwriter
from builder.tree import fstree

BLOCK_SIZES = [0, 1, 511, 512, 513, 1024, 3000]
EXT4_LAST_SECOND = (1 << 34) - (1 << 31) - 1
"""2446-05-10: the last time ext4 keeps (the tar holds any; times.LAST_FILE_TIME is what
runtimes can set, 2262)."""


def _component_ok(name):
    return name not in (b".", b"..") and not name.startswith(fstree.WHITEOUT)


component = st.one_of(
    st.binary(min_size=1, max_size=255),
    st.text(min_size=1, max_size=60).map(lambda text: text.encode("utf-8", "surrogatepass")),
    st.sampled_from([b"-rf", b"a\nb", b"x.wh.y", b".whx", b"wh..wh..opq", b"\xff\xfe", "é".encode(), b"a" * 255]),
).map(lambda name: name.replace(b"\0", b"_").replace(b"/", b"_")).filter(_component_ok)

content = st.one_of(st.sampled_from(BLOCK_SIZES).map(lambda size: bytes(range(256)) * (size // 256) + b"x" * (size % 256)),
                    st.binary(max_size=1100))
file_mode = st.integers(0, 0o7777)
target = st.binary(min_size=1, max_size=300).map(lambda name: name.replace(b"\0", b"_"))


def trees(depth):
    leaf = st.one_of(st.tuples(st.just("file"), content, file_mode), st.tuples(st.just("symlink"), target))
    if depth == 0:
        return st.dictionaries(component, leaf, max_size=4)
    return st.dictionaries(component, st.one_of(leaf, st.tuples(st.just("dir"), trees(depth - 1), st.integers(0, 0o7777))),
                           max_size=4)


owner_name = st.text(max_size=40).map(lambda name: name.replace("\0", "_"))  # the spec refuses a NUL
owner = st.builds(tarwriter.Owner, st.integers(0, (1 << 32) - 2), st.integers(0, (1 << 32) - 2), owner_name, owner_name)


def make(path, tree, dir_modes):
    """Write `tree` at `path` (bytes); directories get their modes after their children."""
    os.mkdir(path)
    for name, node in tree.items():
        full = os.path.join(path, name)
        if node[0] == "file":
            with open(full, "wb") as stream:
                stream.write(node[1])
            os.chmod(full, node[2])
        elif node[0] == "symlink":
            os.symlink(node[1], full)
        else:
            make(full, node[1], dir_modes)
            os.chmod(full, node[2])
            dir_modes[full] = node[2]


def expected(tree, prefix, copied, listing):
    """{name: (kind, mode, bytes or target)} of what the layer should hold."""
    for name, node in tree.items():
        path = prefix + name
        if node[0] == "dir":
            listing[path] = ("dir", fstree.COPIED_DIR_MODE if copied else node[2], None)
            expected(node[1], path + b"/", copied, listing)
        elif node[0] == "file":
            listing[path] = ("file", node[2], node[1])
        else:
            listing[path] = ("symlink", 0o777, node[1])
    return listing


def read_back(root):
    """{name: (kind, mode, bytes or target, uid, gid, mtime)} of an extracted tree."""
    listing = {}
    root = os.fsencode(root)
    for directory, directories, files in os.walk(root):
        for name in directories + files:
            full = os.path.join(directory, name)
            info = os.lstat(full)
            relative = os.fsdecode(os.path.relpath(full, root))
            if os.path.islink(full):
                listing[relative] = ("symlink", 0o777, os.readlink(full), info.st_uid, info.st_gid, info.st_mtime_ns)
            elif os.path.isdir(full):
                listing[relative] = ("dir", info.st_mode & 0o7777, None, info.st_uid, info.st_gid, info.st_mtime_ns)
            else:
                with open(full, "rb") as stream:
                    data = stream.read()
                listing[relative] = ("file", info.st_mode & 0o7777, data, info.st_uid, info.st_gid, info.st_mtime_ns)
    return listing


def written_layer(work, copied, stored, owner, mtime, compressor):
    """Write the trees in `work` (the copied root and one store path), then the layer of
    them; (the tar's bytes, the layer.Layer, the blob, {name: (kind, mode, payload)} wanted)."""
    root, store_path = os.fsencode(work / "root"), os.fsencode(work / "store")
    os.mkdir(store_path)
    make(root, copied, {})
    package = os.path.join(store_path, b"0" * 32 + b"-package")
    make(package, stored, {})
    tree = fstree.merged_root([os.fsdecode(root)], True)  # links kept as links: the writer is tested here
    fstree.add_store_paths(tree, "/nix/store", [os.fsdecode(package)])
    out = io.BytesIO()
    written = layer.write_layer(layer.TarPlan(fstree.entries(tree), mtime, owner), out, compressor)
    blob = out.getvalue()
    data = blob if compressor == "none" else gzip.decompress(blob)
    want = expected(copied, b"", True, {})
    want[b"nix"] = want[b"nix/store"] = ("dir", fstree.NIX_DIR_MODE, None)
    want[b"nix/store/" + os.path.basename(package)] = ("dir", os.lstat(package).st_mode & 0o7777, None)
    expected(stored, b"nix/store/" + os.path.basename(package) + b"/", False, want)
    return data, written, blob, {os.fsdecode(name): value for name, value in want.items()}


def same_tree(got, want, owner, mtime, where, symlink_times=True):
    assert sorted(got) == sorted(want), where
    for name, (kind, mode, payload) in want.items():
        assert got[name][:3] == (kind, mode, payload), (where, name)
        assert got[name][3:5] == (owner.uid, owner.gid), (where, name)
        if kind != "symlink" or symlink_times:
            assert got[name][5] == mtime * 10 ** 9, (where, name)


@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(copied=trees(3), stored=trees(3), owner=owner, mtime=st.integers(0, EXT4_LAST_SECOND),
       compressor=st.sampled_from(["none", "gz"]))
def test_any_tree_reads_back_exactly(tmp_path_factory, copied, stored, owner, mtime, compressor):
    work = tmp_path_factory.mktemp("tree")
    data, written, blob, want = written_layer(work, copied, stored, owner, mtime, compressor)
    assert written.digest == "sha256:" + hashlib.sha256(blob).hexdigest() and written.size == len(blob)
    assert written.diff_id == "sha256:" + hashlib.sha256(data).hexdigest()
    archive = work / "layer.tar"
    archive.write_bytes(data)
    with tarfile.open(fileobj=io.BytesIO(data), encoding="utf-8", errors="surrogateescape") as tar:
        members = tar.getmembers()
        assert [member.name for member in members] == sorted(want, key=lambda name: os.fsencode(name).split(b"/"))
        for member in members:
            assert (member.uid, member.gid, member.uname, member.gname, member.mtime) == (
                owner.uid, owner.gid, owner.uname, owner.gname, mtime), member.name
    gnu = work / "gnu-tar"
    gnu.mkdir()
    subprocess.run(["tar", "--numeric-owner", "-xpf", str(archive), "-C", str(gnu)], check=True, capture_output=True)
    same_tree(read_back(gnu), want, owner, mtime, "gnu tar")
    python = work / "tarfile"
    python.mkdir()
    with tarfile.open(archive, encoding="utf-8", errors="surrogateescape") as tar:
        tar.extractall(python, numeric_owner=True,
                       **({"filter": "fully_trusted"} if hasattr(tarfile, "fully_trusted_filter") else {}))
    same_tree(read_back(python), want, owner, mtime, "tarfile", symlink_times=False)  # tarfile leaves a link's time
    shutil.rmtree(work)


@pytest.mark.e2e
@settings(max_examples=12, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(copied=trees(2), stored=trees(2), owner=owner, mtime=st.integers(0, EXT4_LAST_SECOND))
def test_umoci_and_podman_unpack_any_tree_exactly(tmp_path_factory, copied, stored, owner, mtime):
    work = tmp_path_factory.mktemp("umoci")
    data, written, blob, want = written_layer(work, copied, stored, owner, mtime, "gz")
    layout = work / "layout"
    (layout / "blobs" / "sha256").mkdir(parents=True)

    def put(content):
        digest = hashlib.sha256(content).hexdigest()
        (layout / "blobs" / "sha256" / digest).write_bytes(content)
        return {"digest": "sha256:" + digest, "size": len(content)}

    config = put(json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                             "rootfs": {"type": "layers", "diff_ids": [written.diff_id]}}).encode())
    manifest = put(json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                               "config": dict(config, mediaType="application/vnd.oci.image.config.v1+json"),
                               "layers": [dict(put(blob), mediaType=written.media_type)]}).encode())
    (layout / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [dict(
        manifest, mediaType="application/vnd.oci.image.manifest.v1+json",
        annotations={"org.opencontainers.image.ref.name": "t"})]}))
    (layout / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    subprocess.run(["umoci", "unpack", "--image", "%s:t" % layout, str(work / "bundle")], check=True,
                   capture_output=True)
    same_tree(read_back(work / "bundle" / "rootfs"), want, owner, mtime, "umoci")
    loaded = subprocess.run(["podman", "load", "-q", "-i", str(layout)], capture_output=True, text=True, check=True)
    image = loaded.stdout.split()[-1]
    mounted = subprocess.run(["podman", "image", "mount", image], capture_output=True, text=True, check=True)
    try:
        same_tree(read_back(mounted.stdout.strip()), want, owner, mtime, "podman")
    finally:
        subprocess.run(["podman", "image", "unmount", image], capture_output=True)
        subprocess.run(["podman", "rmi", "-f", image], capture_output=True)
    shutil.rmtree(work)


@pytest.mark.e2e
def test_a_file_of_8_gib_and_more(tmp_path):
    """A sparse file (no disk fills) past ustar's 8 GiB size field: a PAX size record that
    GNU tar reads, and digests of the bytes as written."""
    package = tmp_path / ("0" * 32 + "-big")
    package.mkdir()
    size = (8 << 30) + 513
    with open(package / "sparse", "wb") as stream:
        stream.truncate(size - 5)
        stream.seek(size - 5)
        stream.write(b"tail!")
    tree = fstree.Dir(0o755)
    fstree.add_store_paths(tree, "/nix/store", [str(package)])
    lister = subprocess.Popen(["tar", "tvf", "-"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    digest = hashlib.sha256()

    class Pipe:
        def write(self, data):
            digest.update(data)
            lister.stdin.write(data)

    written = layer.write_layer(layer.TarPlan(fstree.entries(tree), 1, tarwriter.ROOT), Pipe(), "none")
    lister.stdin.close()
    listing = lister.stdout.read().decode()
    assert lister.wait() == 0
    assert written.diff_id == "sha256:" + digest.hexdigest()
    assert " %d " % size in listing and "big/sparse" in listing
