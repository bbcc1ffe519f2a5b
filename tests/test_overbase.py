import hashlib
import os

from builder.tree import fstree
from builder.tree.imagetree import ImageTree, Node
from builder.tree.overbase import over_base
from builder.tar.tarwriter import ROOT


def base_tree(tmp_path):
    tree = ImageTree()
    content = b"same\n"
    for path, item in {
        "usr": Node("dir", 0o755, 0, 0, 0, None, None, 0),
        "usr/bin": Node("dir", 0o755, 0, 0, 0, None, None, 0),
        "bin": Node("symlink", 0o777, 0, 0, 0, None, "usr/bin", 0),
        "etc": Node("dir", 0o755, 0, 0, 0, None, None, 0),
        "etc/same": Node("file", 0o644, 0, 0, len(content), hashlib.sha256(content).hexdigest(), None, 0),
        "nix": Node("dir", 0o755, 0, 0, 0, None, None, 0),
        "nix/store": Node("dir", 0o755, 0, 0, 0, None, None, 0),
        "nix/store/aaa-old": Node("dir", 0o555, 0, 0, 0, None, None, 0),
    }.items():
        tree.nodes[path] = item
    return tree


def test_what_the_base_holds_is_left_out_and_links_are_followed(tmp_path):
    root_dir = tmp_path / "root"
    (root_dir / "bin").mkdir(parents=True)
    (root_dir / "bin" / "app").write_text("app")
    (root_dir / "etc").mkdir()
    (root_dir / "etc" / "same").write_text("same\n")
    (root_dir / "etc" / "changed").write_text("new\n")
    for path in ["etc/same", "etc/changed"]:
        os.chmod(root_dir / path, 0o644)
    store = tmp_path / "store"
    (store / "aaa-old").mkdir(parents=True)
    (store / "aaa-old" / "f").write_text("f")
    (store / "bbb-new").mkdir()
    (store / "bbb-new" / "g").write_text("g")
    root = fstree.merged_root([str(root_dir)], False)
    fstree.add_store_paths(root, "/nix/store", [str(store / "aaa-old"), str(store / "bbb-new")])
    kept = over_base(fstree.entries(root), base_tree(tmp_path), lambda entry: ROOT, "/nix/store")
    assert [entry.name.decode() for entry in kept] == [
        "etc/changed", "nix/store/bbb-new", "usr/bin/app"]
