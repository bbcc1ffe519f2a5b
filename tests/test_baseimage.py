"""Base images from archives made here: the good ones are read, the hostile ones refused
with a message naming the archive, layer and entry, and nothing is written anywhere."""

import gzip
import hashlib
import io
import json
import os
import tarfile

import pytest

from builder.commands import spec
from builder.image.baseimage import BaseImage, read_base_image
from builder.core.errors import StrataError
from builder.commands.export import export_image
from builder.commands.layeredimage import build_layered_image


def entry(name, data=b"", kind=tarfile.REGTYPE, linkname="", mode=0o644):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    info.mode = mode
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    return info, data


def layer_tar(entries, tar_format=tarfile.PAX_FORMAT):
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tar_format) as tar:
        for info, data in entries:
            tar.addfile(info, io.BytesIO(data) if info.isreg() else None)
    return out.getvalue()


def docker_archive(path, layers, gzip_layers=False, diff_ids=None, tags=("base:v1",), drop=None, whole_gzip=False,
                   tar_format=tarfile.PAX_FORMAT, raw_layers=None):
    """A Docker archive of `layers` (each a list of entries, or `raw_layers`, tar bytes) at `path`."""
    blobs = raw_layers or [layer_tar(layer, tar_format) for layer in layers]
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Env": ["A=1"]},
                         "rootfs": {"type": "layers", "diff_ids": diff_ids or [
                             "sha256:" + hashlib.sha256(blob).hexdigest() for blob in blobs]}}).encode()
    files = {"config.json": config}
    names = []
    for index, blob in enumerate(blobs):
        name = "layer%d/layer.tar" % index
        files[name] = gzip.compress(blob, mtime=0) if gzip_layers else blob
        names.append(name)
    files["manifest.json"] = json.dumps([{"Config": "config.json", "RepoTags": list(tags), "Layers": names}]).encode()
    for name in drop or ():
        del files[name]
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o444
            tar.addfile(info, io.BytesIO(data))
    data = gzip.compress(out.getvalue(), mtime=0) if whole_gzip else out.getvalue()
    path.write_bytes(data)
    os.chmod(path, 0o444)
    return str(path)


def read(tmp_path, archive, out_name="base", **fields):
    out = tmp_path / out_name
    document = dict({"fromImage": archive, "outputs": {"out": str(out)}}, **fields)
    read_base_image(spec.base_spec(document))
    return BaseImage(str(out))


def refused(tmp_path, archive, message):
    before = sorted(os.listdir(tmp_path))
    with pytest.raises(StrataError) as error:
        read(tmp_path, archive)
    assert message in str(error.value) and archive in str(error.value)
    assert sorted(os.listdir(tmp_path)) == before, "nothing written"
    return str(error.value)


GOOD = [[entry("./etc/", kind=tarfile.DIRTYPE, mode=0o755), entry("./etc/passwd", b"root\n"),
         entry("/bin", kind=tarfile.SYMTYPE, linkname="usr/bin"), entry("usr/bin/", kind=tarfile.DIRTYPE),
         entry("usr/bin/sh", b"#!", mode=0o755), entry("dev/null", kind=tarfile.CHRTYPE)],
        [entry("etc/.wh.passwd"), entry("bin/tool", b"t"), entry("etc/group", b"g\n")]]


def test_a_good_base_read_only_gzipped_whole_with_absolute_and_dot_names(tmp_path):
    base = read(tmp_path, docker_archive(tmp_path / "base.tar.gz", GOOD, gzip_layers=True, whole_gzip=True))
    nodes = base.tree.nodes
    assert "etc/passwd" not in nodes and nodes["etc/group"].kind == "file"
    assert nodes["usr/bin/tool"].layer == 1 and "bin/tool" not in nodes, "written through the link"
    assert nodes["dev/null"].kind == "other", "devices pass through, never made on disk"
    assert [layer.media_type for layer in base.layers] == ["application/vnd.oci.image.layer.v1.tar+gzip"] * 2
    assert base.repo_tags == ["base:v1"] and base.config["config"]["Env"] == ["A=1"]


def test_opaque_directories_hide_only_lower_layers(tmp_path):
    layers = [[entry("d/", kind=tarfile.DIRTYPE), entry("d/old", b"1")],
              [entry("d/", kind=tarfile.DIRTYPE), entry("d/.wh..wh..opq"), entry("d/new", b"2")]]
    nodes = read(tmp_path, docker_archive(tmp_path / "a.tar", layers)).tree.nodes
    assert "d/new" in nodes and "d/old" not in nodes


