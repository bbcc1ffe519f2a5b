"""The strata command end to end: `strata inspect` and `strata diff` checked field by field
against archives, OCI layouts, stream scripts and a real registry (read independently with
tarfile and HTTP), on a v1/v2 pair whose v2 changes a library, adds a dependency and drops
one; `strata sbom` and copyToRegistry's SBOM artifacts read back from the registry."""

import gzip
import hashlib
import io
import json
import os
import subprocess
import tarfile
import urllib.request

import pytest

from conftest import REPO, built, registry_server

pytestmark = pytest.mark.e2e

RELEASES = os.path.join(REPO, "tests", "nix", "releases.nix")


def strata(*arguments):
    return subprocess.run([os.path.join(built("cli", expression=RELEASES), "bin", "strata")] + list(arguments),
                          capture_output=True, text=True)


def as_json(*arguments):
    finished = strata(*arguments, "--json")
    assert finished.returncode == 0, finished.stderr
    return json.loads(finished.stdout)


def release(attr):
    return built(attr, expression=RELEASES)


def read_archive(archive):
    """What a user's own reading of the archive says: the config, and per layer (bottom
    first) its digest, diff_id, sizes, store paths and other files, with tarfile alone."""
    with tarfile.open(archive) as image:
        index = json.load(image.extractfile("index.json"))
        manifest = json.load(image.extractfile("blobs/sha256/" + index["manifests"][0]["digest"][7:]))
        config = json.load(image.extractfile("blobs/sha256/" + manifest["config"]["digest"][7:]))
        layers = []
        for descriptor, diff_id in zip(manifest["layers"], config["rootfs"]["diff_ids"]):
            blob = image.extractfile("blobs/sha256/" + descriptor["digest"][7:]).read()
            layers.append(layer_facts(blob, descriptor, diff_id))
    return config, layers, index["manifests"][0]["digest"]


def layer_facts(blob, descriptor, diff_id):
    tar = gzip.decompress(blob) if blob[:2] == b"\x1f\x8b" else blob
    assert "sha256:" + hashlib.sha256(blob).hexdigest() == descriptor["digest"]
    assert "sha256:" + hashlib.sha256(tar).hexdigest() == diff_id
    paths, others = set(), 0
    for member in tarfile.open(fileobj=io.BytesIO(tar)):
        parts = member.name.lstrip("./").split("/")
        if parts[:2] == ["nix", "store"] and len(parts) > 2:
            paths.add("/nix/store/" + parts[2])
        elif not member.isdir():
            others += 1
    return {"digest": descriptor["digest"], "diffId": diff_id, "size": len(blob), "uncompressedSize": len(tar),
            "storePaths": sorted(paths), "otherFiles": others}


@pytest.fixture(scope="module")
def v1():
    return release("v1")


@pytest.fixture(scope="module")
def v2():
    return release("v2")


def test_inspect_an_archive_says_each_layers_digests_sizes_store_paths_and_other_files(v1):
    config, layers, _ = read_archive(v1)
    inspected = as_json("inspect", v1)
    assert (inspected["name"], inspected["tag"]) == ("127.0.0.1:5000/releases/app", "1.0")
    assert inspected["config"] == config
    assert inspected["layers"] == layers
    assert sum(len(layer["storePaths"]) for layer in layers) == 6 and layers[-1]["otherFiles"] > 0
    table = strata("inspect", v1)
    assert table.returncode == 0 and all(layer["digest"][:19] in table.stdout for layer in layers)
    assert table.stdout.splitlines()[-1].split()[:3] == ["total", str(len(layers)), "layers"]
    assert all(path in table.stdout for layer in layers for path in layer["storePaths"])


def test_inspect_reads_the_same_image_from_a_layout_and_a_stream_script(v1):
    config, layers, _ = read_archive(v1)
    layout = release("v1Oci")
    for reference in (layout, "oci:" + layout, "oci:%s:1.0" % layout):
        inspected = as_json("inspect", reference)
        assert inspected["config"] == config and inspected["layers"] == layers
    missing = strata("inspect", "oci:%s:2.0" % layout)
    assert missing.returncode == 1 and "no image tagged 2.0" in missing.stderr
    streamed = as_json("inspect", release("v1Stream"))
    stream_config = json.loads(subprocess.run([release("v1Stream"), "--strata-document"], capture_output=True,
                                              check=True).stdout)["config"]
    assert streamed["config"] == json.loads(stream_config)
    assert [layer["storePaths"] for layer in streamed["layers"]] == [layer["storePaths"] for layer in layers]
    for layer in streamed["layers"]:  # a stream's layers are uncompressed
        assert layer["size"] == layer["uncompressedSize"] and layer["digest"] == layer["diffId"]


