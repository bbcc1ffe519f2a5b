"""What an image holds, read back: names split as Nix splits them, layers scanned for store
paths, the SBOM's model and its refusals."""

import gzip
import io
import json
import tarfile

import pytest

from builder.core.errors import StrataError
from builder.inventory import contents, names, sbom
from builder.nix.graph import from_structured
from conftest import nix_eval

NAMES = ["hello-2.12.1", "openssl-3.0.13-bin", "python3.11-requests-2.31.0", "busybox", "glibc-2.39-52",
         "font-util-1.4.1", "x-", "a-b-c", "libfoo-1.0-dev", "ncurses-abi6-compat-6.4", "util-linux-minimal-2.39.3-lib",
         "-1", "nix-2.24.0pre20240101_abc", "vim-9.1.0-xxd", "a--1", "élan-1"]


def test_names_split_exactly_as_parse_drv_name():
    expected = json.loads(nix_eval("map builtins.parseDrvName (builtins.fromJSON ''%s'')" % json.dumps(NAMES)))
    assert [dict(zip(("name", "version"), names.parse_drv_name(name))) for name in NAMES] == expected


def test_store_name_and_hash_part():
    path = "/nix/store/3k7zy2ldjz4vzkrmv96r4vxnvlwg5ypj-busybox-1.36"
    assert names.store_name(path) == "busybox-1.36" and names.hash_part(path) == "3k7zy2ldjz4vzkrmv96r4vxnvlwg5ypj"


