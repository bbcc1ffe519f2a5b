"""The command line: ``python3 -m builder COMMAND [SPEC] [--out PATH]``.

SPEC is the JSON spec (see spec); inside a Nix build it defaults to the
``.attrs.json`` that Nix writes. A problem with the input is printed as one line on stderr
with exit status 1; a traceback means a bug in strata.
"""

import importlib
import os
import sys

from . import spec as specs
from ..core.errors import StrataError
from ..tar import workers

# name: (module.function, the specs it takes, what it does), the module in this package or, with
# leading dots, relative to it. A command imports only its own module: a layered image runs
# this a hundred times, once a layer, and Python's start counts.
COMMANDS = {
    "build-image": ("imagebuild.build_image", "image layer", "write a one-layer image (buildImage)"),
    "read-base-image": ("..image.baseimage.read_base_image", "base", "check a base image and record its layers and files"),
    "export-image": ("export.export_image", "export", "flatten an image into one root file system tarball (exportImage)"),
    "merge-images": ("export.merge_images", "merge", "write one archive holding several images (mergeImages)"),
    "pull-image": ("pull.pull_image", "pull", "copy an image from a registry by digest (pullImage)"),
    "layout-from-manifest": ("pull.layout_from_manifest", "manifest-layout",
                             "an OCI layout of a manifest and its fetched blobs (pullImageFromManifest)"),
    "build-layer": ("layerbuild.build_layer", "layer", "write one layer and its record (buildLayer, a layer derivation)"),
    "build-nix-db-layer": ("layerbuild.build_nix_db_layer", "image layer", "write a layer holding the Nix database"),
    "plan-layers": ("layerbuild.plan_layers", "image layer", "group an image's store paths into layers, as JSON"),
    "build-layered-image": ("layeredimage.build_layered_image", "image layer", "write a layered image (buildLayeredImage)"),
    "write-stream-script": ("layeredimage.write_stream_script", "image layer", "write a script that streams the image"),
    "nix-shell-files": ("..nix.nixshell.write_shell_files", "shell",
                        "write the files that recreate a derivation's build environment (Nix shell images)"),
    "build-multi-arch-image": ("multiarch.build_multi_arch_image", "multiarch",
                               "put images of several platforms into one image index (buildMultiArchImage)"),
    "build-sbom": ("sbombuild.build_sbom", "sbom", "write an image's SBOM as SPDX and CycloneDX JSON"),
}
PARSERS = {"image": specs.image_spec, "layer": specs.layer_spec, "base": specs.base_spec,
           "export": specs.export_spec, "merge": specs.merge_spec, "pull": specs.pull_spec,
           "multiarch": specs.multi_arch_spec, "shell": specs.shell_spec,
           "sbom": specs.sbom_spec, "manifest-layout": specs.manifest_layout_spec}


USAGE = "usage: python3 -m builder %s [SPEC] [--out PATH]"

HELP = USAGE % "COMMAND" + """

Build reproducible container images from Nix store closures.

  SPEC        the JSON spec (default: the build's .attrs.json)
  --out PATH  the output path (default: the spec's outputs.out)

commands:
%s
"""


def main(argv):
    command, spec, out = _parse(argv)
    function, kinds, _ = COMMANDS[command]
    module, _, name = function.rpartition(".")
    run = getattr(importlib.import_module(module if module.startswith("..") else "." + module, __package__), name)
    try:
        document = specs.load(spec)
        specs.use_tools(document)
        run(*[PARSERS[kind](document, out=out) for kind in kinds.split()])
    except StrataError as error:
        print("strata: error: %s" % error, file=sys.stderr)
        return 1
    finally:
        workers.close_shared_pool()
    return 0


def _parse(argv):
    """(command, spec, out) from the command line; SystemExit after help or a usage error.
    Parsed by hand: argparse's import alone would cost every layer's start more than this
    whole command line is worth."""
    if not argv or argv[0] in ("-h", "--help"):
        listing = "\n".join("  %-20s %s" % (name, summary) for name, (_, _, summary) in COMMANDS.items())
        print(HELP % listing, end="", file=sys.stdout if argv else sys.stderr)
        raise SystemExit(0 if argv else 2)
    command, rest = argv[0], list(argv[1:])
    if command not in COMMANDS:
        _usage_error("unknown command %r (see --help)" % command)
    if "-h" in rest or "--help" in rest:
        print(USAGE % command + "\n\n" + COMMANDS[command][2])
        raise SystemExit(0)
    out = None
    if "--out" in rest:
        at = rest.index("--out")
        if at + 1 >= len(rest):
            _usage_error("--out needs a path")
        out = rest.pop(at + 1)
        rest.pop(at)
    if len(rest) > 1 or any(argument.startswith("-") for argument in rest):
        _usage_error("unexpected arguments: %s" % " ".join(rest))
    return command, rest[0] if rest else _attrs_file(), out


def _usage_error(problem):
    print(USAGE % "COMMAND" + "\nstrata: error: " + problem, file=sys.stderr)
    raise SystemExit(2)


def _attrs_file():
    """The .attrs.json of a Nix build: in the working directory (Nix 2.8 sets
    $NIX_ATTRS_JSON_FILE to its path outside the sandbox), else where the variable says."""
    if os.path.exists(".attrs.json"):
        return ".attrs.json"
    return os.environ.get("NIX_ATTRS_JSON_FILE", ".attrs.json")
