import pytest

from builder.core.errors import StrataError
from builder.tree.imagetree import ImageTree, Node, normal_name


def node(kind, target=None, layer=0):
    return Node(kind, 0o755, 0, 0, 0, None, target, layer)


@pytest.mark.parametrize("name, normal", [
    ("./etc/", "etc"), ("/nix/store/x", "nix/store/x"), ("a//b/./c", "a/b/c"), ("a/b/../c", "a/c"), (".", ""),
])
def test_one_normal_form(name, normal):
    assert normal_name(name, "here") == normal


def test_climbing_out_is_refused():
    with pytest.raises(StrataError, match="here: entry 'a/../../b' leaves the image root"):
        normal_name("a/../../b", "here")


def test_paths_resolve_through_symlinks_inside_the_root():
    tree = ImageTree()
    tree.put("usr", node("dir"))
    tree.put("usr/bin", node("dir"))
    tree.put("bin", node("symlink", "usr/bin"))
    tree.put("up", node("symlink", "../../../"))
    tree.put("abs", node("symlink", "/usr"))
    assert tree.resolve_parent("bin/app") == "usr/bin/app"
    assert tree.resolve("up/etc") == "etc", "above the root is the root"
    assert tree.resolve("abs/bin/sh") == "usr/bin/sh"
    assert tree.put("bin/app", node("file")) == "usr/bin/app"


def test_whiteouts_and_opaque_directories():
    tree = ImageTree()
    for path, kind in [("d", "dir"), ("d/old", "file"), ("d/sub", "dir"), ("d/sub/f", "file"), ("e", "file")]:
        tree.put(path, node(kind, layer=0))
    assert tree.whiteout(".wh.e", 1) is True and "e" not in tree.nodes
    tree.put("d/new", node("file", layer=1))
    assert tree.whiteout("d/.wh..wh..opq", 1)
    assert sorted(tree.nodes) == ["d", "d/new"]
    assert tree.whiteout("d/plain", 1) is False


def test_a_file_over_a_directory_removes_what_was_below():
    tree = ImageTree()
    tree.put("x", node("dir"))
    tree.put("x/y", node("file"))
    tree.put("x", node("file"))
    assert sorted(tree.nodes) == ["x"]
