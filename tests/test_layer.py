import gzip
import hashlib
import io
import os
import subprocess
import tarfile
import zlib

import pytest

from builder.layers import layer, storetar
from builder.tar import filedata, tarwriter, workers
from builder.tree import fstree
from builder.core.errors import StrataError

OWNER = tarwriter.ROOT


def store_path(base, name, files, link_identical=False):
    """A fake store path with read-only files; identical files may share an inode."""
    path = base / name
    first_of = {}
    for relative, content in files.items():
        full = path / relative
        full.parent.mkdir(parents=True, exist_ok=True)
        if link_identical and content in first_of:
            os.link(first_of[content], full)
        else:
            full.write_text(content)
            os.chmod(full, 0o444)
            first_of[content] = full
    return str(path)


def layer_of(paths, compressor="none", segments=None):
    root = fstree.Dir(0o755)
    fstree.add_store_paths(root, "/nix/store", paths)
    out = io.BytesIO()
    result = layer.write_layer(layer.TarPlan(fstree.entries(root), 1, OWNER), out, compressor, segments)
    return result, out.getvalue()


def segments_of(paths):
    """Each store path's digest of its entries, as a layer kept without its blob records."""
    segments = {}
    layer_of(paths, segments=segments)
    return segments


FILES = {"share/a": "same", "share/b": "same", "share/c": "other", "lib/d": "same", "e": ""}


def test_identical_store_files_are_hard_links_decided_by_content_not_inodes(tmp_path):
    copied, copied_bytes = layer_of([store_path(tmp_path / "copies", "abc-x", FILES)])
    optimised, optimised_bytes = layer_of([store_path(tmp_path / "links", "abc-x", FILES, link_identical=True)])
    assert copied_bytes == optimised_bytes and copied == optimised
    members = tarfile.open(fileobj=io.BytesIO(copied_bytes)).getmembers()
    links = {m.name: m.linkname for m in members if m.islnk()}
    assert links == {"nix/store/abc-x/share/a": "nix/store/abc-x/lib/d",
                     "nix/store/abc-x/share/b": "nix/store/abc-x/lib/d"}


def test_files_outside_the_store_are_never_linked(tmp_path):
    tree = tmp_path / "root"
    (tree / "etc").mkdir(parents=True)
    (tree / "etc" / "a").write_text("same")
    (tree / "etc" / "b").write_text("same")
    root = fstree.merged_root([str(tree)], False)
    out = io.BytesIO()
    layer.write_layer(layer.TarPlan(fstree.entries(root), 1, OWNER), out, "none")
    assert not any(m.islnk() for m in tarfile.open(fileobj=io.BytesIO(out.getvalue())).getmembers())


def test_digests_are_of_the_bytes_written(tmp_path):
    path = store_path(tmp_path, "abc-x", FILES)
    plain, plain_bytes = layer_of([path])
    assert plain.diff_id == plain.digest == "sha256:" + hashlib.sha256(plain_bytes).hexdigest()
    assert plain.size == len(plain_bytes)
    zipped, zipped_bytes = layer_of([path], "gz")
    assert zipped.diff_id == plain.diff_id and gzip.decompress(zipped_bytes) == plain_bytes
    assert zipped.digest == "sha256:" + hashlib.sha256(zipped_bytes).hexdigest() and zipped.size == len(zipped_bytes)


def test_same_content_made_in_another_order_and_umask_gives_the_same_layer(tmp_path):
    forward = store_path(tmp_path / "1", "abc-x", FILES)
    old = os.umask(0o077)
    try:
        backward = store_path(tmp_path / "2", "abc-x", dict(reversed(list(FILES.items()))))
    finally:
        os.umask(old)
    for path in (forward, backward):
        for directory, _, _ in os.walk(path):
            os.chmod(directory, 0o555)
    assert layer_of([forward]) == layer_of([backward])


def test_gnu_tar_extracts_the_layer(tmp_path):
    result, data = layer_of([store_path(tmp_path / "s", "abc-x", FILES)])
    (tmp_path / "layer.tar").write_bytes(data)
    target = tmp_path / "out"
    target.mkdir()
    assert os.system("tar -xf %s -C %s" % (tmp_path / "layer.tar", target)) == 0
    assert (target / "nix/store/abc-x/share/b").read_text() == "same"
    assert os.stat(target / "nix/store/abc-x/share/b").st_ino == os.stat(target / "nix/store/abc-x/lib/d").st_ino