def layer_blob(entries, compress=True):
    """A layer's blob: `entries` (name, kind) with kind "dir", "file" or "link"."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, kind in entries:
            info = tarfile.TarInfo(name)
            if kind == "dir":
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            elif kind == "link":
                info.type, info.linkname = tarfile.SYMTYPE, "elsewhere"
                tar.addfile(info)
            else:
                info.size = 3
                tar.addfile(info, io.BytesIO(b"abc"))
    data = buffer.getvalue()
    return gzip.compress(data, mtime=0) if compress else data, data


def test_a_layer_is_scanned_for_store_paths_other_files_digests_and_sizes():
    import hashlib
    blob, tar = layer_blob([("nix", "dir"), ("nix/store", "dir"), ("nix/store/aaa-one", "dir"),
                            ("nix/store/aaa-one/bin/x", "file"), ("./nix/store/bbb-two", "link"),
                            ("nix/store/ccc-three/share/y", "file"), ("nix/store/.wh.ddd-gone", "file"),
                            ("etc", "dir"), ("etc/passwd", "file"), ("bin", "link")])
    layer = contents.scan_layer(io.BytesIO(blob), "test")
    assert layer.store_paths == ("/nix/store/aaa-one", "/nix/store/bbb-two", "/nix/store/ccc-three")
    assert layer.other_files == 3  # the whiteout, etc/passwd, the bin link
    assert layer.digest == "sha256:" + hashlib.sha256(blob).hexdigest()
    assert layer.diff_id == "sha256:" + hashlib.sha256(tar).hexdigest()
    assert (layer.size, layer.uncompressed_size) == (len(blob), len(tar))
    assert contents.scan_layer(io.BytesIO(tar), "plain").diff_id == layer.diff_id


def test_a_blob_that_is_no_tar_is_one_error():
    with pytest.raises(StrataError, match="not a layer's tar"):
        contents.scan_layer(io.BytesIO(gzip.compress(b"\x01" * 1000)), "layer 3")


def test_repo_tags_split_at_the_tag_colon_not_the_port():
    assert contents.split_repo_tag("127.0.0.1:5000/a/b:v1") == ("127.0.0.1:5000/a/b", "v1")
    assert contents.split_repo_tag("127.0.0.1:5000/a/b") == ("127.0.0.1:5000/a/b", "")


def image(layers):
    return contents.Contents("app", "1", {"created": "2024-01-02T03:04:05Z"}, "sha256:" + "c" * 64, 100,
                             "sha256:" + "d" * 64, layers)


def layer(digest, paths):
    return contents.Layer("sha256:" + digest * 64, "sha256:" + digest * 64, 1, 1, tuple(paths), 0, None)


GRAPH = from_structured([
    {"path": "/nix/store/aaa-app-1.0", "references": ["/nix/store/aaa-app-1.0", "/nix/store/bbb-lib-2",
                                                      "/nix/store/eee-in-base"],
     "narHash": "sha256:" + "0" * 52},
    {"path": "/nix/store/bbb-lib-2", "references": [], "narHash": "sha256-" + "A" * 43 + "="},
    {"path": "/nix/store/eee-in-base", "references": [], "narHash": "sha256:" + "1" * 64},
], "closure")


def test_the_model_holds_the_own_layers_paths_with_references_among_them():
    base = [layer("e", ["/nix/store/eee-in-base"])]
    model = sbom.describe(image(base + [layer("a", ["/nix/store/aaa-app-1.0", "/nix/store/bbb-lib-2"])]),
                          GRAPH, [{"path": "/nix/store/bbb-lib-2", "pname": "libbar", "version": "2.0"}], [],
                          [contents.Layer("sha256:" + "e" * 64, None, 1, None, None, None, None)], ["base:1"])
    assert [(p.name, p.version, p.references) for p in model.packages] == [
        ("app", "1.0", ["/nix/store/bbb-lib-2"]), ("libbar", "2.0", [])]
    assert model.packages[1].nar_hash == "00" * 32 and model.base_layers == ["sha256:" + "e" * 64]
    assert model.created == "2024-01-02T03:04:05Z"


def test_a_layer_path_the_closure_lacks_is_one_error_naming_it():
    with pytest.raises(StrataError, match="/nix/store/zzz-stray: in the image's layers but not in its closure"):
        sbom.describe(image([layer("a", ["/nix/store/zzz-stray"])]), GRAPH, [], [], [], [])


def test_layers_that_are_not_the_bases_are_refused():
    with pytest.raises(StrataError, match="not its base image's"):
        sbom.describe(image([layer("a", [])]), GRAPH, [], [],
                      [contents.Layer("sha256:" + "e" * 64, None, 1, None, None, None, None)], [])


def test_a_docker_save_archive_is_read_without_an_oci_index(tmp_path):
    """As `docker save` wrote archives before 25.0: manifest.json, a config and layer.tar
    files, no index.json, so no manifest digest."""
    import hashlib
    _, tar = layer_blob([("nix/store/aaa-one/bin/x", "file"), ("etc/hosts", "file")], compress=False)
    config = json.dumps({"rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(tar).hexdigest()]},
                         "created": "2020-01-01T00:00:00Z"}).encode()
    files = {"manifest.json": json.dumps([{"Config": "c.json", "RepoTags": ["reg:5000/app:1"],
                                           "Layers": ["abc/layer.tar"]}]).encode(),
             "c.json": config, "abc/layer.tar": tar}
    archive = tmp_path / "saved.tar"
    with tarfile.open(archive, "w") as out:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            out.addfile(info, io.BytesIO(data))
    read = contents.read_image(str(archive))
    assert (read.name, read.tag, read.manifest_digest) == ("reg:5000/app", "1", None)
    assert read.layers[0].store_paths == ("/nix/store/aaa-one",) and read.layers[0].other_files == 1
    assert read.layers[0].digest == read.layers[0].diff_id and read.config_size == len(config)


def test_documents_stay_valid_whatever_nix_says_of_licences_and_sources(tmp_path):
    """nixpkgs' facts as they come: mirror:// URLs (no download location an SBOM tool takes),
    URLs with spaces or a broken host, licence names that leave nothing of an id, two names
    that make the same id, an spdxId no SPDX id could be; both validators accept the
    documents."""
    import subprocess
    from builder.inventory import cyclonedx, spdx
    odd = [{"name": "+"}, {"name": "a b"}, {"name": "a-b"}, {"spdxId": "not an id!"}, {"spdxId": "MIT", "name": "mit"},
           {"name": ""}, "unfree"]
    model = sbom.describe(image([layer("a", ["/nix/store/aaa-app-1.0", "/nix/store/bbb-lib-2"])]), GRAPH, [
        {"path": "/nix/store/aaa-app-1.0", "licenses": odd, "urls": ["mirror://gnu/app/app-1.0.tar.gz"],
         "outputHash": "sha256-" + "A" * 43 + "="},
        {"path": "/nix/store/bbb-lib-2", "urls": ["mirror://x/y", "https://example.org/a b", "http://[bad/",
                                                   "https://example.org/lib-2.tar.gz"],
         "homepage": "https://example.org/a page", "description": "lib"}], [], [], [])
    spdx_file, cyclonedx_file = tmp_path / "spdx.json", tmp_path / "cyclonedx.json"
    spdx_file.write_text(json.dumps(spdx.document(model)))
    cyclonedx_file.write_text(json.dumps(cyclonedx.document(model)))
    checked = subprocess.run(["pyspdxtools", "-i", str(spdx_file)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator
    assert JsonStrictValidator(SchemaVersion.V1_5).validate_str(cyclonedx_file.read_text()) is None
    packages = {package["name"]: package for package in json.loads(spdx_file.read_text())["packages"]}
    assert packages["app"]["downloadLocation"] == "NOASSERTION"
    assert "mirror://gnu/app/app-1.0.tar.gz" in packages["app"]["sourceInfo"]
    assert packages["lib"]["downloadLocation"] == "https://example.org/lib-2.tar.gz"
    assert "homepage" not in packages["lib"], "a homepage with a space is no URL"
    declared = packages["app"]["licenseDeclared"].split(" AND ")
    assert len(declared) == len(set(declared)) == 5 and "MIT" in declared


def test_any_facts_nix_could_give_make_documents_both_validators_accept(tmp_path):
    """A property test: whatever strings Nix hands over for a package (pname, version,
    licences, homepage, description, URLs, hash), the SPDX document passes spdx-tools'
    validation and the CycloneDX one the 1.5 schema."""
    from hypothesis import HealthCheck, given, settings, strategies as st
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator
    from spdx_tools.spdx.parser.parse_anything import parse_file
    from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document
    from builder.inventory import cyclonedx, spdx
    text = st.one_of(st.none(), st.text(max_size=30), st.integers(), st.lists(st.integers(), max_size=2), st.sampled_from(
        ["MIT", "GPL-2.0-or-later", "0", "https://example.org/x", "mirror://gnu/x", "http://[::1]/", "a b", ""]))
    licence = st.fixed_dictionaries({"spdxId": text, "name": text})
    facts = st.fixed_dictionaries({"pname": text, "version": text,
                                   "licenses": st.one_of(st.lists(st.one_of(licence, text), max_size=4), text),
                                   "homepage": text, "description": text,
                                   "urls": st.one_of(st.lists(text, max_size=3), text), "outputHash": text})
    validator = JsonStrictValidator(SchemaVersion.V1_5)

    @settings(max_examples=200, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
    @given(facts, facts)
    def check(app, lib):
        model = sbom.describe(image([layer("a", ["/nix/store/aaa-app-1.0", "/nix/store/bbb-lib-2"])]), GRAPH,
                              [dict(app, path="/nix/store/aaa-app-1.0"), dict(lib, path="/nix/store/bbb-lib-2")],
                              [], [], [])
        path = tmp_path / "spdx.json"
        path.write_text(json.dumps(spdx.document(model)))
        problems = validate_full_spdx_document(parse_file(str(path)))
        assert problems == [], [problem.validation_message for problem in problems]
        assert validator.validate_str(json.dumps(cyclonedx.document(model))) is None
    check()
