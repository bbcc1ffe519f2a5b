"""Layer derivations' outputs, plans and stream scripts, on a closure in a temporary directory."""

import io
import json
import os
import subprocess
import sys
import tarfile

import pytest

from builder.commands import spec
from builder.core.errors import StrataError
from builder.commands.layerbuild import _exact_split, build_layer, plan_layers, read_record
from builder.commands.layeredimage import build_layered_image, write_stream_script


@pytest.fixture
def store(tmp_path):
    """Three store paths: app -> lib -> base, each a directory with one file."""
    paths = {}
    for name, refs in [("base", []), ("lib", ["base"]), ("app", ["lib"])]:
        path = tmp_path / "store" / ("%s-%s" % (name * 3, name))
        (path / "share").mkdir(parents=True)
        (path / "share" / name).write_text(name * 100 + "".join(str(paths[ref]) for ref in refs))
        paths[name] = path
    closure = [{"path": str(paths[name]), "references": [str(paths[ref]) for ref in refs], "narSize": size}
               for (name, refs), size in zip([("base", []), ("lib", ["base"]), ("app", ["lib"])], [300, 200, 100])]
    return tmp_path, {name: str(path) for name, path in paths.items()}, closure


def layer(tmp_path, name, **fields):
    document = dict(fields, outputs={"out": str(tmp_path / name)}, layerName=name)
    build_layer(spec.layer_spec(document, environ={}))
    return str(tmp_path / name)


def image_document(tmp_path, closure, paths, **fields):
    return dict({"imageName": "demo", "tag": "t", "closure": closure, "contents": [paths["app"]]}, **fields)


def run_command(command, document, out):
    image = spec.image_spec(document, out=out)
    command(image, spec.layer_spec(document, out=out, environ={}))


def test_a_layer_of_deps_leaves_out_what_lower_layers_hold(store):
    tmp_path, paths, closure = store
    base = layer(tmp_path, "base", deps=[paths["base"]], closure=closure)
    upper = layer(tmp_path, "upper", deps=[paths["app"]], closure=closure, lowerLayers=[base])
    assert read_record(base).store_paths == [paths["base"]]
    assert read_record(upper).store_paths == sorted([paths["app"], paths["lib"]])
    names = tarfile.open(read_record(upper).blob).getnames()
    assert not any(paths["base"].lstrip("/") in name for name in names)


def test_a_record_only_layer_keeps_no_blob_and_must_be_plain_store_paths(store):
    tmp_path, paths, _ = store
    recorded = read_record(layer(tmp_path, "r", storePaths=[paths["base"]], keepBlob=False, compressor="none"))
    assert recorded.blob is None and list(recorded.segments) == [paths["base"]]
    assert not os.path.exists(os.path.join(recorded.directory, "blob"))
    with pytest.raises(StrataError, match="keepBlob: only a layer of store paths alone, uncompressed"):
        layer(tmp_path, "bad", storePaths=[paths["base"]], keepBlob=False)


def test_plan_respects_the_budget_and_lower_layers(store):
    tmp_path, paths, closure = store
    base = layer(tmp_path, "base", deps=[paths["base"]], closure=closure)
    out = str(tmp_path / "plan.json")
    run_command(plan_layers, dict(image_document(tmp_path, closure, paths), maxLayers=3, lowerLayers=[base]), out)
    groups = json.load(open(out))
    assert len(groups) == 1 and sorted(groups[0]["storePaths"]) == sorted([paths["app"], paths["lib"]])
    with pytest.raises(StrataError, match="maxLayers: 2 leaves no layer for the store paths beside 2 other layers"):
        run_command(plan_layers, dict(image_document(tmp_path, closure, paths), maxLayers=2, lowerLayers=[base]),
                    str(tmp_path / "plan2.json"))


