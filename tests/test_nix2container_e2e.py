"""strata.nix2container end to end: nix2container's own examples (tests/nix/nix2container.nix)
built in the sandbox, loaded into podman under name:tag by copyToPodman and run, printing
what nix2container's tests expect; their layers read back; pullImageFromManifest against a
real registry on 127.0.0.1; and the errors nix2container users make."""

import json
import os
import re
import sqlite3
import subprocess
import tarfile

import pytest

from conftest import REPO, built, nix_build, registry_server, run

pytestmark = pytest.mark.e2e

EXAMPLES = os.path.join(REPO, "tests", "nix", "nix2container.nix")


def image(attr, *extra):
    return built(attr, *extra, expression=EXAMPLES)


def attribute(attr, name, *extra):
    finished = subprocess.run(["nix-instantiate", "--eval", "--json", EXAMPLES, "-A", "%s.%s" % (attr, name)]
                              + list(extra), capture_output=True, text=True)
    assert finished.returncode == 0, finished.stderr
    return json.loads(finished.stdout)


def load_and_run(attr, *command, extra=()):
    """copyToPodman, then podman run NAME:TAG as nix2container's tests do; the output."""
    loader = image(attr + ".copyToPodman", *extra)
    loaded = subprocess.run([os.path.join(loader, "bin", "copy-to-podman")], capture_output=True, text=True)
    assert loaded.returncode == 0, loaded.stderr
    reference = "%s:%s" % (attribute(attr, "imageName", *extra), attribute(attr, "imageTag", *extra))
    assert attribute(attr, "imageRefUnsafe", *extra) == reference
    return run("podman", "run", "--rm", "--network", "none", reference, *command)


def push_base(address):
    """The examples' base image, pushed to the registry at `address` as bases/busybox:1."""
    push = image("baseImage.copyToRegistry")
    pushed = subprocess.run([os.path.join(push, "bin", "copy-to-registry"), "docker://%s/bases/busybox:1" % address,
                             "--dest-tls-verify=false", "--no-sbom"], capture_output=True, text=True)
    assert pushed.returncode == 0, pushed.stderr


def layers(attr):
    """The store paths' names of each layer of the built image, bottom first, and its config."""
    with tarfile.open(image(attr)) as archive:
        manifest = json.load(archive.extractfile("manifest.json"))[0]
        config = json.load(archive.extractfile(manifest["Config"]))
        found = []
        for name in manifest["Layers"]:
            with tarfile.open(fileobj=archive.extractfile(name)) as layer:
                members = layer.getmembers()
            found.append(({member.name.split("/")[2].split("-", 1)[1] for member in members
                           if member.name.startswith("nix/store/") and member.name.count("/") >= 2},
                          {member.name: member for member in members}))
    return found, config


@pytest.mark.parametrize("attr, command, expected", [
    ("hello'", [], "dying"),
    ("basic", [], "Hello, world"),
    ("bash'", ["bash", "-c", "echo $0 works"], "works"),
    ("bash'", ["ls", "/"], "bin"),
    ("layered", [], "Hello, world"),
    ("nested", [], "Hello, world"),
    ("nonReproducible", [], "A non reproducible image built the"),
    ("metadata", [], "Hello, world"),
    ("created", [], "Hello, world"),
])
def test_the_examples_load_through_copy_to_podman_and_run(attr, command, expected):
    assert expected in load_and_run(attr, *command)


def test_ownership_and_a_regex_naming_one_file():
    listing = load_and_run("ownership").splitlines()
    assert any(line.startswith("-r--r--r--") and " 1001 " in line and line.endswith("test1.txt") for line in listing)
    assert any(" 0 " in line and line.endswith("test2.txt") for line in listing), listing
    listing = load_and_run("nonRegressionIssue45").splitlines()
    assert any(line.startswith("-r--r--r--") and line.endswith("test2.txt") for line in listing), listing
    assert any(line.startswith("-rwxrwxrwx") and line.endswith("test1.txt") for line in listing), listing


