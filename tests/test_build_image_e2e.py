"""buildImage end to end: real nix-build in the sandbox, --check, podman, a registry, umoci."""

import hashlib
import io
import json
import os
import subprocess
import tarfile

import pytest

from conftest import IMAGES, NIX_BUILD, REPO, built, nix_build, nix_eval, run

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def hello():
    return built("hello")


@pytest.fixture(scope="module")
def custom():
    return built("custom")


def image_tag(attr):
    return json.loads(nix_eval("(import %s {}).%s.imageTag" % (IMAGES, attr)))


def manifest_and_config(image):
    with tarfile.open(image) as archive:
        manifest = json.load(archive.extractfile("manifest.json"))[0]
        config = json.load(archive.extractfile(manifest["Config"]))
    return manifest, config


def unpack(image, tmp_path, tag):
    """The image's root file system as umoci unpacks it from an OCI layout skopeo made."""
    layout = tmp_path / "oci"
    run("skopeo", "--tmpdir", str(tmp_path), "copy", "docker-archive:%s" % image, "oci:%s:%s" % (layout, tag))
    bundle = tmp_path / "bundle"
    run("umoci", "unpack", "--image", "%s:%s" % (layout, tag), str(bundle))
    return bundle / "rootfs"


def test_rebuild_with_check_is_bit_identical(hello):
    check = nix_build("hello", "--check")
    assert check.returncode == 0, check.stderr


