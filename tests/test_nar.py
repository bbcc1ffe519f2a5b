"""The NAR serialiser against Nix's own numbers, on real store paths."""

import os
import subprocess

import pytest
from hypothesis import given, strategies as st

from builder.nix import nar
from builder.core.errors import StrataError
from conftest import nix_build


def test_nix32_known_values():
    assert nar.nix32_encode(bytes.fromhex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")) == \
        "0mdqa9w1p6cmli6976v4wi0sw9r4p5prkj7lzfd1877wk11c9c73"
    assert nar.nix32_encode(bytes.fromhex("e4fd8ba5f7bbeaea5ace89fe10255536cd60dab6")) == "nvd61k9nalji1zl9rrdfmsmvyyjqpzg4"


@given(st.binary(min_size=32, max_size=32))
def test_nix32_round_trips(digest):
    assert nar.nix32_decode(nar.nix32_encode(digest)) == digest


def test_hash_hex_takes_both_encodings():
    hexdigest = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert nar.hash_hex("sha256:0mdqa9w1p6cmli6976v4wi0sw9r4p5prkj7lzfd1877wk11c9c73") == hexdigest
    assert nar.hash_hex("sha256:" + hexdigest.upper()) == hexdigest
    with pytest.raises(StrataError, match="narHash 'md5:abc' is no SHA-256 hash strata knows"):
        nar.hash_hex("md5:abc")


def nix_hash(path):
    return subprocess.run(["nix-hash", "--type", "sha256", "--base32", str(path)],
                          capture_output=True, text=True, check=True).stdout.strip()


def test_a_tree_of_every_kind_agrees_with_nix_hash(tmp_path):
    tree = tmp_path / "tree"
    (tree / "empty-dir").mkdir(parents=True)
    (tree / "sub" / "deeper").mkdir(parents=True)
    (tree / "empty").write_bytes(b"")
    (tree / "hello").write_bytes(b"hello\0world\n\n")
    (tree / "sub" / "deeper" / "eight").write_bytes(b"12345678")
    (tree / "run").write_text("#!/bin/sh\n")
    os.chmod(tree / "run", 0o755)
    os.symlink("hello", tree / "link")
    os.symlink("/nowhere/at/all", tree / "sub" / "dangling")
    digest, _ = nar.nar_hash(tree)
    assert nar.nix32_encode(digest) == nix_hash(tree)
    single, _ = nar.nar_hash(tree / "hello")
    assert nar.nix32_encode(single) == nix_hash(tree / "hello")


@pytest.mark.e2e
def test_real_store_paths_agree_with_nix_store_query():
    built = nix_build("hello")
    assert built.returncode == 0, built.stderr
    closure = subprocess.run(["nix-store", "-qR", built.stdout.strip()], capture_output=True, text=True,
                             check=True).stdout.split()
    for path in closure:
        digest, size = nar.nar_hash(path)
        expected_hash = subprocess.run(["nix-store", "--query", "--hash", path], capture_output=True, text=True,
                                       check=True).stdout.strip()
        expected_size = subprocess.run(["nix-store", "--query", "--size", path], capture_output=True, text=True,
                                       check=True).stdout.strip()
        assert ("sha256:" + nar.nix32_encode(digest), str(size)) == (expected_hash, expected_size), path