def test_copy_to_root_packages_run_from_root():
    assert "Hello, world" in load_and_run("copyToRoot")


def test_openbar_and_perms_set_modes_through_perms():
    for attr in ("openbar", "openbarFromFile"):
        assert any(line.startswith("drwxrwxrwx") and line.endswith(" tmp") for line in load_and_run(attr).splitlines())
    listing = load_and_run("perms").splitlines()
    assert sum(1 for line in listing if line.startswith("-rwxrwxrwx")) == 2, listing


def test_build_layer_layers_hold_their_store_paths_and_the_image_its_own():
    found, _ = layers("hello'")
    assert [paths for paths, _ in found] == [{"busybox", "hello-2.12"}, {"conversation"}]
    found, _ = layers("nested")  # nested layers first, each once; nothing repeated
    assert [paths for paths, _ in found] == [{"readline-8.1"}, {"bash-interactive-5.2", "busybox"}, {"hello-2.12"}]
    found, _ = layers("basic")  # maxLayers = 1: one layer
    assert [paths for paths, _ in found] == [{"busybox", "hello-2.12"}]
    found, _ = layers("layered")  # maxLayers = 3: no empty top layer
    assert sorted(map(sorted, (paths for paths, _ in found))) == [["busybox"], ["hello-2.12"]]


def test_build_layer_max_layers_splits_its_store_paths_into_layers_below_the_images():
    found, _ = layers("splitLayer")
    assert len(found) == 3 and sorted(name for paths, _ in found for name in paths) == [
        "bash-interactive-5.2", "busybox", "hello-2.12", "readline-8.1"]
    found, _ = layers("splitLayerWithRoot")
    assert [len(paths) for paths, _ in found] == [4, 0]
    assert found[1][1]["tmp"].mode == 0o1777
    assert "Hello, world" in load_and_run("splitLayer")


def test_build_layer_layers_file_is_the_split_exactly():
    found, _ = layers("layersFile")
    assert [paths for paths, _ in found] == [{"readline-8.1"}, {"busybox", "bash-interactive-5.2"}, {"hello-2.12"}]
    assert "Hello, world" in load_and_run("layersFile")


def test_copy_to_root_with_max_layers_puts_its_files_on_top_of_the_store_layers():
    found, _ = layers("layeredRoot")
    assert len(found) == 3
    assert sorted(name for paths, _ in found[:2] for name in paths) == [
        "bash-interactive-5.2", "busybox", "hello-2.12", "readline-8.1"]
    top_paths, top = found[2]
    assert top_paths == set() and top["bin/hello"].issym() and "root" not in str(top)
    assert "Hello, world" in load_and_run("layeredRoot")


def test_copy_to_root_files_are_at_root_and_not_in_the_store():
    found, _ = layers("bash'")
    assert len(found) == 1
    paths, members = found[0]
    assert "root" not in paths and "bin/bash" in members and members["bin/bash"].issym()


def test_ignore_metadata_and_created():
    found, config = layers("created")
    assert [paths for paths, _ in found] == [{"busybox"}, {"hello-2.12"}], "ignore leaves hello to the image"
    assert config["created"] == "2024-01-01T00:00:00Z"
    _, config = layers("metadata")
    assert config["history"] == [{"created": "0001-01-01T00:00:00Z", "created_by": "test created_by",
                                  "author": "test author", "comment": "test comment"}]
    assert config["created"] == "0001-01-01T00:00:00Z" and config["config"]["Entrypoint"][0].endswith("/bin/hello")


def test_nix_uid_and_gid_own_the_store_and_the_database():
    """nix2container's nix-user test: /nix/store belongs to the user, as do /nix/var and the home."""
    listing = load_and_run("nixUser").splitlines()
    for name in ("store", "var", "user"):
        assert any(line.startswith("drwx") and " user " in line and line.endswith(" " + name) for line in listing), \
            (name, listing)
    assert any(line.endswith(" .") and " 0 " in line for line in listing), "the root's own entries stay root's"