def test_hard_links_and_names_at_the_edges_of_ustar_read_back_in_gnu_tar(tmp_path):
    deep = "share/" + "d" * 80 + "/" + "f" * 60
    files = {deep: "same", deep + "2": "same", "share/" + "e" * 99: "x", ".wh-like/a.wh.b": "y"}
    result, data = layer_of([store_path(tmp_path / "s", "abc-x", files)])
    (tmp_path / "layer.tar").write_bytes(data)
    listed = subprocess.run(["tar", "tvf", str(tmp_path / "layer.tar")], capture_output=True, text=True)
    assert listed.returncode == 0 and listed.stderr == ""
    assert "nix/store/abc-x/%s2 link to nix/store/abc-x/%s" % (deep, deep) in listed.stdout


def test_a_store_file_named_like_a_whiteout_is_refused(tmp_path):
    path = store_path(tmp_path / "s", "abc-x", {"etc/.wh.passwd": ""})
    with pytest.raises(StrataError, match=r"abc-x/etc/\.wh\.passwd: a file whose name starts with \.wh\."):
        layer_of([path])


@pytest.mark.parametrize("size", [5, 100000])
def test_a_file_that_changes_size_under_the_writer_is_an_error(tmp_path, size):
    """A header states the size listed; a file that grew since is an error, small or large."""
    path = tmp_path / "f"
    path.write_bytes(b"x" * (size + 3))
    with pytest.raises(StrataError, match="f: changed size while the layer was written"):
        if size <= filedata.SMALL_FILE:
            filedata.read_whole(bytes(path), size)
        else:
            filedata.read_chunks(bytes(path), size, lambda chunk: None)


def golden_store(base):
    """A fixed store path: small and large files, a long name, links, identical files."""
    files = {"bin/tool": "#!/bin/sh\n" * 3, "lib/a.so": "a" * 70000, "lib/copy.so": "a" * 70000,
             "share/" + "d" * 90 + "/" + "n" * 90 + "/file": "deep", "share/empty": "",
             "share/big": "".join(chr(48 + i % 40) for i in range(3 << 20))}
    path = store_path(base, "abcd-golden", files)
    os.symlink("a.so", os.path.join(path, "lib", "link.so"))
    os.chmod(os.path.join(path, "bin", "tool"), 0o555)
    for directory, _, _ in os.walk(path):
        os.chmod(directory, 0o555)
    return path


def test_the_bytes_stay_what_they_were(tmp_path):
    """Speed work must keep the layers' bytes: these digests change only with a format fix
    (the gzip one also with zlib's version, which decides deflate's output)."""
    path = golden_store(tmp_path)
    plain, _ = layer_of([path])
    zipped, _ = layer_of([path], "gz")
    assert plain.diff_id == "sha256:%s" % GOLDEN_DIFF_ID
    assert zipped.digest == "sha256:%s" % GOLDEN_GZIP_DIGEST


GOLDEN_DIFF_ID = "c8b0e5e4ff9a4270960226e2c92670d1d0ee29958f7e95d822e2ce92c2afad32"
GOLDEN_GZIP_DIGEST = "c03270d7b8070303469428bee77d43bb4f69553347099a1e4e37719871f37319"


def many_paths(base):
    """Store paths with files identical within and across paths, small and large, and a
    name long enough for a PAX header: what the worker processes and the writer share."""
    paths = []
    for index in range(30):
        files = {"share/licence": "same licence\n" * 20, "lib/big.so": "b" * 70000,
                 "share/own-%d" % index: "own %d\n" % index, "share/" + "x" * 120 + "/" + "y" * 150: "deep"}
        if index % 3 == 0:
            files["lib/other.so"] = "o" * 70000 + str(index % 2)
        paths.append(store_path(base, "%02d-path" % index, files))
    return paths


@pytest.mark.parametrize("compressor", ["none", "gz"])
def test_the_bytes_do_not_depend_on_the_number_of_worker_processes(tmp_path, monkeypatch, compressor):
    paths = many_paths(tmp_path)
    results = []
    for cores in ("1", "2", "3"):
        monkeypatch.setenv("NIX_BUILD_CORES", cores)
        workers.close_shared_pool()
        results.append(layer_of(paths, compressor))
    workers.close_shared_pool()
    assert results[0] == results[1] == results[2]
    members = tarfile.open(fileobj=io.BytesIO(results[0][1])).getmembers()
    links = {m.name: m.linkname for m in members if m.islnk()}
    assert links["nix/store/29-path/share/licence"] == "nix/store/00-path/share/licence"
    assert links["nix/store/29-path/lib/big.so"] == "nix/store/00-path/lib/big.so"
    assert links["nix/store/27-path/lib/other.so"] == "nix/store/03-path/lib/other.so"
    assert links["nix/store/24-path/lib/other.so"] == "nix/store/00-path/lib/other.so"


