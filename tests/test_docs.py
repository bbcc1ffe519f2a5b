"""The Nix examples of README.md and docs/ are real: every ```nix block is evaluated, its
derivations instantiated (the arguments checked as a build would), and the README's example
image is examples/hello.nix, letter for letter, built. The names the blocks use without
defining them come from tests/nix/docs-scope.nix."""

import glob
import os
import re
import subprocess

import pytest

from conftest import NIX_BUILD, REPO

pytestmark = pytest.mark.e2e

SCOPE = os.path.join(REPO, "tests", "nix", "docs-scope.nix")
SANDBOX = ["--option", "sandbox", "true", "--option", "extra-sandbox-paths", "/usr /lib /lib64 /bin /etc/ld.so.cache",
           "--option", "substituters", ""]
"""scripts/nix-build's options, for the builds import-from-derivation makes."""
PAGES = [os.path.join(REPO, "README.md")] + sorted(glob.glob(os.path.join(REPO, "docs", "*.md")))


def blocks():
    found = []
    for page in PAGES:
        for number, block in enumerate(re.findall(r"```nix\n(.*?)```", open(page).read(), re.S), 1):
            found.append(pytest.param(page, block, id="%s-%d" % (os.path.basename(page), number)))
    return found


@pytest.mark.parametrize("page, block", blocks())
def test_every_nix_example_evaluates(tmp_path, page, block):
    if block.startswith("# The example image of the README"):
        assert block == open(os.path.join(REPO, "examples", "hello.nix")).read(), "the README shows the file as it is"
        return
    (tmp_path / "layers.json").write_text("[]")  # the plan an example keeps (layerPlan = ./layers.json)
    expression = example(tmp_path, block.replace("./strata", REPO))
    # Each binding forced: a derivation instantiated (its .drv written; a layered image's plan
    # is built for that, import-from-derivation, in the sandbox), anything else evaluated.
    forced = tmp_path / "forced.nix"
    forced.write_text("builtins.mapAttrs (name: value: if value ? drvPath then value else builtins.seq value null)"
                      " (import %s)" % expression)
    instantiated = subprocess.run(["nix-instantiate"] + SANDBOX + [str(forced)], capture_output=True, text=True)
    assert instantiated.returncode == 0, instantiated.stderr


def example(directory, block):
    """A file of the example's bindings, in the docs' scope."""
    path = directory / "example.nix"
    path.write_text("let scope = import %s { }; in with scope; let strata = scope.strata; in rec {\n%s\n}\n"
                    % (SCOPE, block))
    return path


def test_the_readme_example_builds():
    built = subprocess.run(["bash"] + NIX_BUILD + [os.path.join(REPO, "examples", "hello.nix"), "--no-out-link"],
                           capture_output=True, text=True)
    assert built.returncode == 0 and built.stdout.strip().endswith("-docker-image-hello-world.tar"), built.stderr


@pytest.mark.parametrize("attr", ["withUsers", "withPerms"])
def test_the_users_and_perms_examples_build(tmp_path, attr):
    page = open(os.path.join(REPO, "docs", "users-and-perms.md")).read()
    block = next(block for block in re.findall(r"```nix\n(.*?)```", page, re.S) if block.startswith(attr))
    built = subprocess.run(["bash"] + NIX_BUILD + [str(example(tmp_path, block)), "-A", attr, "--no-out-link"],
                           capture_output=True, text=True)
    assert built.returncode == 0, built.stderr
