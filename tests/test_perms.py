"""perms: modes and owners of chosen entries, set while the layer is written (no fakeroot),
read back with tarfile from layers, images and stream scripts built on a temporary store."""

import io
import json
import os
import subprocess
import sys
import tarfile

import pytest

from builder.commands import spec
from builder.tree import perms
from builder.core.errors import StrataError
from builder.commands.layerbuild import build_layer, read_record
from builder.commands.layeredimage import build_layered_image, write_stream_script


@pytest.fixture
def store(tmp_path):
    """A store directory with app -> lib, each a directory with share/NAME; lib has a
    symlink, app a copy of lib's file (a hard link, unless perms select it)."""
    store_dir = tmp_path / "store"
    paths = {}
    for name in ("lib", "app"):
        path = store_dir / ("%s-%s" % (name * 3, name))
        (path / "share").mkdir(parents=True)
        (path / "share" / name).write_text("the same bytes\n")
        paths[name] = str(path)
    os.symlink("share/lib", os.path.join(paths["lib"], "link"))
    closure = [{"path": paths["lib"], "references": []}, {"path": paths["app"], "references": [paths["lib"]]}]
    return tmp_path, str(store_dir), paths, closure


def layer(tmp_path, name, **fields):
    document = dict(fields, outputs={"out": str(tmp_path / name)}, layerName=name)
    build_layer(spec.layer_spec(document, environ={}))
    return str(tmp_path / name)


def members(blob_or_bytes):
    source = tarfile.open(fileobj=io.BytesIO(blob_or_bytes)) if isinstance(blob_or_bytes, bytes) \
        else tarfile.open(blob_or_bytes)
    with source as archive:
        return {member.name: member for member in archive.getmembers()}


def named(path):
    return path.lstrip("/")


def owner_and_mode(member):
    return member.uid, member.gid, member.uname, member.gname, member.mode


@pytest.mark.parametrize("rule, message", [
    ({"path": "/x", "mode": 750}, r"perms\[0\]\.mode: 750 is not a string of octal digits such as \"0750\""),
    ({"path": "/x", "mode": "0999"}, r"perms\[0\]\.mode: \"0999\" is not a string of octal digits"),
    ({"path": "/x", "mode": "0750", "owner": 1}, r"perms\[0\]: unknown field owner"),
    ({"mode": "0750"}, r"perms\[0\]\.path: missing"),
    ({"path": "home/app", "uid": 1}, r"perms\[0\]\.path: 'home/app' is not an absolute, normal path"),
    ({"path": "/a/../b", "uid": 1}, r"perms\[0\]\.path: '/a/../b' is not an absolute, normal path"),
    ({"path": "/x", "regex": "(", "uid": 1}, r"perms\[0\]\.regex: '\(' is not a regular expression"),
    ({"path": "/x"}, r"perms\[0\]: sets none of mode, orMode, uid, gid, uname, gname"),
    ({"path": "/x", "orMode": 200}, r"perms\[0\]\.orMode: 200 is not a string of octal digits"),
    ({"path": "/x", "uid": 4294967295}, r"perms\[0\]\.uid: 4294967295 is not a user or group id"),
    ({"path": "/x", "uname": "a\0b"}, r"perms\[0\]\.uname: .* holds a NUL byte"),
    ("/x", r"perms\[0\]: expected an object with path and what to set"),
])
def test_a_rule_that_is_wrong_is_refused_naming_its_field(rule, message):
    with pytest.raises(StrataError, match=message):
        perms.rules([rule])


def test_store_paths_get_the_modes_and_owners_of_their_rules_later_rules_winning(store):
    tmp_path, store_dir, paths, _ = store
    blob = read_record(layer(tmp_path, "l", storePaths=[paths["lib"], paths["app"]], storeDir=store_dir, perms=[
        {"path": paths["lib"], "mode": "0750", "gid": 2000, "gname": "readers"},
        {"path": paths["app"] + "/share", "regex": "/app$", "uid": 1000, "mode": "0700"},
        {"path": paths["app"] + "/share", "regex": "/app$", "uid": 1001},
    ])).blob
    found = members(blob)
    for name in ("", "/share", "/share/lib"):
        assert owner_and_mode(found[named(paths["lib"] + name)]) == (0, 2000, "root", "readers", 0o750)
    link = found[named(paths["lib"] + "/link")]
    assert link.issym() and (link.gid, link.gname) == (2000, "readers"), "a symlink takes the owner, not the mode"
    assert found[named(paths["lib"] + "/share/lib")].isfile(), "never a hard link to another store file"
    app_file = found[named(paths["app"] + "/share/app")]
    assert owner_and_mode(app_file) == (1001, 0, "", "root", 0o700)
    assert owner_and_mode(found[named(paths["app"] + "/share")]) == (0, 0, "root", "root", 0o755)


def test_or_mode_adds_bits_after_mode_as_in_nix2container(store):
    tmp_path, store_dir, paths, _ = store
    blob = read_record(layer(tmp_path, "l", storePaths=[paths["lib"]], storeDir=store_dir, perms=[
        {"path": paths["lib"] + "/share", "regex": "/lib$", "orMode": "0200"},
        {"path": paths["lib"], "regex": "/share$", "mode": "0500", "orMode": "0020"},
    ])).blob
    found = members(blob)
    assert found[named(paths["lib"] + "/share/lib")].mode == 0o644, "0444 | 0200"
    assert found[named(paths["lib"] + "/share")].mode == 0o520, "mode, then its orMode"
    assert found[named(paths["lib"] + "/link")].mode == 0o777


