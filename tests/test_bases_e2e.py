"""Base images and image operations end to end: fromImage, pullImage from a registry in
the sandbox, exportImage against umoci, mergeImages, with podman running the results."""

import json
import os
import re
import subprocess
import sys
import tarfile

import pytest

from conftest import REPO, built, nix_build, run

pytestmark = pytest.mark.e2e

BASES = os.path.join(REPO, "tests", "nix", "bases.nix")


def base(attr):
    return built(attr, expression=BASES)


def podman_run(reference, *command):
    return run("podman", "run", "--rm", "--network", "none", reference, *command)


def layer_names(image):
    with tarfile.open(image) as archive:
        manifest = json.load(archive.extractfile("manifest.json"))[0]
        return [tarfile.open(fileobj=archive.extractfile(name)).getnames() for name in manifest["Layers"]]


def test_a_gzipped_base_config_inheritance_and_no_repeated_files():
    image = base("onBase")
    run("podman", "load", "-q", "-i", image)
    assert podman_run("localhost/on-base:v2") == "hello on 1 3 4\n"
    env = podman_run("localhost/on-base:v2", "/bin/sh", "-c", "env").split()
    assert sorted(line for line in env if line[:2] in ("A=", "B=", "C=")) == ["A=1", "B=3", "C=4"]
    assert podman_run("localhost/on-base:v2", "/bin/cat", "/etc/motd") == "base\n"
    layers = layer_names(image)
    assert len(layers) == 2 and layers[1] == ["bin/hello"], "tools and busybox are in the base already"
    with tarfile.open(image) as archive:
        config = json.load(archive.extractfile(json.load(archive.extractfile("manifest.json"))[0]["Config"]))
    assert len(config["history"]) == 2 and config["config"]["WorkingDir"] == "/"
    assert config["config"]["Env"] == ["A=1", "B=3", "C=4"] and config["config"]["Cmd"] == ["/bin/hello"]


def test_a_base_whose_bin_links_to_usr_bin(tmp_path):
    image = base("onUsrBase")
    assert layer_names(image)[1] == ["usr/bin/app"]
    run("podman", "load", "-q", "-i", image)
    assert podman_run("localhost/on-usr-base:v1") == "app through the link\n"
    assert podman_run("localhost/on-usr-base:v1", "/bin/sh", "-c", "ls /bin/sh /bin/app") == "/bin/app\n/bin/sh\n"
    layered = base("layeredOnUsrBase")
    assert len(layer_names(layered)) <= 4, "maxLayers = 4 counts the base's layer"
    assert any(name.endswith("-app") for names in layer_names(layered) for name in names), "no path lost"
    run("podman", "load", "-q", "-i", layered)
    assert podman_run("localhost/layered-on-usr-base:v1") == "app through the link\n"
    exported = tarfile.open(base("exportedUsr")).getmembers()
    names = {member.name: member for member in exported}
    assert names["./bin"].issym() and names["./bin"].linkname == "usr/bin" and "./usr/bin/app" in names
    assert "./bin/app" not in names


def test_export_matches_what_umoci_unpacks(tmp_path):
    image = base("onBase")
    run("skopeo", "--tmpdir", str(tmp_path), "copy", "docker-archive:%s" % image, "oci:%s:x" % (tmp_path / "oci"))
    run("umoci", "unpack", "--image", "%s:x" % (tmp_path / "oci"), str(tmp_path / "bundle"))
    exported = tmp_path / "exported"
    exported.mkdir()
    exported_tar = built("exported", expression=write_expression(tmp_path, "strata.exportImage { fromImage = %s; }" % (
        "(import %s {}).onBase" % BASES)))
    run("tar", "-xf", exported_tar, "-C", str(exported))
    assert tree(exported) == tree(tmp_path / "bundle" / "rootfs")


