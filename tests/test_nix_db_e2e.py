"""A working Nix inside the image: the host's nix-store checks the image's database."""

import os
import subprocess

import pytest

from conftest import REPO, built, run

pytestmark = pytest.mark.e2e

LAYERED = os.path.join(REPO, "tests", "nix", "layered.nix")
BASES = os.path.join(REPO, "tests", "nix", "bases.nix")


def rootfs_of(archive, tmp_path):
    run("skopeo", "--tmpdir", str(tmp_path), "copy", "docker-archive:%s" % archive, "oci:%s:x" % (tmp_path / "oci"))
    run("umoci", "unpack", "--image", "%s:x" % (tmp_path / "oci"), str(tmp_path / "bundle"))
    return str(tmp_path / "bundle" / "rootfs")


def nix_store(rootfs, *args):
    return subprocess.run(["nix-store", "--store", "local?root=%s" % rootfs] + list(args), capture_output=True, text=True)


def check_database(rootfs, expected_roots):
    in_store = set(os.listdir(os.path.join(rootfs, "nix/store")))
    verify = nix_store(rootfs, "--verify", "--check-contents")
    assert verify.returncode == 0 and "error" not in verify.stderr, verify.stderr
    gcroots = os.path.join(rootfs, "nix/var/nix/gcroots/docker")
    roots = sorted(os.listdir(gcroots))
    assert sorted(root.split("-", 1)[1] for root in roots) == expected_roots
    registered = set()
    for root in roots:
        closure = nix_store(rootfs, "-qR", os.readlink(os.path.join(gcroots, root)))
        assert closure.returncode == 0, closure.stderr
        host = subprocess.run(["nix-store", "-qR", os.readlink(os.path.join(gcroots, root))], capture_output=True,
                              text=True, check=True)
        assert closure.stdout == host.stdout
        registered.update(os.path.basename(path) for path in closure.stdout.split())
    assert registered == in_store
    return in_store


def test_build_image_database_verifies_and_catches_a_changed_file(tmp_path):
    rootfs = rootfs_of(built("withNixDB"), tmp_path)
    in_store = check_database(rootfs, ["busybox", "etc-files"])
    victim = os.path.join(rootfs, "nix/store", [name for name in in_store if name.endswith("etc-files")][0], "etc/passwd")
    os.chmod(victim, 0o644)
    with open(victim, "a") as changed:
        changed.write("intruder:x:0:0::/:/bin/sh\n")
    verify = nix_store(rootfs, "--verify", "--check-contents")
    assert "was modified" in verify.stderr, verify.stderr


def test_layered_database_registers_every_path_in_its_own_layer(tmp_path):
    archive = built("nixDB", expression=LAYERED)
    rootfs = rootfs_of(archive, tmp_path)
    check_database(rootfs, ["app", "busybox"])
    rebuilt = subprocess.run(["bash", os.path.join(REPO, "scripts", "nix-build"), LAYERED, "-A", "nixDB", "--check"],
                             capture_output=True, text=True)
    assert rebuilt.returncode == 0, rebuilt.stderr


def test_streamed_database_with_a_non_root_store_owner(tmp_path):
    script = built("streamNixDB", expression=LAYERED)
    archive = tmp_path / "image.tar"
    with open(archive, "wb") as out:
        subprocess.run([script], stdout=out, check=True)
    rootfs = rootfs_of(str(archive), tmp_path)
    for path in ["nix/store", "nix/var/nix/db/db.sqlite"]:  # before the host's Nix takes them
        info = os.lstat(os.path.join(rootfs, path))
        assert (info.st_uid, info.st_gid) == (1000, 100), path
    check_database(rootfs, ["app", "busybox"])


@pytest.mark.parametrize("attr, roots", [("onDbBase", ["busybox", "hello"]), ("layeredOnDbBase", ["app", "busybox"])])
def test_a_database_on_a_base_that_has_one_registers_both(tmp_path, attr, roots):
    rootfs = rootfs_of(built(attr, expression=BASES), tmp_path)
    in_store = check_database(rootfs, roots)
    assert sorted(name.split("-", 1)[1] for name in in_store) == sorted(set(roots) | {"busybox"})