def test_a_layer_without_perms_is_written_as_before(store):
    tmp_path, store_dir, paths, _ = store
    plain = read_record(layer(tmp_path, "plain", storePaths=[paths["lib"], paths["app"]], storeDir=store_dir))
    found = members(plain.blob)
    assert found[named(paths["lib"] + "/share/lib")].islnk(), "identical store files are linked"
    assert plain.perms == []
    ruled = read_record(layer(tmp_path, "ruled", storePaths=[paths["lib"], paths["app"]], storeDir=store_dir,
                              perms=[{"path": paths["app"], "uid": 5}]))
    assert members(ruled.blob)[named(paths["lib"] + "/share/lib")].isfile(), "nor one to a selected file"


def test_a_rule_that_selects_nothing_or_names_what_the_layer_lacks_is_an_error(store):
    tmp_path, store_dir, paths, _ = store
    with pytest.raises(StrataError, match=r'perms rule \{path = ".*libliblib-lib"; regex = "\\\\.so\$"\}: the regex'
                                          r' selects nothing under .*libliblib-lib'):
        layer(tmp_path, "typo", storePaths=[paths["lib"]], storeDir=store_dir,
              perms=[{"path": paths["lib"], "regex": "\\.so$", "mode": "0750"}])
    with pytest.raises(StrataError, match=r"/srv is not in this layer \(perms cannot change a base image's files"):
        layer(tmp_path, "missing", storePaths=[paths["lib"]], storeDir=store_dir, perms=[{"path": "/srv", "uid": 1}])
    record = read_record(layer(tmp_path, "of-image", storePaths=[paths["lib"]], storeDir=store_dir, permsOfImage=True,
                               perms=[{"path": "/srv", "uid": 1}, {"path": paths["lib"], "uid": 2}]))
    assert [rule.document for rule in record.perms] == [{"path": paths["lib"], "uid": 2}], "left to other layers"


def test_copied_items_are_selected_by_their_paths_in_the_image_and_in_the_store(tmp_path):
    item = tmp_path / "home-dir"
    (item / "home" / "app").mkdir(parents=True)
    (item / "home" / "app" / "notes").write_text("x")
    (item / "etc").mkdir()
    (item / "etc" / "motd").write_text("hi")
    blob = read_record(layer(tmp_path, "l", copyToRoot=[str(item)], perms=[
        {"path": str(item), "regex": "/home/app$", "uid": 1000, "gid": 1000, "mode": "0755"},  # nix2container's way
        {"path": "/home/app/notes", "mode": "0600", "uid": 1000},
        {"path": "/", "regex": "^/etc", "mode": "0700"},
    ])).blob
    found = members(blob)
    assert owner_and_mode(found["home/app"]) == (1000, 1000, "", "", 0o755)
    assert owner_and_mode(found["home/app/notes"]) == (1000, 0, "", "root", 0o600)
    assert owner_and_mode(found["home"]) == (0, 0, "root", "root", 0o755)
    assert found["etc"].mode == found["etc/motd"].mode == 0o700


def image(tmp_path, store, **fields):
    _, store_dir, paths, closure = store
    top = layer(tmp_path, "top", contents=[paths["app"]], compressor="none", storeDir=store_dir)
    return {"imageName": "demo", "tag": "t", "closure": closure, "contents": [paths["app"]], "storeDir": store_dir,
            "customisationLayer": top, "compressor": "none", "interpreter": sys.executable, **fields}


def run_command(command, document, out):
    command(spec.image_spec(document, out=out), spec.layer_spec(document, out=out, environ={}))


def test_an_image_that_plans_its_layers_applies_perms_and_its_stream_writes_the_same(store):
    tmp_path, _, paths, _ = store
    rules = [{"path": paths["lib"], "mode": "0750", "gid": 2000}]
    document = image(tmp_path, store, perms=rules)
    run_command(build_layered_image, document, str(tmp_path / "image.tar"))
    run_command(write_stream_script, document, str(tmp_path / "stream"))
    streamed = subprocess.run([str(tmp_path / "stream")], capture_output=True, check=True).stdout
    assert streamed == (tmp_path / "image.tar").read_bytes()
    with tarfile.open(tmp_path / "image.tar") as archive:
        manifest = json.load(archive.extractfile("manifest.json"))[0]
        layers = [members(archive.extractfile(name).read()) for name in manifest["Layers"]]
    lib_file = next(found for found in layers if named(paths["lib"]) in found)[named(paths["lib"] + "/share/lib")]
    assert (lib_file.gid, lib_file.mode) == (2000, 0o750)


def test_a_recorded_layer_is_streamed_again_with_its_perms(store):
    tmp_path, store_dir, paths, _ = store
    rules = [{"path": paths["lib"], "mode": "0750", "gid": 2000}]
    record = layer(tmp_path, "store-layer", storePaths=[paths["lib"], paths["app"]], storeDir=store_dir,
                   keepBlob=False, compressor="none", perms=rules, permsOfImage=True)
    document = dict(image(tmp_path, store, perms=rules), layers=[record])
    del document["closure"]
    run_command(write_stream_script, document, str(tmp_path / "stream"))
    streamed = subprocess.run([str(tmp_path / "stream")], capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(streamed)) as archive:
        manifest = json.load(archive.extractfile("manifest.json"))[0]
        found = members(archive.extractfile(manifest["Layers"][0]).read())
    assert (found[named(paths["lib"] + "/share/lib")].gid, found[named(paths["lib"])].mode) == (2000, 0o750)


def test_an_image_rule_that_no_layer_applied_is_an_error(store):
    tmp_path, _, paths, _ = store
    document = image(tmp_path, store, perms=[{"path": "/srv/data", "uid": 1}])
    with pytest.raises(StrataError, match=r'perms rule \{path = "/srv/data"; regex = ".\*"\}: /srv/data is in none of'
                                          r" the layers the image writes"):
        run_command(build_layered_image, document, str(tmp_path / "image.tar"))
