"""Nix shell images (tests/nix/nixshell.nix): the checks of nixpkgs'
nixos/tests/docker-tools-nix-shell.nix, with podman, on images built in the sandbox with no
fakeroot and no proot, and --check."""

import io
import json
import os
import subprocess
import tarfile

import pytest

from conftest import REPO, built, nix_build, podman_load, run

pytestmark = pytest.mark.e2e

NIXSHELL = os.path.join(REPO, "tests", "nix", "nixshell.nix")


def loaded(attr):
    return podman_load(built(attr, expression=NIXSHELL)).strip().split()[-1]


def podman_run(reference, *command, tty=False):
    """What the container prints; `tty` gives it a terminal, as `docker run -it` does."""
    options = ["-t"] if tty else []
    said = run("podman", "run", "--rm", "--network", "none", *options, reference, *command)
    return said.replace("\r\n", "\n")


def test_basic_builds_the_derivation_with_build_derivation():
    reference = loaded("basic")
    assert podman_run(reference, "bash", "-c", "buildDerivation && $out/bin/hello") == "Hello, world!\n"


@pytest.mark.parametrize("attr, expected, tty", [
    ("hook", "This is the shell hook!\n", True),
    ("inputs", "Hello, world!\n", True),
    ("passAsFile", "this is a string", True),  # the value as it is: no newline
    ("run", "This shell is not interactive\n", False),
    ("command", "This shell is interactive\n", True),
    ("writableHome", "home directory is writable\n", False),
    ("nonexistentHome", "home directory doesn't exist\n", False),
    ("buildDerivation", "Hello, world!\n", False),
])
def test_upstream_cases(attr, expected, tty):
    assert podman_run(loaded(attr), tty=tty) == expected


def test_a_host_busybox_as_the_default_shell_runs_as_sh():
    assert podman_run(loaded("busyboxShell")) == "run by the shell\n"


def test_structured_attributes_are_declared_as_nix_shell_declares_them():
    said = podman_run(loaded("structured")).splitlines()
    assert said[0].startswith("two words|it's a value|none|unset|no args|") and said[0].endswith("-nix-shell")
    assert said[1:] == ["Hello, world!", "1"]


def test_the_image_runs_as_the_build_user_with_the_derivations_environment(tmp_path):
    image = built("built", expression=NIXSHELL)
    assert built("built", "--check", expression=NIXSHELL) == image
    stream = built("basic", expression=NIXSHELL)
    assert built("basic", "--check", expression=NIXSHELL) == stream
    with tarfile.open(image) as archive:
        manifest = json.load(archive.extractfile("manifest.json"))[0]
        config = json.load(archive.extractfile(manifest["Config"]))["config"]
        top = tarfile.open(fileobj=io.BytesIO(archive.extractfile(manifest["Layers"][-1]).read()))
        members = {member.name: member for member in top.getmembers()}
    env = dict(item.split("=", 1) for item in config["Env"])
    assert config["User"] == "1000:1000" and config["WorkingDir"] == "/build"
    assert env["NIX_BUILD_TOP"] == env["TMPDIR"] == env["PWD"] == "/build" and env["HOME"] == "/build"
    assert env["name"] == "hello" and env["out"].endswith("-hello") and "stdenv" in env
    assert "args" not in env, "as Nix: the builder's arguments are no variable"
    assert (members["build"].uid, members["build"].gid) == (1000, 1000)
    assert members["nix/store"].mode == 0o1777 and members["tmp"].mode == 0o1777
    reference = podman_load(image).strip().split()[-1]
    said = podman_run(reference, "bash", "-c", "source $stdenv/setup; cd; pwd; id; test -e $out || echo not-built")
    assert said.splitlines() == ["/build", "uid=1000(nixbld) gid=1000(nixbld) groups=1000(nixbld)", "not-built"]


@pytest.mark.parametrize("attr, message", [
    ("notADerivation", "strata.streamNixShellImage: `drv` must be a derivation (its attributes are the environment)"),
    ("both", "strata.streamNixShellImage: give `command` or `run`, not both"),
    ("noShell", "strata.streamNixShellImage: no `shell`: pass a bash"),
])
def test_what_cannot_be_made_is_one_clear_error(attr, message):
    failed = nix_build(attr, expression=NIXSHELL)
    assert failed.returncode != 0 and message in failed.stderr, failed.stderr


def test_a_stream_refuses_a_compressor():
    evaluated = subprocess.run(
        ["nix-instantiate", "--eval", "-E", 'let s = import %s { python3 = "/usr/bin/python3"; }; in '
         '(s.streamNixShellImage { drv = derivation { name = "x"; builder = "/bin/sh"; system = "x"; };'
         ' shell = "/bin/bash"; compressor = "gz"; }).drvPath' % REPO], capture_output=True, text=True)
    assert "`compressor` is buildNixShellImage's" in evaluated.stderr, evaluated.stderr
