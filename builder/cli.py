"""The command line: ``python3 -m builder COMMAND [SPEC] [--out PATH]``.

SPEC is the JSON spec (see builder.spec); inside a Nix build it defaults to the
``.attrs.json`` that Nix writes (``$NIX_ATTRS_JSON_FILE``). A problem with the input is
printed as one line on stderr with exit status 1; a traceback means a bug in strata.
"""

import argparse
import os
import sys

from . import spec as specs
from .errors import StrataError
from .imagebuild import build_image

COMMANDS = {
    "build-image": (build_image, "write a one-layer Docker archive (buildImage)"),
}


def main(argv):
    parser = argparse.ArgumentParser(
        prog="python3 -m builder",
        description="Build reproducible container images from Nix store closures.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    for name, (_, summary) in COMMANDS.items():
        command = commands.add_parser(name, help=summary, description=summary)
        command.add_argument("spec", nargs="?", default=_attrs_file(),
                             help="the JSON spec (default: the build's .attrs.json)")
        command.add_argument("--out", help="the output path (default: the spec's outputs.out)")
    arguments = parser.parse_args(argv)
    run, _ = COMMANDS[arguments.command]
    try:
        run(specs.image_spec(specs.load(arguments.spec), out=arguments.out))
    except StrataError as error:
        print("strata: error: %s" % error, file=sys.stderr)
        return 1
    return 0


def _attrs_file():
    """The .attrs.json of a Nix build: in the working directory (Nix 2.8 sets
    $NIX_ATTRS_JSON_FILE to its path outside the sandbox), else where the variable says."""
    if os.path.exists(".attrs.json"):
        return ".attrs.json"
    return os.environ.get("NIX_ATTRS_JSON_FILE", ".attrs.json")