def test_diff_of_two_releases_names_what_changed_and_what_a_push_uploads(v1, v2):
    result = as_json("diff", v1, v2)
    name = lambda path: path.split("-", 1)[1]
    assert [name(path) for path in result["added"]] == ["dep-new-2.0"]
    assert [name(path) for path in result["removed"]] == ["dep-old-0.9"]
    assert sorted((change["name"], name(change["old"]), name(change["new"])) for change in result["changed"]) == [
        ("app", "app-1.0", "app-2.0"), ("libfoo", "libfoo-1.0", "libfoo-1.1")]
    _, old, _ = read_archive(v1)
    _, new, _ = read_archive(v2)
    old_digests = {layer["digest"] for layer in old}
    shared = [layer for layer in new if layer["digest"] in old_digests]
    assert result["layers"] == {"shared": len(shared), "new": len(new) - len(shared)}
    assert {name(path) for layer in shared for path in layer["storePaths"]} == {"busybox", "dep-kept-3.1.4", "data.txt"}
    with tarfile.open(v2) as image:
        index = json.load(image.extractfile("index.json"))
        manifest = json.load(image.extractfile("blobs/sha256/" + index["manifests"][0]["digest"][7:]))
        config_size = manifest["config"]["size"]
    assert result["uploadBytes"] == sum(layer["size"] for layer in new if layer["digest"] not in old_digests) \
        + config_size
    table = strata("diff", v1, v2)
    assert "~ libfoo:" in table.stdout and "+ " in table.stdout and "- " in table.stdout
    assert as_json("diff", v1, v1)["uploadBytes"] == 0


def test_inspect_and_diff_read_a_registry_as_they_read_the_archive_and_the_sbom_comes_back(tmp_path, v1, v2):
    with registry_server(tmp_path / "registry") as (address, log, _):
        for attr, tag in (("v1", "1.0"), ("v2", "2.0"), ("v1Stream", "1.0-stream")):
            push = release(attr + ".copyToRegistry")
            pushed = subprocess.run([os.path.join(push, "bin", "copy-to-registry"),
                                     "docker://%s/releases/app:%s" % (address, tag), "--dest-tls-verify=false"],
                                    capture_output=True, text=True)
            assert pushed.returncode == 0, pushed.stderr
        remote = "docker://%s/releases/app:1.0" % address
        config, layers, manifest_digest = read_archive(v1)
        inspected = as_json("inspect", remote, "--tls-verify=false")
        assert inspected["config"] == config and inspected["layers"] == layers
        assert inspected["manifestDigest"] == manifest_digest
        assert as_json("diff", remote, "docker://%s/releases/app:2.0" % address, "--tls-verify=false") == \
            as_json("diff", v1, v2)
        sbom = release("v1.sbom")
        for kind, name in (("spdx", "spdx.json"), ("cyclonedx", "cyclonedx.json")):
            fetched = strata("sbom", remote, "--tls-verify=false", "--format", kind)
            assert fetched.returncode == 0, fetched.stderr
            assert fetched.stdout == open(os.path.join(sbom, name)).read(), "byte for byte"
        streamed = strata("sbom", "docker://%s/releases/app:1.0-stream" % address, "--tls-verify=false")
        assert streamed.stdout == open(os.path.join(release("v1Stream.sbom"), "spdx.json")).read(), \
            "a stream's SBOM names the manifest its push sends"
        # As the distribution spec's referrers tag schema has it, read with plain HTTP.
        base = "http://%s/v2/releases/app/manifests/" % address
        accept = {"Accept": "application/vnd.oci.image.index.v1+json"}
        listing = json.load(urllib.request.urlopen(urllib.request.Request(
            base + "sha256-" + manifest_digest[7:], headers=accept)))
        assert sorted(entry["artifactType"] for entry in listing["manifests"]) == [
            "application/spdx+json", "application/vnd.cyclonedx+json"]
        for entry in listing["manifests"]:
            artifact = json.load(urllib.request.urlopen(urllib.request.Request(base + entry["digest"], headers={
                "Accept": "application/vnd.oci.image.manifest.v1+json"})))
            assert artifact["subject"]["digest"] == manifest_digest
            assert artifact["artifactType"] == entry["artifactType"] == artifact["layers"][0]["mediaType"]


