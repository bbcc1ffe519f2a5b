import os
import sqlite3

import pytest

from builder.nix import graph, nixdb
from builder.core.errors import StrataError


def small_graph(tmp_path):
    base = tmp_path / "aaa-base"
    base.write_text("base")
    app = tmp_path / "bbb-app"
    app.mkdir()
    (app / "ref").write_text(str(base))
    return graph.from_structured([
        {"path": str(app), "references": [str(base), str(app)]},
        {"path": str(base), "references": [], "narHash": "sha256:0mdqa9w1p6cmli6976v4wi0sw9r4p5prkj7lzfd1877wk11c9c73",
         "narSize": 8},
    ], "closure")


def test_database_rows_hashes_and_references(tmp_path):
    closure = small_graph(tmp_path)
    filename = str(tmp_path / "db.sqlite")
    nixdb.write_database(filename, closure, set(closure), 7)
    connection = sqlite3.connect(filename)
    rows = connection.execute("select id, path, hash, registrationTime, narSize from ValidPaths order by id").fetchall()
    assert [row[1] for row in rows] == sorted(closure)
    assert rows[0][2] == "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" and rows[0][4] == 8
    assert rows[1][2].startswith("sha256:") and len(rows[1][2]) == 71 and rows[1][3] == 7, "NAR computed here"
    assert sorted(connection.execute("select referrer, reference from Refs").fetchall()) == [(2, 1), (2, 2)]
    assert not os.path.exists(filename + "-journal")


def test_the_same_input_gives_the_same_bytes(tmp_path):
    closure = small_graph(tmp_path)
    first, second = str(tmp_path / "1.sqlite"), str(tmp_path / "2.sqlite")
    nixdb.write_database(first, closure, set(closure), 7)
    nixdb.write_database(second, dict(reversed(list(closure.items()))), set(closure), 7)
    assert open(first, "rb").read() == open(second, "rb").read()


def test_database_root_has_schema_and_gc_roots(tmp_path):
    closure = small_graph(tmp_path)
    app = [path for path in closure if path.endswith("app")][0]
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    root = nixdb.database_root(str(scratch), closure, set(closure), {app}, 1, "/nix/store")
    assert (scratch / "nix/var/nix/db/schema").read_bytes() == b"10"
    assert os.readlink(scratch / "nix/var/nix/gcroots/docker/bbb-app") == "/nix/store/bbb-app"
    assert b"db.sqlite" in root.children[b"nix"].children[b"var"].children[b"nix"].children[b"db"].children


def test_merging_with_a_base_database(tmp_path):
    closure = small_graph(tmp_path)
    base_path = [path for path in closure if path.endswith("base")][0]
    base_db = str(tmp_path / "base.sqlite")
    nixdb.write_database(base_db, closure, {base_path}, 3)
    merged = str(tmp_path / "merged.sqlite")
    nixdb.write_database(merged, closure, set(closure), 7, base_db)
    rows = sqlite3.connect(merged).execute("select path, registrationTime from ValidPaths order by path").fetchall()
    assert rows == [(base_path, 3), ([p for p in closure if p != base_path][0], 7)], "the base's rows kept as they were"
    changed = dict(closure)
    changed[base_path] = changed[base_path]._replace(nar_hash="sha256:" + "1" * 64)
    with pytest.raises(StrataError, match="is registered in the base image with hash sha256:e3b0c4"):
        nixdb.write_database(str(tmp_path / "conflict.sqlite"), changed, set(closure), 7, base_db)


HEX = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


@pytest.mark.parametrize("nar_hash", [
    "sha256:0mdqa9w1p6cmli6976v4wi0sw9r4p5prkj7lzfd1877wk11c9c73",  # what exportReferencesGraph writes
    "sha256:" + HEX,
    "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",  # SRI, as path-info JSON has it
    "sha256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
])
def test_every_encoding_of_a_nar_hash_gives_the_same_database(tmp_path, nar_hash):
    def database(name, text, extra):
        closure = graph.from_structured([dict({"path": "/nix/store/%s-base" % ("a" * 32), "references": [],
                                               "narHash": text, "narSize": 8}, **extra)], "closure")
        filename = str(tmp_path / name)
        nixdb.write_database(filename, closure, set(closure), 7)
        return open(filename, "rb").read()
    # Fields that come and go between Nix versions change nothing.
    other_fields = {"closureSize": 8, "deriver": None, "valid": True, "registrationTime": 5, "signatures": [],
                    "ultimate": False, "someFieldOfTomorrow": {"x": 1}}
    assert database("given.sqlite", nar_hash, other_fields) == database("nix32.sqlite",
                                                                       "sha256:0mdqa9w1p6cmli6976v4wi0sw9r4p5prkj7lzfd1877wk11c9c73", {})


@pytest.mark.parametrize("nar_hash", ["md5:" + HEX[:32], "sha256:" + HEX[:60], "sha256-" + HEX, 12, None])
def test_a_nar_hash_of_no_known_encoding_is_one_error_naming_the_path(tmp_path, nar_hash):
    closure = graph.from_structured([{"path": "/nix/store/%s-base" % ("a" * 32), "references": [],
                                      "narHash": nar_hash, "narSize": 8}], "closure")
    if nar_hash is None:  # no hash at all: strata computes it, from the path, which is not here
        return
    with pytest.raises(StrataError, match=r"/nix/store/a{32}-base: narHash .* is no SHA-256 hash strata knows"):
        nixdb.write_database(str(tmp_path / "db.sqlite"), closure, set(closure), 7)


def test_a_content_address_as_a_string_or_as_newer_nix_writes_it(tmp_path):
    def ca_of(value):
        closure = graph.from_structured([{"path": "/nix/store/%s-base" % ("a" * 32), "references": [],
                                          "narHash": "sha256:" + HEX, "narSize": 8, "ca": value}], "closure")
        return next(iter(closure.values())).ca
    text = "fixed:r:sha256:0mdqa9w1p6cmli6976v4wi0sw9r4p5prkj7lzfd1877wk11c9c73"
    assert ca_of(text) == text
    assert ca_of({"method": "nar", "hash": "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="}) == text
    assert ca_of({"method": "text", "hash": "sha256:" + HEX}) == "text:" + text[len("fixed:r:"):]
    with pytest.raises(StrataError, match="ca .* is no content address strata knows"):
        ca_of({"method": "git", "hash": "sha1-abc"})
