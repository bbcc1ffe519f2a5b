import pytest

from builder.nix import graph
from builder.core.errors import StrataError

A, B, C = "/nix/store/aaa-a", "/nix/store/bbb-b", "/nix/store/ccc-c"


def test_structured_attrs_list():
    closure = graph.from_structured([
        {"path": A, "references": [B, A], "narHash": "sha256:x", "narSize": 8},
        {"path": B, "references": []},
    ], "closure")
    assert closure[A].references == (B, A) and closure[A].nar_size == 8
    assert closure[B].nar_hash is None


def test_referenced_closure_leaves_out_carriers_nobody_refers_to():
    closure = graph.from_structured([
        {"path": A, "references": [B]}, {"path": B, "references": [C]}, {"path": C, "references": []},
    ], "closure")
    assert graph.referenced_closure(closure, [A]) == {B, C}
    assert graph.referenced_closure(closure, [C]) == set()
    self_referring = graph.from_structured([{"path": A, "references": [A]}], "closure")
    assert graph.referenced_closure(self_referring, [A]) == {A}


def test_plain_export_references_graph_format(tmp_path):
    path = tmp_path / "closure"
    path.write_text("%s\n\n1\n%s\n%s\n\n0\n" % (A, B, B))
    closure = graph.read_registration(str(path))
    assert closure[A].references == (B,) and closure[B].references == ()


def test_closure_info_registration_format(tmp_path):
    path = tmp_path / "registration"
    path.write_text("%s\nsha256:abc\n120\n\n1\n%s\n%s\nsha256:def\n8\n\n0\n" % (A, B, B))
    closure = graph.read_registration(str(path))
    assert closure[A].nar_hash == "sha256:abc" and closure[A].nar_size == 120


@pytest.mark.parametrize("text, message", [
    ("%s\n\nthree\n" % A, ":3: expected the number of references, got 'three'"),
    ("%s\n\n2\n%s\n" % (A, B), ":5: the file ends where a reference was expected"),
    ("relative/path\n\n0\n", ":1: expected an absolute store path, got 'relative/path'"),
    ("%s\n\n1\n%s\n" % (A, B), "%s refers to %s, which the graph does not list" % (A, B)),
    ("%s\n\n0\n%s\n\n0\n" % (A, A), ":4: %s is listed twice" % A),
])
def test_malformed_graph_files_name_the_file_and_line(tmp_path, text, message):
    path = tmp_path / "graph"
    path.write_text(text)
    with pytest.raises(StrataError) as error:
        graph.read_registration(str(path))
    assert str(error.value).startswith(str(path)) and message in str(error.value)


def test_malformed_structured_items_name_the_item():
    with pytest.raises(StrataError, match=r"closure\[1\]\.path: expected an absolute store path"):
        graph.from_structured([{"path": A}, {"path": 3}], "closure")
    with pytest.raises(StrataError, match=r"closure: expected a list"):
        graph.from_structured({"path": A}, "closure")


def test_unreadable_graph_file(tmp_path):
    with pytest.raises(StrataError, match="cannot read the closure graph"):
        graph.read_registration(str(tmp_path / "missing"))
