import io
import os
import subprocess
import tarfile

import pytest

from builder.layers import layer
from builder.tar import tarwriter
from builder.tree import fstree
from builder.core.errors import StrataError


def make(root, spec):
    """Make files from {relative path: content | ('link', target) | None for a directory}."""
    for path, content in spec.items():
        full = root / path
        full.parent.mkdir(parents=True, exist_ok=True)
        if content is None:
            full.mkdir(exist_ok=True)
        elif isinstance(content, tuple):
            os.symlink(content[1], full)
        else:
            full.write_text(content)
    return str(root)


def names(root):
    return [entry.name.decode() + ("/" if entry.kind == "dir" else "") for entry in fstree.entries(root)]


def test_order_is_gnu_tar_sort_name_order(tmp_path):
    tree = make(tmp_path / "t", {"a-c": "", "Z": "", "a/b": "", "_x": "", "B": None, "a.d": ""})
    listed = names(fstree.merged_root([tree], False))
    assert listed == ["B/", "Z", "_x", "a/", "a/b", "a-c", "a.d"]
    gnu = subprocess.run(["tar", "--sort=name", "-cf", "-", "-C", tree, "."], capture_output=True, check=True,
                         env={"LC_ALL": "C", "PATH": os.environ["PATH"]}).stdout
    gnu_names = subprocess.run(["tar", "tf", "-"], input=gnu, capture_output=True, check=True).stdout.decode().split()
    assert [name[2:] for name in gnu_names[1:]] == listed


def test_later_items_win_and_directories_merge(tmp_path):
    first = make(tmp_path / "1", {"etc/a": "1", "etc/b": "1", "bin": ("link", "usr/bin"), "usr/bin/x": "1"})
    second = make(tmp_path / "2", {"etc/b": "2", "etc/c": "2", "bin/y": "2"})
    root = fstree.merged_root([first, second], keep_dirlinks=False)
    # bin -> usr/bin is copied as the directory it leads to (rsync -k), then merged with 2's bin/.
    assert names(root) == ["bin/", "bin/x", "bin/y", "etc/", "etc/a", "etc/b", "etc/c", "usr/", "usr/bin/", "usr/bin/x"]
    assert root.children[b"etc"].children[b"b"].source.endswith(b"2/etc/b")


def test_a_build_env_whose_bin_is_a_symlink_merges_with_a_real_bin(tmp_path):
    package = make(tmp_path / "store/hello", {"bin/hello": "h", "share/doc/x": "d"})
    env = make(tmp_path / "store/env", {"bin": ("link", package + "/bin"), "share": ("link", package + "/share"),
                                        "dangling": ("link", "/no/such"), "file": ("link", package + "/bin/hello")})
    other = make(tmp_path / "store/other", {"bin/other": "o"})
    root = fstree.merged_root([env, other], keep_dirlinks=False)
    assert names(root) == ["bin/", "bin/hello", "bin/other", "dangling", "file", "share/", "share/doc/",
                           "share/doc/x"]
    assert root.children[b"bin"].mode == 0o755
    linked = fstree.merged_root([], False, linked_items=[env, other])
    assert names(linked) == ["bin/", "bin/hello", "bin/other", "dangling", "file", "share"]
    assert linked.children[b"bin"].children[b"hello"].target == (env + "/bin/hello").encode()
    other_first = fstree.merged_root([], False, linked_items=[other, env])
    assert names(other_first) == ["bin/", "bin/hello", "bin/other", "dangling", "file", "share"]
    kept = fstree.merged_root([env, other], keep_dirlinks=True)
    assert names(kept) == ["bin/", "bin/other", "dangling", "file", "share"]


def test_an_item_that_is_a_symlink_to_a_directory_is_read_through(tmp_path):
    package = make(tmp_path / "store/pkg", {"etc/motd": "hi"})
    os.symlink(package, tmp_path / "store/alias")
    for linked in (False, True):
        items = [str(tmp_path / "store/alias")]
        root = fstree.merged_root([] if linked else items, False, linked_items=items if linked else ())
        assert names(root) == ["etc/", "etc/motd"]