def test_stream_script_writes_the_same_image_as_the_build_without_ifd(store):
    tmp_path, paths, closure = store
    top = layer(tmp_path, "top", contents=[paths["app"]], compressor="none")
    document = image_document(tmp_path, closure, paths, customisationLayer=top, compressor="none")
    run_command(build_layered_image, document, str(tmp_path / "image.tar"))
    run_command(write_stream_script, dict(document, interpreter=sys.executable), str(tmp_path / "stream"))
    streamed = subprocess.run([str(tmp_path / "stream")], capture_output=True, check=True).stdout
    assert streamed == (tmp_path / "image.tar").read_bytes()
    manifest = json.load(tarfile.open(fileobj=io.BytesIO(streamed)).extractfile("manifest.json"))
    assert manifest[0]["RepoTags"] == ["demo:t"] and len(manifest[0]["Layers"]) == 4


def test_a_store_path_changed_after_the_build_stops_the_stream_naming_it(store):
    tmp_path, paths, closure = store
    top = layer(tmp_path, "top", contents=[paths["app"]], compressor="none")
    document = image_document(tmp_path, closure, paths, customisationLayer=top, interpreter=sys.executable)
    run_command(write_stream_script, document, str(tmp_path / "stream"))
    with open(os.path.join(paths["lib"], "share", "lib"), "r+") as changed:
        changed.write("X")
    run = subprocess.run([str(tmp_path / "stream")], capture_output=True)
    assert run.returncode == 1
    said = run.stderr.decode().splitlines()
    assert said[0] == "strata: layer 1/4: layer-base (1 store path, 4096 bytes)", "progress, a line a layer"
    assert said[-1].startswith("strata: error: %s: differs from when the image was built" % paths["lib"])
    with pytest.raises(tarfile.ReadError):
        tarfile.open(fileobj=io.BytesIO(run.stdout)).getmembers()


def test_an_oci_layout_links_its_blobs_to_the_layers(store):
    tmp_path, paths, closure = store
    base = layer(tmp_path, "base", deps=[paths["base"]], closure=closure)
    top = layer(tmp_path, "top", contents=[paths["app"]])
    out = tmp_path / "oci"
    run_command(build_layered_image, image_document(tmp_path, closure, paths, layers=[base], customisationLayer=top,
                                                    format="oci"), str(out))
    index = json.load(open(out / "index.json"))
    assert index["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"] == "demo:t"
    assert json.load(open(out / "oci-layout")) == {"imageLayoutVersion": "1.0.0"}
    assert os.readlink(out / "blobs" / "sha256" / read_record(base).layer.digest[7:]) == read_record(base).blob


@pytest.mark.parametrize("field, value, message", [
    ("diffId", 5, 'diffId: expected a string, got 5'),
    ("digest", "sha256:x", "digest: 'sha256:x' is not a sha256 digest"),
    ("size", -1, "size: -1 is not a size"),
    ("storePaths", "x", 'storePaths: expected a list, got "x"'),
    ("uid", 4294967295, "uid: 4294967295 is not a user or group id"),
    ("mediaType", "text/plain", "mediaType: 'text/plain' is not one of"),
])
def test_a_record_whose_fields_are_wrong_is_not_a_layer(store, field, value, message):
    """Found by fuzzing (seed 1, case 421): a record that was a list, or held a field of
    another type, gave a TypeError where the image used it."""
    tmp_path, paths, closure = store
    directory = layer(tmp_path, "base", deps=[paths["base"]], closure=closure)
    record = os.path.join(directory, "layer.json")
    copy = tmp_path / "copy"
    copy.mkdir()
    document = json.load(open(record))
    document[field] = value
    (copy / "layer.json").write_text(json.dumps(document))
    with pytest.raises(StrataError) as error:
        read_record(str(copy))
    assert str(error.value).startswith("%s: not a strata layer (" % copy) and message in str(error.value)
    (copy / "layer.json").write_text("[1, 2]")
    with pytest.raises(StrataError, match="not a strata layer \\(spec: expected a JSON object, got list"):
        read_record(str(copy))