def test_no_sbom_leaves_the_repository_with_the_images_tag_alone(tmp_path):
    with registry_server(tmp_path / "registry") as (address, _, _):
        push = release("v1.copyToRegistry")
        pushed = subprocess.run([os.path.join(push, "bin", "copy-to-registry"), "docker://%s/plain/app:1.0" % address,
                                 "--dest-tls-verify=false", "--no-sbom"], capture_output=True, text=True)
        assert pushed.returncode == 0, pushed.stderr
        tags = json.load(urllib.request.urlopen("http://%s/v2/plain/app/tags/list" % address))["tags"]
        assert tags == ["1.0"]
        missing = strata("sbom", "docker://%s/plain/app:1.0" % address, "--tls-verify=false")
        assert missing.returncode == 1 and "has no application/spdx+json SBOM attached" in missing.stderr


@pytest.mark.parametrize("arguments, message, status", [
    (["inspect", "/nonexistent/image.tar"], "/nonexistent/image.tar: No such file or directory", 1),
    (["inspect", "/etc/hostname"], "not an image", 1),
    (["inspect"], "inspect takes an image", 2),
    (["diff", "/etc/hostname"], "diff takes two images", 2),
    (["inspect", "docker://127.0.0.1:1/nothing/here:1", "--tls-verify=false"], "connection failed", 1),
    (["inspect", "docker://user:secret-pass@127.0.0.1:1/x:1"], "credentials in it", 1),
    (["sbom", "/etc/hostname"], "reads an image's SBOM from its registry", 1),
    (["frobnicate"], "unknown command", 2),
])
def test_bad_input_is_one_line_and_a_non_zero_exit(arguments, message, status):
    finished = strata(*arguments)
    assert finished.returncode == status and finished.stdout == ""
    assert message in finished.stderr and "Traceback" not in finished.stderr
    assert "secret-pass" not in finished.stderr
    if status == 1:
        assert len(finished.stderr.splitlines()) == 1, finished.stderr


def test_a_registry_with_credentials_and_tls_is_read_as_copy_to_registry_finds_them(tmp_path, v1):
    import base64
    with registry_server(tmp_path / "registry", secured=True) as (address, _, _):
        push = release("v1.copyToRegistry")
        pushed = subprocess.run([os.path.join(push, "bin", "copy-to-registry"), "docker://%s/secure/app:1.0" % address,
                                 "--dest-tls-verify=false", "--creds", "ship:s3cret-word"], capture_output=True, text=True)
        assert pushed.returncode == 0, pushed.stderr
        remote = "docker://%s/secure/app:1.0" % address
        unverified = strata("inspect", remote, "--creds", "ship:s3cret-word")
        assert unverified.returncode == 1 and "TLS failed" in unverified.stderr
        refused = strata("inspect", remote, "--tls-verify=false", "--creds", "ship:wrong-word")
        assert refused.returncode == 1 and "refused" in refused.stderr and "wrong-word" not in refused.stderr
        _, layers, _ = read_archive(v1)
        assert as_json("inspect", remote, "--tls-verify=false", "--creds", "ship:s3cret-word")["layers"] == layers
        auth_file = tmp_path / "auth.json"
        auth_file.write_text(json.dumps({"auths": {address: {"auth": base64.b64encode(b"ship:s3cret-word").decode()}}}))
        fetched = subprocess.run([os.path.join(built("cli", expression=RELEASES), "bin", "strata"), "sbom", remote,
                                  "--tls-verify=false"], capture_output=True, text=True,
                                 env=dict(os.environ, REGISTRY_AUTH_FILE=str(auth_file)))
        assert fetched.returncode == 0 and json.loads(fetched.stdout)["spdxVersion"] == "SPDX-2.3", fetched.stderr
        assert "s3cret" not in fetched.stderr + refused.stderr + unverified.stderr


def test_inspect_a_multi_platform_layout_reads_this_machines_manifest():
    layout = built("multiArch", expression=os.path.join(REPO, "tests", "nix", "dockertools.nix"))
    inspected = as_json("inspect", layout)
    assert (inspected["config"]["os"], inspected["config"]["architecture"]) == ("linux", "amd64")
    with open(os.path.join(layout, "index.json")) as stream:
        outer = json.load(stream)["manifests"][0]["digest"]
    with open(os.path.join(layout, "blobs", "sha256", outer[7:])) as stream:
        platforms = {entry["platform"]["architecture"]: entry["digest"] for entry in json.load(stream)["manifests"]}
    assert inspected["manifestDigest"] == platforms["amd64"]