def test_whiteouts_and_opaque_directories_exported_as_umoci_unpacks_them(tmp_path):
    """A base made here: a file deleted and a directory made opaque in its second layer."""
    sys.path.insert(0, os.path.dirname(__file__))
    from test_baseimage import docker_archive, entry
    import tarfile as tar_types
    layers = [[entry("etc/", kind=tar_types.DIRTYPE, mode=0o755), entry("etc/keep", b"keep\n"),
               entry("etc/gone", b"gone\n"), entry("opt/", kind=tar_types.DIRTYPE, mode=0o755),
               entry("opt/old", b"old\n"), entry("opt/sub/", kind=tar_types.DIRTYPE, mode=0o755),
               entry("opt/sub/older", b"older\n")],
              [entry("etc/.wh.gone"), entry("opt/", kind=tar_types.DIRTYPE, mode=0o755), entry("opt/.wh..wh..opq"),
               entry("opt/new", b"new\n")]]
    archive = docker_archive(tmp_path / "whiteouts.tar", layers, tags=("whiteouts:v1",))
    run("skopeo", "--tmpdir", str(tmp_path), "copy", "docker-archive:%s" % archive, "oci:%s:x" % (tmp_path / "oci"))
    run("umoci", "unpack", "--image", "%s:x" % (tmp_path / "oci"), str(tmp_path / "bundle"))
    exported_tar = built("exported", expression=write_expression(
        tmp_path, "strata.exportImage { fromImage = %s; }" % archive))
    exported = tmp_path / "exported"
    exported.mkdir()
    run("tar", "-xf", exported_tar, "-C", str(exported))
    assert tree(exported) == tree(tmp_path / "bundle" / "rootfs")
    assert sorted(os.listdir(exported / "opt")) == ["new"] and sorted(os.listdir(exported / "etc")) == ["keep"]


def tree(root):
    """{path: (type, mode, content or link target)} of a directory tree."""
    listing = {}
    for directory, directories, files in os.walk(root):
        for name in directories + files:
            path = os.path.join(directory, name)
            info = os.lstat(path)
            relative = os.path.relpath(path, root)
            if os.path.islink(path):
                listing[relative] = ("link", os.readlink(path))
            elif os.path.isdir(path):
                listing[relative] = ("dir", oct(info.st_mode & 0o7777))
            else:
                listing[relative] = ("file", oct(info.st_mode & 0o7777), open(path, "rb").read())
    return listing


def write_expression(tmp_path, body, host_tools=False):
    path = tmp_path / "expression.nix"
    path.write_text('{ }: { exported = let strata = import %s { python3 = "/usr/bin/python3"; skopeo = "/usr/bin/skopeo"; };'
                    ' in %s; }' % (REPO, body))
    return str(path)


def test_merged_images_of_both_compressions_load_and_serve_as_a_base():
    merged = base("merged")
    loaded = run("podman", "load", "-i", merged)
    for reference in ["localhost/on-base:v2", "localhost/base-one:v1", "localhost/usr-base:v1"]:
        assert reference in loaded
    run("podman", "load", "-q", "-i", base("fromMerged"))
    assert podman_run("localhost/from-merged:v1") == "app through the link\n"


def test_merging_writes_an_image_given_twice_once_and_refuses_two_images_of_one_name():
    with tarfile.open(base("mergedTwice")) as archive:
        manifest = json.load(archive.extractfile("manifest.json"))
    assert sorted(tag for image in manifest for tag in image["RepoTags"]) == ["base-one:v1", "usr-base:v1"]
    failed = nix_build("mergedClash", expression=BASES)
    errors = [line for line in failed.stderr.splitlines() if line.startswith("strata: error:")]
    assert failed.returncode != 0 and len(errors) == 1, failed.stderr
    assert "images: image 1 (" in errors[0] and "image 2 (" in errors[0]
    assert "are both base-one:v1, but they are different images" in errors[0]