def test_the_builders_bytecode_is_bit_identical_when_built_again(hello):
    """Every builder start loads the package compiled once in the store; that compilation
    is a derivation like any other and must be reproducible too."""
    derivation = run("nix-store", "--query", "--deriver", hello).strip()
    compiled = [path for path in run("nix-store", "--query", "--requisites", derivation).split()
                if path.endswith("-strata-builder-compiled.drv")]
    assert len(compiled) == 1
    check = subprocess.run(["bash"] + NIX_BUILD + [compiled[0], "--check", "--no-out-link"],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stderr


def test_podman_loads_and_runs_it(hello):
    loaded = run("podman", "load", "-q", "-i", hello)
    reference = "localhost/strata-hello:%s" % image_tag("hello")
    assert reference in loaded
    output = run("podman", "run", "--rm", "--network", "none", reference)
    assert output == "hello from app\n0\n"
    env = run("podman", "run", "--rm", "--network", "none", "--entrypoint", "/bin/sh", reference, "-c", "echo $A; pwd")
    assert env == "1\n/\n"


def test_default_tag_is_the_output_hash_and_the_name_is_lowercased(hello):
    manifest, _ = manifest_and_config(hello)
    assert image_tag("hello") == os.path.basename(hello).split("-")[0]
    assert manifest["RepoTags"] == ["strata-hello:%s" % image_tag("hello")]
    assert json.loads(nix_eval("(import %s {}).hello.imageName" % IMAGES)) == "strata-hello"


def test_config_is_what_was_asked(hello):
    _, config = manifest_and_config(hello)
    assert config["architecture"] == "amd64" and config["os"] == "linux"
    assert config["created"] == "1970-01-01T00:00:01Z"
    assert config["config"] == {"Cmd": ["/bin/app"], "Env": ["A=1"], "WorkingDir": "/"}
    assert len(config["history"]) == len(config["rootfs"]["diff_ids"]) == 1


def test_registry_accepts_it(hello, registry, tmp_path):
    target = "docker://%s/strata/hello:e2e" % registry
    run("skopeo", "--tmpdir", str(tmp_path), "copy", "--dest-tls-verify=false", "docker-archive:%s" % hello, target)
    config = json.loads(run("skopeo", "inspect", "--config", "--tls-verify=false", target))
    _, local = manifest_and_config(hello)
    assert config["rootfs"]["diff_ids"] == local["rootfs"]["diff_ids"]
    assert config["config"]["Cmd"] == ["/bin/app"]


def test_unpacked_tree_has_the_modes_owners_times_and_links_asked_for(hello, tmp_path):
    rootfs = unpack(hello, tmp_path, "hello")
    app = os.lstat(rootfs / "bin" / "app")
    assert oct(app.st_mode & 0o7777) == oct(0o555) and (app.st_uid, app.st_gid) == (0, 0)
    assert app.st_mtime == 1
    assert os.readlink(rootfs / "bin" / "sh") == "busybox"
    store = sorted(os.listdir(rootfs / "nix" / "store"))
    assert len(store) == 1 and store[0].endswith("-busybox"), "only what the copied files refer to"
    assert oct(os.stat(rootfs / "nix" / "store").st_mode & 0o7777) == oct(0o755)
    assert oct(os.stat(rootfs / "bin").st_mode & 0o7777) == oct(0o755)
    share = rootfs / "share"
    assert (share / "one").read_text() == (share / "two").read_text() == "same\n"


def test_identical_store_files_become_one_hard_link_in_the_layer(custom):
    manifest, _ = manifest_and_config(custom)
    with tarfile.open(custom) as archive:
        layer = tarfile.open(fileobj=archive.extractfile(manifest["Layers"][0]))
        members = {member.name: member for member in layer.getmembers()}
    links = [m for m in members.values() if m.islnk()]
    assert len(links) == 1 and links[0].name.endswith("/share/two")
    assert links[0].linkname.endswith("/share/one")
    assert any(len(name) > 100 and name.endswith("and-then-some-more-characters-beyond-one-hundred/file")
               for name in members)


def test_config_paths_owners_times_and_extra_commands(custom, tmp_path):
    manifest, config = manifest_and_config(custom)
    assert manifest["RepoTags"] == ["127.0.0.1:5000/team/custom:latest"]
    assert config["created"] == "2024-05-01T12:00:00Z"
    rootfs = unpack(custom, tmp_path, "custom")
    entrypoint = config["config"]["Entrypoint"][0]
    assert os.access(str(rootfs) + entrypoint, os.X_OK), "the config's store paths are in the image"
    tmp = os.lstat(rootfs / "tmp")
    assert oct(tmp.st_mode & 0o7777) == oct(0o1777)
    assert (tmp.st_uid, tmp.st_gid) == (1000, 100)
    assert tmp.st_mtime == 981173106
    assert os.readlink(rootfs / "run") == "/nix/var/run"


def test_a_closure_without_store_paths_adds_no_nix(tmp_path):
    image = built("etcOnly")
    manifest, config = manifest_and_config(image)
    with tarfile.open(image) as archive:
        layer = archive.extractfile(manifest["Layers"][0]).read()
    assert config["rootfs"]["diff_ids"] == ["sha256:" + hashlib.sha256(layer).hexdigest()]
    names = tarfile.open(fileobj=io.BytesIO(layer)).getnames()
    assert names == ["etc", "etc/passwd"]
    assert manifest["RepoTags"] == ["etc-only:v1"]


@pytest.mark.parametrize("attr, message", [
    ("badName", "name: 'bad name!' is not a valid image name"),
    ("badConfig", "config.WorkingDir: 'app' is not an absolute path, which every runtime refuses"),
    ("fifo", "extraCommands: /pipe: is a fifo; an image holds only regular files, directories and symlinks"),
])
def test_bad_input_is_one_clear_error(attr, message):
    failed = nix_build(attr)
    assert failed.returncode != 0
    errors = [line for line in failed.stderr.splitlines() if line.startswith("strata: error:")]
    assert len(errors) == 1 and message in errors[0], failed.stderr
    assert "Traceback" not in failed.stderr


def test_contents_and_copy_to_root_together_are_refused_at_evaluation():
    evaluated = subprocess.run(
        ["nix-instantiate", "--eval", "-E", '((import %s { python3 = "/usr/bin/python3"; }).buildImage'
         ' { name = "x"; contents = []; copyToRoot = []; }).drvPath' % REPO], capture_output=True, text=True)
    assert evaluated.returncode != 0 and "pass only `copyToRoot`" in evaluated.stderr


@pytest.mark.parametrize("system, architecture, variant", [
    ("x86_64-linux", "amd64", None), ("aarch64-linux", "arm64", "v8"), ("armv7l-linux", "arm", "v7"),
    ("i686-linux", "386", None), ("powerpc64le-linux", "ppc64le", None), ("s390x-linux", "s390x", None),
    ("riscv64-linux", "riscv64", None),
])
def test_architecture_and_variant_follow_the_system(system, architecture, variant):
    attrs = json.loads(nix_eval(
        'let image = (import %s { python3 = "/usr/bin/python3"; system = "%s"; }).buildImage { name = "x"; };'
        ' in { inherit (image.drvAttrs) architecture variant; }' % (REPO, system)))
    assert attrs == {"architecture": architecture, "variant": variant}


def test_contents_still_works_with_a_warning():
    evaluated = subprocess.run(
        ["nix-instantiate", "--eval", "-E",
         '((import %s { python3 = "/usr/bin/python3"; }).buildImage { name = "x"; contents = []; }).drvPath' % REPO],
        capture_output=True, text=True)
    assert evaluated.returncode == 0 and "`contents` is deprecated, use `copyToRoot`" in evaluated.stderr
