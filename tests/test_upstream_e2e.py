"""nixpkgs' own dockerTools test (nixos/tests/docker-tools.nix), its scenarios that need no
VM, each checking what the upstream subtest checks, with podman in place of docker. The
images are in tests/nix/upstream.nix, under the upstream examples' names."""

import json
import os
import subprocess
import tarfile

import pytest

from conftest import REPO, built, nix_eval, podman_load, run

pytestmark = pytest.mark.e2e

UPSTREAM = os.path.join(REPO, "tests", "nix", "upstream.nix")


def build(attr):
    return built(attr, expression=UPSTREAM)


def load(attr):
    """Load the image (or the stream) of `attr` into podman; what podman said it loaded."""
    return podman_load(build(attr))


def podman(*arguments, check=True):
    finished = subprocess.run(["podman", "run", "--rm", "--network", "none"] + list(arguments),
                              capture_output=True, text=True)
    assert finished.returncode == 0 or not check, finished.stderr
    return finished


def inspect(reference, field):
    return json.loads(run("podman", "image", "inspect", reference))[0][field]


def attribute(attr, name):
    return json.loads(nix_eval("(import %s {}).%s.%s" % (UPSTREAM, attr, name)))


def test_include_store_paths():
    load("helloOnRoot")
    assert "Hello" in podman("localhost/hello:latest").stdout
    load("helloOnRootNoStore")
    assert podman("localhost/hello:latest", check=False).returncode != 0, "without the store it cannot run"
    assert "Hello" in podman("--volume", "/nix/store:/nix/store:ro", "localhost/hello:latest").stdout


def test_a_stable_date_by_default_and_an_unstable_one_on_request():
    load("bash")
    assert inspect("localhost/bash:latest", "Created").startswith("1970-01-01T00:00:01")
    for attr, reference in [("unstableDate", "localhost/unstable-date:latest"),
                            ("unstableDateLayered", "localhost/unstable-date-layered:latest")]:
        load(attr)
        assert not inspect(reference, "Created").startswith("1970-01-01T00:00:01")


@pytest.mark.parametrize("attr", ["bashNoTag", "bashNoTagLayered", "bashNoTagStreamLayered", "nixLayered"])
def test_the_image_tag_attribute_is_the_loaded_tag(attr):
    loaded = load(attr)
    assert "%s:%s" % (attribute(attr, "imageName"), attribute(attr, "imageTag")) in loaded


def test_the_store_symlinks_are_intact_when_the_image_is_layered():
    load("nixLayered")
    nix = build("nix")
    assert podman("localhost/nix-layered:latest", "/bin/sh", "-c", "readlink %s/bin/nix-daemon" % nix).stdout \
        == "nix\n"


def test_layered_images_and_images_on_top_of_them_work():
    load("layered-image")
    assert podman("localhost/layered-image:latest").stdout == "Hello, world!\n"
    assert podman("localhost/layered-image:latest", "/bin/cat", "extraCommands").stdout == "layered-image\n"
    load("layered-on-top")
    assert podman("localhost/layered-on-top:latest").stdout == "Hello, world!\n"
    load("layered-on-top-layered")
    assert podman("localhost/layered-on-top-layered:latest", "/bin/cat", "/tmp/on-top-layered").stdout \
        == "on-top-layered\n"


def test_layers_are_shared_between_images():
    load("layered-image")
    load("another-layered-image")
    layers = [set(inspect(reference, "RootFS")["Layers"])
              for reference in ["localhost/layered-image:latest", "localhost/another-layered-image:latest"]]
    assert layers[0] & layers[1]


def test_the_order_of_layers_is_correct():
    load("layersOrder")
    for index in (1, 2, 3):
        assert podman("localhost/l3:latest", "/bin/cat", "/tmp/layer%d" % index).stdout == "layer%d\n" % index


@pytest.mark.parametrize("attr, reference", [("environmentVariables", "localhost/child:latest"),
                                             ("environmentVariablesLayered", "localhost/child-layered:latest")])
def test_environment_variables_are_inherited_and_resolved(attr, reference):
    load(attr)
    env = podman(reference, "/bin/env").stdout.splitlines()
    assert "FROM_PARENT=true" in env and "FROM_CHILD=true" in env and "LAST_LAYER=child" in env
    with tarfile.open(build(attr)) as archive:
        config = json.load(archive.extractfile(json.load(archive.extractfile("manifest.json"))[0]["Config"]))
    assert sum(entry.startswith("LAST_LAYER") for entry in config["config"]["Env"]) == 1


def test_two_layers_and_the_bulk_layer_miss_no_store_path():
    load("two-layered-image")
    assert len(inspect("localhost/two-layered-image:latest", "RootFS")["Layers"]) == 2
    load("bulk-layer")
    assert podman("localhost/bulk-layer:latest", "/bin/ls", "/bin/hello", "/bin/redis-cli").returncode == 0
    load("layered-bulk-layer")
    assert podman("localhost/layered-bulk-layer:latest", "/bin/ls", "/bin/hello").returncode == 0
    assert len(set(inspect("localhost/layered-bulk-layer:latest", "RootFS")["Layers"])) == 4


def test_an_image_that_needs_no_store_has_none():
    load("no-store-paths")
    assert podman("localhost/no-store-paths:latest", "/bin/ls", "/").returncode == 0
    assert podman("localhost/no-store-paths:latest", "/bin/ls", "/nix/store", check=False).returncode != 0


def test_store_path_contents_are_not_changed():
    load("filesInStore")
    assert podman("localhost/file-in-store:latest").stdout == "some data"


def test_a_cross_architecture_image_loads_with_its_architecture():
    load("cross")
    assert inspect("localhost/hello-cross:latest", "Architecture") == "arm64"


def test_a_store_path_that_is_a_symlink_is_not_dereferenced():
    load("layeredStoreSymlink")
    assert podman("localhost/layered-store-symlink:latest").returncode == 0


@pytest.mark.parametrize("attr", ["prefixedImage", "prefixedLayeredImage"])
def test_a_registry_prefix_in_the_name(attr):
    assert "quay.io/nixpkgs/hello" in load(attr)


def test_chown_in_fake_root_commands_persists_and_merging_keeps_it():
    load("layeredImageWithFakeRootCommands")
    reference = "localhost/layered-image-with-fake-root-commands:latest"
    assert podman(reference, "/bin/stat", "-c", "%u", "/home/jane").stdout == "1000\n"
    run("podman", "rmi", reference)
    loaded = load("mergedBashFakeRoot")
    assert reference in loaded and "localhost/bash:latest" in loaded
    assert podman(reference, "/bin/stat", "-c", "%u", "/home/jane").stdout == "1000\n"


@pytest.mark.parametrize("attr, bash", [("mergedBashAndRedis", "localhost/bash:latest"),
                                        ("mergedBashNoTagAndRedis", None)])
def test_merged_images_all_load(attr, bash):
    loaded = load(attr)
    if bash is None:
        bash = "localhost/bash-no-tag:%s" % attribute("bashNoTag", "imageTag")
    assert bash in loaded and "localhost/redis:latest" in loaded
    assert podman(bash, "/bin/sh", "-c", "echo bash").stdout == "bash\n"
    assert podman("localhost/redis:latest", "/bin/redis-cli", "--version").stdout.startswith("redis-cli")


def test_export_image_produces_a_valid_tarball():
    assert "./bin/sh" in run("tar", "-tf", build("exportBash")).split()
