"""The command line: ``python3 -m builder COMMAND [SPEC] [--out PATH]``.

SPEC is the JSON spec (see builder.spec); inside a Nix build it defaults to the
``.attrs.json`` that Nix writes. A problem with the input is printed as one line on stderr
with exit status 1; a traceback means a bug in strata.
"""

import argparse
import os
import sys

from . import spec as specs, workers
from .baseimage import read_base_image
from .export import export_image, merge_images
from .pull import pull_image
from .errors import StrataError
from .imagebuild import build_image
from .layerbuild import build_layer, build_nix_db_layer, plan_layers
from .layeredimage import build_layered_image, write_stream_script

# name: (function, the specs it takes, what it does)
COMMANDS = {
    "build-image": (build_image, "image layer", "write a one-layer image (buildImage)"),
    "read-base-image": (read_base_image, "base", "check a base image and record its layers and files"),
    "export-image": (export_image, "export", "flatten an image into one root file system tarball (exportImage)"),
    "merge-images": (merge_images, "merge", "write one archive holding several images (mergeImages)"),
    "pull-image": (pull_image, "pull", "copy an image from a registry by digest (pullImage)"),
    "build-layer": (build_layer, "layer", "write one layer and its record (buildLayer, a layer derivation)"),
    "build-nix-db-layer": (build_nix_db_layer, "image layer", "write a layer holding the Nix database"),
    "plan-layers": (plan_layers, "image layer", "group an image's store paths into layers, as JSON"),
    "build-layered-image": (build_layered_image, "image layer", "write a layered image (buildLayeredImage)"),
    "write-stream-script": (write_stream_script, "image layer", "write a script that streams the image"),
}
PARSERS = {"image": specs.image_spec, "layer": specs.layer_spec, "base": specs.base_spec,
           "export": specs.export_spec, "merge": specs.merge_spec, "pull": specs.pull_spec}


def main(argv):
    parser = argparse.ArgumentParser(
        prog="python3 -m builder",
        description="Build reproducible container images from Nix store closures.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    for name, (_, _, summary) in COMMANDS.items():
        command = commands.add_parser(name, help=summary, description=summary)
        command.add_argument("spec", nargs="?", default=_attrs_file(),
                             help="the JSON spec (default: the build's .attrs.json)")
        command.add_argument("--out", help="the output path (default: the spec's outputs.out)")
    arguments = parser.parse_args(argv)
    run, kinds, _ = COMMANDS[arguments.command]
    try:
        document = specs.load(arguments.spec)
        run(*[PARSERS[kind](document, out=arguments.out) for kind in kinds.split()])
    except StrataError as error:
        print("strata: error: %s" % error, file=sys.stderr)
        return 1
    finally:
        workers.close_shared_pool()
    return 0


def _attrs_file():
    """The .attrs.json of a Nix build: in the working directory (Nix 2.8 sets
    $NIX_ATTRS_JSON_FILE to its path outside the sandbox), else where the variable says."""
    if os.path.exists(".attrs.json"):
        return ".attrs.json"
    return os.environ.get("NIX_ATTRS_JSON_FILE", ".attrs.json")