def test_an_oci_layout_as_a_base(tmp_path):
    on_layout = ('strata.buildImage { name = "on-layout"; tag = "v1"; fromImage = (import %s {}).oci;'
                 ' config.Cmd = [ "/bin/sh" "-c" "echo on the layout" ]; }' % os.path.join(REPO, "tests", "nix", "layered.nix"))
    image = built("exported", expression=write_expression(tmp_path, on_layout))
    assert len(layer_names(image)) == 9
    run("podman", "load", "-q", "-i", image)
    assert podman_run("localhost/on-layout:v1") == "on the layout\n"
    assert podman_run("localhost/on-layout:v1", "/bin/app").startswith("app 1\n")


def test_a_stream_over_a_base_over_a_base():
    script = base("streamOnBase")
    loaded = subprocess.run(["podman", "load", "-q"], stdin=subprocess.Popen([script], stdout=subprocess.PIPE).stdout,
                            capture_output=True, text=True)
    assert "stream-on-base:v1" in loaded.stdout, loaded.stderr
    assert podman_run("localhost/stream-on-base:v1") == "hello on 1 3 4\n"


def test_pull_image_by_digest_in_the_sandbox_then_build_on_it(registry, tmp_path):
    source = base("base")
    remote = "%s/strata/base-one" % registry
    run("skopeo", "--tmpdir", str(tmp_path), "copy", "--dest-tls-verify=false", "docker-archive:%s" % source,
        "docker://%s:v1" % remote)
    digest = json.loads(run("skopeo", "inspect", "--tls-verify=false", "docker://%s:v1" % remote))["Digest"]
    pulled = ('strata.pullImage { imageName = "%s"; imageDigest = "%s"; sha256 = "%%s"; tlsVerify = false;'
              ' finalImageName = "pulled-base"; finalImageTag = "v1"; }' % (remote, digest))
    expression = write_expression(tmp_path, pulled % ("0" * 52))
    first = nix_build("exported", expression=expression)
    assert first.returncode != 0
    got = re.search(r"got:\s+(sha256[:-]\S+)", first.stderr)
    assert got, first.stderr
    on_pulled = ('strata.buildImage { name = "on-pulled"; tag = "v1"; fromImage = %s; copyToRoot = (import %s {}).onBase.buildArgs.copyToRoot; '
                 'config.Cmd = [ "/bin/hello" ]; }' % (pulled % got.group(1), BASES))
    image = built("exported", expression=write_expression(tmp_path, on_pulled))
    run("podman", "load", "-q", "-i", image)
    assert podman_run("localhost/on-pulled:v1") == "hello on 1 2 \n"
    sri = run("nix", "--extra-experimental-features", "nix-command", "hash", "to-sri", got.group(1)).strip()
    by_sri = ('strata.pullImage { imageName = "%s"; imageDigest = "%s"; hash = "%s"; tlsVerify = false;'
              ' finalImageName = "pulled-base"; finalImageTag = "v1"; }' % (remote, digest, sri))
    assert built("exported", expression=write_expression(tmp_path, by_sri)) == built(
        "exported", expression=write_expression(tmp_path, pulled % got.group(1))), "an SRI hash names the same archive"


def test_check_rebuilds_bases_exports_merges_and_images_over_them_bit_for_bit():
    for attr in ["onBase.drvAttrs.base", "onBase", "onUsrBase", "layeredOnUsrBase", "streamOnBase", "exportedUsr",
                 "merged", "onDbBase"]:
        base(attr)
        check = nix_build(attr, "--check", expression=BASES)
        assert check.returncode == 0, "%s: %s" % (attr, check.stderr)


def test_a_base_of_several_platforms_is_refused_naming_them(tmp_path):
    body = ('strata.buildImage { name = "on-multi"; fromImage = (import %s { }).multiArch; }'
            % os.path.join(REPO, "tests", "nix", "dockertools.nix"))
    failed = nix_build("exported", expression=write_expression(tmp_path, body))
    assert failed.returncode != 0
    assert "an image of 2 platforms (linux/amd64, linux/arm64); a base image must be one" in failed.stderr