def test_export_applies_whiteouts_and_writes_through_links(tmp_path):
    read(tmp_path, docker_archive(tmp_path / "a.tar", GOOD))
    out = tmp_path / "rootfs.tar"
    export_image(spec.export_spec({"base": str(tmp_path / "base"), "outputs": {"out": str(out)}}))
    listed = tarfile.open(out).getmembers()
    assert [member.name for member in listed] == [
        ".", "./bin", "./dev", "./dev/null", "./etc", "./etc/group", "./usr", "./usr/bin", "./usr/bin/sh",
        "./usr/bin/tool"], "as tar --sort=name of the root writes it: the root, directories before what they hold"
    members = {member.name: member for member in listed}
    assert members["./dev/null"].ischr() and members["./usr"].isdir() and members["./usr"].mode == 0o755


def test_export_writes_hard_links_as_copies(tmp_path):
    layers = [[entry("a", b"data"), entry("b", kind=tarfile.LNKTYPE, linkname="a")], [entry(".wh.a")]]
    read(tmp_path, docker_archive(tmp_path / "a.tar", layers))
    out = tmp_path / "rootfs.tar"
    export_image(spec.export_spec({"base": str(tmp_path / "base"), "outputs": {"out": str(out)}}))
    with tarfile.open(out) as exported:
        assert exported.getnames() == [".", "./b"] and exported.extractfile("./b").read() == b"data"


def test_an_image_picked_by_name_and_tag(tmp_path):
    archive = docker_archive(tmp_path / "a.tar", GOOD, tags=("one:v1", "two:v2"))
    assert read(tmp_path, archive, fromImageName="two", fromImageTag="v2").repo_tags == ["one:v1", "two:v2"]
    with pytest.raises(StrataError, match="no image three:v1 in it"):
        read(tmp_path, archive, "other", fromImageName="three", fromImageTag="v1")


@pytest.mark.parametrize("name", ["../../etc/evil", "a/../../evil", "/../evil"])
def test_a_name_that_climbs_out_of_the_root(tmp_path, name):
    refused(tmp_path, docker_archive(tmp_path / "a.tar", [[entry(name, b"x")]]), "leaves the image root")


def test_a_pax_long_name_that_climbs_out(tmp_path):
    name = "a/" * 60 + "../" * 70 + "evil"
    refused(tmp_path, docker_archive(tmp_path / "a.tar", [[entry(name, b"x")]]), "leaves the image root")


def test_a_gnu_long_name_that_climbs_out(tmp_path):
    name = "b/" * 60 + "../" * 70 + "evil"
    assert b"././@LongLink" in layer_tar([entry(name, b"x")], tar_format=tarfile.GNU_FORMAT)
    archive = docker_archive(tmp_path / "a.tar", [[entry(name, b"x")]], tar_format=tarfile.GNU_FORMAT)
    refused(tmp_path, archive, "leaves the image root")


def test_a_hard_link_out_of_the_root_names_the_link_and_its_target(tmp_path):
    refused(tmp_path, docker_archive(tmp_path / "a.tar", [[entry("x", kind=tarfile.LNKTYPE, linkname="../../etc/shadow")]]),
            "layer 1 (layer0/layer.tar): entry 'x' is a hard link to '../../etc/shadow', which leaves the image root")


def test_an_entry_whose_size_lies_beyond_what_the_layer_can_hold(tmp_path):
    """Found by fuzzing (seed 3, case 856): tarfile would skip 3e26 bytes in a stream, for ever."""
    info, _ = entry("etc/.wh.passwd")
    layer = bytearray(layer_tar([(info, b"")]))
    layer[124:136] = b"\x80" + (3 << 80).to_bytes(11, "big")  # base-256 size
    layer[148:156] = b" " * 8
    layer[148:156] = b"%06o\0 " % sum(layer[:512])
    archive = tmp_path / "a.tar"
    refused(tmp_path, docker_archive(archive, [[]], raw_layers=[bytes(layer)]),
            "entry 'etc/.wh.passwd' says it holds 3626777458843887524118528 bytes, more than the layer can hold")


def test_an_archive_whose_sizes_lie_past_any_file_offset(tmp_path):
    """Found by fuzzing (seed 1, case 87): tarfile raised ValueError seeking past 2^63."""
    archive = bytearray(open(docker_archive(tmp_path / "a.tar", GOOD), "rb").read())
    archive[124:136] = b"\x80" + (1 << 80).to_bytes(11, "big")
    archive[148:156] = b" " * 8
    archive[148:156] = b"%06o\0 " % sum(archive[:512])
    (tmp_path / "b.tar").write_bytes(bytes(archive))
    refused(tmp_path, str(tmp_path / "b.tar"), "not a readable image archive")


def test_a_stream_script_given_as_a_base(tmp_path):
    script = tmp_path / "stream-app"
    script.write_text("#!/usr/bin/python3 -IS\nimport sys\n")
    refused(tmp_path, str(script), "a script, not an image archive (a streamLayeredImage? pass a buildLayeredImage")