def test_a_layer_whose_references_are_not_in_the_graph(store):
    """Found by fuzzing (seed 42, case 107255): a record naming a path the closure graph does
    not hold gave a KeyError while planning."""
    tmp_path, paths, closure = store
    directory = layer(tmp_path, "base", deps=[paths["base"]], closure=closure)
    document = json.load(open(os.path.join(directory, "layer.json")))
    document["references"] = ["/nix/store/" + "0" * 32 + "-elsewhere"]
    copy = tmp_path / "copy"
    copy.mkdir()
    (copy / "layer.json").write_text(json.dumps(document))
    with pytest.raises(StrataError, match="copy: the layer's files need /nix/store/0+-elsewhere, which is not in"):
        plan_layers(*[parse(image_document(tmp_path, closure, paths, lowerLayers=[str(copy)]), out=str(tmp_path / "p"))
                      for parse in (spec.image_spec, spec.layer_spec)])


def test_declared_accounts_merge_with_the_roots_own_and_refuse_clashes(tmp_path):
    from builder.tree import accounts
    from builder.tree import fstree
    package = tmp_path / "pkg" / "etc"
    package.mkdir(parents=True)
    (package / "passwd").write_text("root:x:0:0::/root:/bin/sh\nweb:x:33:33::/var/www:/bin/false\n")
    (package / "group").write_text("root:x:0:\nweb:x:33:\n")
    root = fstree.merged_root([str(tmp_path / "pkg")], False)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    accounts.add(root, {"app": {"uid": 1000, "groups": ["web2"]}}, {"web2": {"gid": 34}}, None,
                 str(scratch))
    passwd = (scratch / "etc" / "passwd").read_text().splitlines()
    assert passwd == ["root:x:0:0::/root:/bin/sh", "web:x:33:33::/var/www:/bin/false",
                      "app:x:1000:1000::/home/app:/bin/sh", "nobody:x:65534:65534:nobody:/var/empty:/bin/sh"]
    assert "web2:x:34:app" in (scratch / "etc" / "group").read_text().splitlines()
    for users, message in [({"web": {"uid": 33}}, "users.web: /etc/passwd already has web (web:x:33:33"),
                           ({"x": {"uid": 33}}, "users.x: id 33 is web's in /etc/passwd"),
                           ({"x": {"uid": "1"}}, "users.x.uid: expected a user or group id"),
                           ({"x": {"uid": 1, "password": "p"}}, "users.x.password: not a user field")]:
        with pytest.raises(StrataError) as error:
            accounts.add(fstree.merged_root([str(tmp_path / "pkg")], False), users, {"x": {"gid": 7000}},
                         None, str(scratch))
        assert message in str(error.value)


@pytest.mark.parametrize("split, message", [
    ([["/s/a"], ["/s/a", "/s/b"]], "layersFile: /s/a is in two layers"),
    ([["/s/a", "/s/b", "/s/c"]], "layersFile: /s/c is not in the layer's closure"),
    ([["/s/a"]], r"layersFile: /s/b \(and 0 more paths of the closure\) is in no layer"),
    ([["/s/a", 3]], "layersFile: .* expected a list of lists of store paths"),
    ({"a": 1}, "layersFile: .* expected a list of lists of store paths"),
])
def test_a_layers_file_must_split_the_closure_exactly(tmp_path, split, message):
    path = tmp_path / "layers.json"
    path.write_text(json.dumps(split))
    with pytest.raises(StrataError, match=message):
        _exact_split(str(path), {"/s/a", "/s/b"})


def test_a_layers_file_gives_its_layers_in_order_empty_ones_dropped(tmp_path):
    path = tmp_path / "layers.json"
    path.write_text(json.dumps([["/s/b"], [], ["/s/c", "/s/a"]]))
    assert _exact_split(str(path), {"/s/a", "/s/b", "/s/c"}) == [["/s/b"], ["/s/a", "/s/c"]]