@pytest.mark.parametrize("cores", ["1", "2"])
def test_links_to_files_of_earlier_frames_and_jobs_are_found(tmp_path, monkeypatch, cores):
    """Frames of a block or two each: every earlier file a link goes to is in another frame,
    most in another job, and the writer must still name it."""
    paths = many_paths(tmp_path)
    expected = layer_of(paths)
    monkeypatch.setenv("NIX_BUILD_CORES", cores)
    monkeypatch.setattr(storetar, "FRAME", 600)
    workers.close_shared_pool()
    try:
        assert layer_of(paths) == expected
    finally:
        workers.close_shared_pool()


@pytest.mark.parametrize("cores", ["2", "3"])
def test_a_batch_written_in_stripes_is_the_batch_written_whole(tmp_path, monkeypatch, cores):
    """Fewer batches than workers: every worker writes runs of a few entries of each batch,
    links and large files among them, and the layer is the same bytes, its store paths'
    digests the same."""
    paths = many_paths(tmp_path)[:storetar.BATCH]
    monkeypatch.setenv("NIX_BUILD_CORES", "1")
    workers.close_shared_pool()
    expected = layer_of(paths), layer_of(paths[:1]), segments_of(paths)
    assert len(expected[2]) == len(paths)
    monkeypatch.setenv("NIX_BUILD_CORES", cores)
    monkeypatch.setattr(storetar, "STRIPE", 3)
    monkeypatch.setattr(storetar, "SHARED", 2)
    workers.close_shared_pool()
    try:
        assert (layer_of(paths), layer_of(paths[:1]), segments_of(paths)) == expected
        assert workers._pool.size == int(cores)
    finally:
        workers.close_shared_pool()


def test_a_lone_small_batch_is_written_without_workers(tmp_path, monkeypatch):
    monkeypatch.setenv("NIX_BUILD_CORES", "2")
    workers.close_shared_pool()
    layer_of(many_paths(tmp_path)[:storetar.BATCH])
    assert workers._pool is None


def forged(prefix, crc):
    """`prefix` and four bytes more whose CRC-32 is `crc` (CRC-32 is linear: the four bytes
    that take the register after `prefix` to any value can be solved for)."""
    table = []
    for byte in range(256):
        value = byte
        for _ in range(8):
            value = (value >> 1) ^ (0xEDB88320 if value & 1 else 0)
        table.append(value)
    by_top_byte = {value >> 24: index for index, value in enumerate(table)}
    state, wanted, indices = zlib.crc32(prefix) ^ 0xFFFFFFFF, crc ^ 0xFFFFFFFF, []
    for _ in range(4):
        indices.append(by_top_byte[wanted >> 24])
        wanted = ((wanted ^ table[indices[-1]]) << 8) & 0xFFFFFFFF
    patch = bytearray()
    for index in reversed(indices):
        patch.append((state ^ index) & 0xFF)
        state = (state >> 8) ^ table[index]
    data = prefix + bytes(patch)
    assert zlib.crc32(data) == crc
    return data


def test_files_with_the_same_crc_but_other_bytes_are_not_linked(tmp_path):
    first = b"first file's bytes\n1234"
    second = forged(b"other bytes, same!\n", zlib.crc32(first))
    assert len(first) == len(second) and first != second
    path = tmp_path / "abc-x"
    path.mkdir()
    for name, data in (("a", first), ("b", second), ("c", second), ("d", first)):
        (path / name).write_bytes(data)
    _, data = layer_of([str(path)])
    members = tarfile.open(fileobj=io.BytesIO(data)).getmembers()
    assert {m.name: m.linkname for m in members if m.islnk()} == {
        "nix/store/abc-x/c": "nix/store/abc-x/b", "nix/store/abc-x/d": "nix/store/abc-x/a"}


@pytest.mark.parametrize("cores", ["1", "2"])
def test_a_special_file_in_a_store_path_is_one_clear_error(tmp_path, monkeypatch, cores):
    monkeypatch.setenv("NIX_BUILD_CORES", cores)
    workers.close_shared_pool()
    paths = [store_path(tmp_path, "%02d-x" % index, {"f": "1"}) for index in range(2 * storetar.BATCH)]
    os.mkfifo(os.path.join(paths[-1], "pipe"))
    try:
        with pytest.raises(StrataError, match="15-x/pipe: is a fifo; an image holds only regular files"):
            layer_of(paths)
        monkeypatch.setattr(storetar, "SHARED", 2)
        with pytest.raises(StrataError, match="15-x/pipe: is a fifo"):
            layer_of(paths[-1:])  # one batch: in stripes where there are workers
        with pytest.raises(StrataError, match="abc-missing: cannot read: No such file"):
            layer_of(paths[:-1] + [str(tmp_path / "abc-missing")])
    finally:
        workers.close_shared_pool()