def test_a_symlink_loop_through_directories_is_one_error(tmp_path):
    tree = make(tmp_path / "r", {"a/up": ("link", "..")})
    with pytest.raises(StrataError, match=r"r/a/up/a/up: a symlink to a directory that holds it"):
        fstree.merged_root([tree], False)


def test_keep_dirlinks_merges_through_the_link_inside_the_root(tmp_path):
    first = make(tmp_path / "1", {"bin": ("link", "/usr/bin"), "usr/bin/x": "1", "up": ("link", "../../..")})
    second = make(tmp_path / "2", {"bin/y": "2", "up/z": "2"})
    root = fstree.merged_root([first, second], keep_dirlinks=True)
    # "up" leads above the root, which a runtime clamps to the root: z lands at /z.
    assert names(root) == ["bin", "up", "usr/", "usr/bin/", "usr/bin/x", "usr/bin/y", "z"]


def test_copied_directories_are_0755_and_store_paths_keep_their_modes(tmp_path):
    tree = make(tmp_path / "root", {"etc/x": "1"})
    store_path = make(tmp_path / "store" / "abc-pkg", {"bin/tool": "t"})
    os.chmod(store_path + "/bin", 0o555)
    os.chmod(tree + "/etc", 0o555)
    root = fstree.merged_root([tree], False)
    fstree.add_store_paths(root, "/nix/store", [store_path])
    listed = {entry.name: entry for entry in fstree.entries(root)}
    assert listed[b"etc"].mode == 0o755 and listed[b"nix"].mode == 0o755
    assert listed[b"nix/store/abc-pkg"].store_path == store_path and listed[b"etc/x"].store_path is None
    written = io.BytesIO()
    layer.write_layer(layer.TarPlan(fstree.entries(root), 1, tarwriter.ROOT), written, "none")
    with tarfile.open(fileobj=io.BytesIO(written.getvalue())) as tar:
        assert tar.getmember("nix/store/abc-pkg/bin").mode == 0o555
        assert tar.getmember("etc").mode == 0o755


def test_no_store_paths_no_nix(tmp_path):
    root = fstree.merged_root([make(tmp_path / "r", {"etc/x": "1"})], False)
    fstree.add_store_paths(root, "/nix/store", [])
    assert names(root) == ["etc/", "etc/x"]


def test_special_files_are_refused(tmp_path):
    tree = make(tmp_path / "r", {"etc/x": "1"})
    os.mkfifo(tree + "/etc/pipe")
    with pytest.raises(StrataError, match=r"etc/pipe: is a fifo; an image holds only regular files"):
        fstree.merged_root([tree], False)


@pytest.mark.parametrize("name", [".wh.passwd", ".wh..wh..opq"])
def test_files_named_like_whiteouts_are_refused(tmp_path, name):
    tree = make(tmp_path / "r", {"etc/" + name: ""})
    with pytest.raises(StrataError, match=r"r/etc/%s: a file whose name starts with .wh. is read as a whiteout"
                       % name.replace(".", r"\.")):
        fstree.merged_root([tree], False)
    with pytest.raises(StrataError, match="starts with .wh."):
        fstree.merged_root([], False, linked_items=[tree])


def test_names_that_only_look_like_whiteouts_are_kept(tmp_path):
    tree = make(tmp_path / "r", {"etc/a.wh.b": "", "etc/.whx": "", "etc/wh..wh..opq": ""})
    assert names(fstree.merged_root([tree], False)) == ["etc/", "etc/.whx", "etc/a.wh.b", "etc/wh..wh..opq"]


def test_copy_to_root_items_must_be_directories(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(StrataError, match="copyToRoot: .*file is not a directory"):
        fstree.merged_root([str(tmp_path / "file")], False)