def test_initialize_nix_database_registers_the_nested_layers_paths():
    found, _ = layers("nix")
    database = [members for _, members in found if "nix/var/nix/db/db.sqlite" in members]
    assert len(database) == 1
    with tarfile.open(image("nix")) as archive:
        manifest = json.load(archive.extractfile("manifest.json"))[0]
        for name in manifest["Layers"]:
            with tarfile.open(fileobj=archive.extractfile(name)) as layer:
                if "nix/var/nix/db/db.sqlite" in layer.getnames():
                    data = layer.extractfile("nix/var/nix/db/db.sqlite").read()
    path = os.path.join(os.environ.get("TMPDIR", "/tmp"), "strata-n2c-db.sqlite")
    with open(path, "wb") as stream:
        stream.write(data)
    try:
        with sqlite3.connect(path) as db:
            valid = {row[0].split("-", 1)[1] for row in db.execute("select path from ValidPaths")}
    finally:
        os.unlink(path)
    assert {"hello-2.12", "busybox"} <= valid


def test_pull_image_from_manifest_fetches_each_blob_and_is_a_base(tmp_path):
    with registry_server(tmp_path / "registry") as (address, _, _):
        push_base(address)
        script = image("getManifest", "--argstr", "registryUrl", address)
        manifest = subprocess.run([os.path.join(script, "bin", "get-manifest")], capture_output=True)
        assert manifest.returncode == 0, manifest.stderr
        lock = tmp_path / "manifest.json"
        lock.write_bytes(manifest.stdout)
        assert json.loads(manifest.stdout)["layers"]
        extra = ("--argstr", "registryUrl", address, "--arg", "baseManifest", str(lock))
        base = image("base", *extra)
        assert sorted(os.listdir(os.path.join(base, "blobs", "sha256"))) and os.path.exists(os.path.join(base, "index.json"))
        assert "/etc/base-release" in load_and_run("fromImageManifest", extra=extra)


def test_pull_image_by_digest_is_a_base_once_its_sha256_is_strata_s(tmp_path):
    with registry_server(tmp_path / "registry") as (address, _, _):
        push_base(address)
        digest = json.loads(run("skopeo", "inspect", "--tls-verify=false", "docker://%s/bases/busybox:1" % address))["Digest"]
        extra = ["--argstr", "registryUrl", address, "--argstr", "baseDigest", digest]
        first = nix_build("fromImage", *extra, "--argstr", "baseSha256", "0" * 52, expression=EXAMPLES)
        got = re.search(r"got:\s+(sha256[:-]\S+)", first.stderr)
        assert first.returncode != 0 and got, first.stderr
        extra += ["--argstr", "baseSha256", got.group(1)]
        assert "/etc/base-release" in load_and_run("fromImage", extra=extra)


def test_copy_to_dir_gives_layers_whose_nix_directory_is_0755(tmp_path):
    """nix2container's nonRegressionIssue12: /nix is in the archive, with mode 755."""
    script = os.path.join(image("basic.copyTo"), "bin", "copy-to")
    copied = subprocess.run([script, "dir://%s" % (tmp_path / "image")], capture_output=True, text=True)
    assert copied.returncode == 0, copied.stderr
    manifest = json.loads((tmp_path / "image" / "manifest.json").read_text())
    modes = []
    for layer in manifest["layers"]:
        with tarfile.open(tmp_path / "image" / layer["digest"].split(":")[1]) as tar:
            modes += [member.mode for member in tar.getmembers() if member.name.strip("./") == "nix"]
    assert modes and all(mode == 0o755 for mode in modes)


