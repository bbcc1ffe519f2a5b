import os

from builder.nix import graph, references
from builder.tree import fstree

A = "/nix/store/" + "a" * 32 + "-busybox"
B = "/nix/store/" + "0123456789abcdfghijklmnpqrsvwxyz" + "-lib"
C = "/nix/store/" + "c" * 32 + "-unnamed"


def test_the_paths_files_and_symlinks_name(tmp_path, monkeypatch):
    monkeypatch.setattr(references, "_CHUNK", 64)
    (tmp_path / "script").write_bytes(b"x" * 50 + ("#!%s/bin/sh\n" % A).encode())  # across a piece's end
    (tmp_path / "text").write_text("in a longer run: zz%szz" % os.path.basename(B)[:32])
    os.symlink(C[:10] + "no-hash-here", tmp_path / "link")
    root = fstree.read_node(os.fsencode(tmp_path))
    assert references.named_paths(root, [A, B, C]) == {A, B}
    os.symlink(C + "/bin", tmp_path / "named")
    assert references.named_paths(fstree.read_node(os.fsencode(tmp_path)), [A, B, C]) == {A, B, C}


def test_tops_are_the_paths_no_other_refers_to():
    closure = graph.from_structured([
        {"path": A, "references": [A, B]}, {"path": B, "references": [B]}, {"path": C, "references": []}], "closure")
    assert graph.tops(closure, {A, B, C}) == {A, C}
