"""The builder's packages import only downward (builder/__init__.py draws the order), and no
module outgrows one concern."""

import ast
import os

from conftest import REPO

ORDER = ["core", "tar", "tree", "nix", "layers", "image", "inventory", "commands", "registry", "inspection"]
"""Each package may import those before it. nix and tree sit beside layers' inputs: layers
uses tree and tar; nix uses tree and tar; neither layers nor nix uses the other."""


def imports_of(path, package):
    """The packages of builder that the module at `path` (in `package`) imports."""
    tree = ast.parse(open(path).read())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            parts = (node.module or "").split(".")
            if node.level == 1:
                found.add(package)
            elif parts[0]:
                found.add(parts[0])
            else:
                found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("builder."):
            found.add(node.module.split(".")[1])
    return found


def test_imports_run_one_way_from_the_commands_down_to_the_bytes():
    builder = os.path.join(REPO, "builder")
    wrong = []
    for package in ORDER:
        directory = os.path.join(builder, package)
        for name in sorted(os.listdir(directory)):
            if name.endswith(".py"):
                for other in imports_of(os.path.join(directory, name), package):
                    upward = other in ORDER and ORDER.index(other) > ORDER.index(package)
                    if upward or {package, other} == {"nix", "layers"}:
                        wrong.append("%s/%s imports %s" % (package, name, other))
    assert wrong == []
    assert sorted(name for name in os.listdir(builder) if name.endswith(".py")) == ["__init__.py", "__main__.py"]


def test_no_module_over_about_four_hundred_lines():
    long = []
    for directory, _, names in os.walk(os.path.join(REPO, "builder")):
        for name in names:
            if name.endswith(".py"):
                with open(os.path.join(directory, name)) as stream:
                    count = sum(1 for _ in stream)
                if count > 420:
                    long.append("%s: %d" % (os.path.relpath(os.path.join(directory, name), REPO), count))
    assert long == []
