import gzip
import hashlib
import io
import os
import tarfile

import pytest

from builder import fstree, layer, tarwriter
from builder.errors import StrataError

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


def layer_of(paths, compressor="none"):
    root = fstree.Dir(0o755)
    fstree.add_store_paths(root, "/nix/store", paths)
    out = io.BytesIO()
    result = layer.write_layer(fstree.entries(root), out, 1, OWNER, compressor)
    return result, out.getvalue()


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
    layer.write_layer(fstree.entries(root), out, 1, OWNER, "none")
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


def test_a_file_that_changes_size_under_the_writer_is_an_error(tmp_path):
    path = store_path(tmp_path, "abc-x", {"f": "12345"})
    root = fstree.Dir(0o755)
    fstree.add_store_paths(root, "/nix/store", [path])
    entries = fstree.entries(root)
    os.chmod(path + "/f", 0o644)
    with open(path + "/f", "a") as grow:
        grow.write("678")
    with pytest.raises(StrataError, match="abc-x/f: changed size while the layer was written"):
        layer.write_layer(entries, io.BytesIO(), 1, OWNER, "none")


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