def test_a_hard_link_to_a_later_entry(tmp_path):
    message = refused(tmp_path, docker_archive(tmp_path / "a.tar", [[entry("x", kind=tarfile.LNKTYPE, linkname="y"),
                                                                     entry("y", b"data")]]),
                      "is a hard link to 'y', which is not an earlier entry of the layer")
    assert "layer 1" in message and "'x'" in message


def test_a_layer_that_does_not_match_its_diff_id(tmp_path):
    refused(tmp_path, docker_archive(tmp_path / "a.tar", GOOD[:1], diff_ids=["sha256:" + "0" * 64]),
            "the config's diff_id is sha256:" + "0" * 64)


def test_a_manifest_naming_a_missing_file(tmp_path):
    refused(tmp_path, docker_archive(tmp_path / "a.tar", GOOD[:1], drop=["layer0/layer.tar"]),
            "manifest.json names layer0/layer.tar, which the archive does not hold")


def test_a_truncated_archive(tmp_path):
    whole = docker_archive(tmp_path / "whole.tar", GOOD)
    cut = tmp_path / "cut.tar"
    cut.write_bytes(open(whole, "rb").read()[:1536])
    os.unlink(whole)
    refused(tmp_path, str(cut), "not a readable image archive (unexpected end of data)")


def test_a_size_field_larger_than_the_data(tmp_path):
    blob = bytearray(layer_tar([entry("big", b"x" * 600)]))
    header = tarfile.TarInfo.frombuf(bytes(blob[:512]), "utf-8", "strict")
    assert header.name == "big"
    blob = bytes(blob[:512 + 512])  # the header says 600 bytes; one block follows, then nothing
    config = json.dumps({"rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(blob).hexdigest()]}})
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for name, data in [("config.json", config.encode()), ("l.tar", blob), ("manifest.json", json.dumps(
                [{"Config": "config.json", "RepoTags": ["x:y"], "Layers": ["l.tar"]}]).encode())]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    archive = tmp_path / "a.tar"
    archive.write_bytes(out.getvalue())
    refused(tmp_path, str(archive), "layer 1 (l.tar): truncated or corrupt layer")


def test_an_oci_layout_blob_that_does_not_match_its_digest(tmp_path):
    layout = tmp_path / "layout"
    (layout / "blobs" / "sha256").mkdir(parents=True)
    layer = layer_tar(GOOD[0])
    def blob(data):
        digest = hashlib.sha256(data).hexdigest()
        (layout / "blobs" / "sha256" / digest).write_bytes(data)
        return {"digest": "sha256:" + digest, "size": len(data)}
    config = blob(json.dumps({"rootfs": {"type": "layers", "diff_ids": [
        "sha256:" + hashlib.sha256(layer).hexdigest()]}}).encode())
    layer_descriptor = blob(layer)
    (layout / "blobs" / "sha256" / layer_descriptor["digest"][7:]).write_bytes(layer + b"tampered")
    manifest = blob(json.dumps({"schemaVersion": 2, "config": config, "layers": [layer_descriptor]}).encode())
    (layout / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [manifest]}))
    (layout / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    refused(tmp_path, str(layout), "the manifest says " + layer_descriptor["digest"])


def test_a_repeated_layer_is_kept_twice_in_order_and_stored_once(tmp_path):
    blob = layer_tar(GOOD[0])
    digest = "sha256:" + hashlib.sha256(blob).hexdigest()
    config = json.dumps({"rootfs": {"type": "layers", "diff_ids": [digest, digest]}}).encode()
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for name, data in [("c.json", config), ("a/layer.tar", blob), ("b/layer.tar", blob),
                           ("manifest.json", json.dumps([{"Config": "c.json", "RepoTags": ["r:1"],
                                                          "Layers": ["b/layer.tar", "a/layer.tar"]}]).encode())]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    archive = tmp_path / "repeated.tar"
    archive.write_bytes(out.getvalue())
    base = read(tmp_path, str(archive))
    assert [layer.digest for layer in base.layers] == [digest, digest]
    assert os.listdir(tmp_path / "base" / "blobs") == [digest[7:]]
    image = tmp_path / "image.tar"
    document = {"imageName": "over", "tag": "t", "base": str(tmp_path / "base"), "outputs": {"out": str(image)}}
    build_layered_image(spec.image_spec(document), spec.layer_spec(document, environ={}))
    with tarfile.open(image) as tar:
        names = tar.getnames()
        manifest = json.load(tar.extractfile("manifest.json"))[0]
    assert names.count("blobs/sha256/" + digest[7:]) == 1
    assert manifest["Layers"] == ["blobs/sha256/" + digest[7:]] * 2


def test_a_nix2container_image_json_is_named_as_such(tmp_path):
    image_json = tmp_path / "image.json"
    image_json.write_text(json.dumps({"version": 1, "image-config": {"Env": []}, "layers": [], "arch": "amd64"}))
    refused(tmp_path, str(image_json), "a nix2container image.json, which only nix2container's skopeo reads")