@pytest.mark.parametrize("expression, message", [
    ("n.buildImage { name = \"x\"; layers = n.buildLayer { }; }",
     "strata.nix2container.buildImage: `layers` must be a list of buildLayer results"),
    ("n.buildImage { name = \"x\"; perms = [ { path = \"/tmp\"; mode = 777; } ]; }",
     "strata.nix2container.buildImage: `perms` rule 0: `mode` must be a string of octal digits"),
    ("n.buildImage { config = { }; }", "strata.nix2container.buildImage: `name` is required"),
    ("n.buildImage { name = \"x\"; layers = [ \"/nix/store/x\" ]; }",
     "strata.nix2container.buildImage: `layers` must be a list of buildLayer results, got \"/nix/store/x\""),
    ("n.buildLayer { maxLayers = 0; }", "strata.nix2container.buildLayer: `maxLayers` must be an integer of at least 1"),
    ("n.buildLayer { reproducible = \"no\"; }", "strata.nix2container.buildLayer: `reproducible` must be true or false"),
    ("n.buildLayer { deps = 3; }", "strata.nix2container.buildLayer: `deps` must be a derivation or a store path"),
    ("n.buildImage { name = \"x\"; config = [ ]; }", "strata.nix2container.buildImage: `config` must be an attribute set"),
])
def test_errors_name_the_function_and_the_argument(expression, message):
    code = ("let n = (import %s { python3 = \"/usr/bin/python3\"; }).nix2container; in (%s).drvPath"
            % (REPO, expression))
    finished = subprocess.run(["nix-instantiate", "--eval", "-E", code], capture_output=True, text=True)
    assert finished.returncode != 0 and message in finished.stderr, finished.stderr


def test_copy_to_docker_daemon_loads_into_the_engine_docker_host_names(docker_daemon):
    loader = image("basic.copyToDockerDaemon")
    loaded = subprocess.run([os.path.join(loader, "bin", "copy-to-docker-daemon")], capture_output=True, text=True,
                            env=dict(os.environ, **docker_daemon))
    assert loaded.returncode == 0, loaded.stderr
    ran = subprocess.run(["docker", "run", "--rm", "--network", "none", attribute("basic", "imageRefUnsafe")],
                         capture_output=True, text=True, env=dict(os.environ, **docker_daemon))
    assert "Hello, world" in ran.stdout, ran.stderr


def test_check_rebuilds_the_examples_bit_for_bit():
    for attr in ("basic", "nested", "metadata", "splitLayer", "nix"):
        image(attr)
        checked = nix_build(attr, "--check", expression=EXAMPLES)
        assert checked.returncode == 0, "%s: %s" % (attr, checked.stderr)


def test_the_images_have_their_sbom_with_copy_to_root_files_described():
    finished = nix_build("bash'.sbom", expression=EXAMPLES)
    assert finished.returncode == 0, finished.stderr
    with open(os.path.join(finished.stdout.strip(), "cyclonedx.json")) as stream:
        components = json.load(stream)["components"]
    kinds = {component["name"]: component["type"] for component in components}
    assert kinds == {"root": "file", "busybox": "library", "bash-interactive": "library", "readline": "library"}


def test_copy_to_registry_pushes_the_digest_built_and_nothing_twice(tmp_path):
    """What nix2container users met: digests that differ from the build's, every layer sent
    again. strata pushes the manifest built, and a second push uploads nothing."""
    with registry_server(tmp_path / "registry") as (address, _, _):
        script = os.path.join(image("nested.copyToRegistry"), "bin", "copy-to-registry")
        destination = "docker://%s/n2c/nested:1" % address
        first = subprocess.run([script, destination, "--dest-tls-verify=false"], capture_output=True, text=True)
        assert first.returncode == 0, first.stderr
        with tarfile.open(image("nested")) as archive:
            built_digest = json.load(archive.extractfile("index.json"))["manifests"][0]["digest"]
        inspected = json.loads(run("skopeo", "inspect", "--tls-verify=false", destination))
        assert inspected["Digest"] == built_digest
        again = subprocess.run([script, destination, "--dest-tls-verify=false"], capture_output=True, text=True)
        assert again.returncode == 0 and "0 bytes uploaded" in again.stderr, again.stderr
