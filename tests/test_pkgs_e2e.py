"""strata called with `pkgs`, as nearly every user calls it (`import strata { inherit pkgs; }`
and the flake's overlay), over a nixpkgs-shaped set of host-made packages
(tests/nix/stand-in-nixpkgs.nix): every default taken from `pkgs` is built and run, so a
renamed attribute or a wrong path inside a package fails here."""

import io
import json
import os
import subprocess
import tarfile

import pytest

from conftest import REPO, built, podman_load, run

pytestmark = pytest.mark.e2e

WITH_PKGS = os.path.join(REPO, "tests", "nix", "with-pkgs.nix")


def build(attr, *extra):
    return built(attr, *extra, expression=WITH_PKGS)


def podman_run(image):
    reference = podman_load(image).strip().split()[-1]
    return run("podman", "run", "--rm", "--network", "none", reference)


def top_layer(image):
    with tarfile.open(image) as archive:
        manifest = json.load(archive.extractfile("manifest.json"))[0]
        return archive.extractfile(manifest["Layers"][-1]).read()


def test_build_image_with_the_helpers_from_pkgs():
    image = build("helpers")
    assert build("helpers", "--check") == image
    assert podman_run(image).splitlines() == ["made by extraCommands", "env ran", "/etc/ssl/certs/ca-bundle.crt"]


def test_layered_image_with_fakeroot_and_zstd_from_pkgs():
    image = build("layered")
    assert podman_run(image) == "hello from hello\n"
    top = top_layer(image)
    assert top[:4] == b"\x28\xb5\x2f\xfd", "zstd, by the zstd program of pkgs"
    plain = subprocess.run(["zstd", "-dc"], input=top, capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(plain)) as layer:
        home = layer.getmember("home/app")
    assert (home.uid, home.gid) == (1000, 1000), "chown recorded by the fakeroot of pkgs"


def test_shadow_setup_with_proot_from_pkgs():
    with tarfile.open(fileobj=io.BytesIO(top_layer(build("shadowed")))) as layer:
        group = layer.extractfile("etc/group").read().decode()
    assert any(line.startswith("app:") for line in group.splitlines()), group


def test_the_flake_overlay(tmp_path):
    assert podman_run(build("overlay")) == "through the overlay\n"
    copy_to = built("overlay.copyTo", expression=WITH_PKGS)
    script = os.path.join(copy_to, "bin", "copy-to")
    assert "-skopeo-host/bin/skopeo" in open(script).read(), "skopeo from pkgs"
    copied = subprocess.run([script, "oci:%s:v1" % (tmp_path / "layout")], capture_output=True, text=True)
    assert copied.returncode == 0, copied.stderr


def test_the_strata_command_and_nix2container_through_the_overlay():
    image = build("nix2container")
    assert podman_run(image) == "through nix2container\n"
    inspected = json.loads(run(os.path.join(build("cli"), "bin", "strata"), "inspect", "--json", image))
    assert inspected["name"] == "with-pkgs-nix2container" and len(inspected["layers"]) == 1
