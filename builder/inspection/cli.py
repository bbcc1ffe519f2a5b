"""``strata``: what an image holds, what a release changes, and the SBOM shipped with it.

    strata inspect IMAGE [--json]
    strata diff OLD NEW [--json]
    strata sbom docker://HOST/REPOSITORY:TAG [--format spdx|cyclonedx]

IMAGE (and OLD, NEW): a Docker or OCI archive, an OCI layout (``oci:DIR[:TAG]`` or the
directory), a stream script (a streamLayeredImage), or ``docker://HOST[:PORT]/REPOSITORY
[:TAG|@DIGEST]``, read with ``--tls-verify=false`` over plain HTTP or unverified TLS, and
with ``--creds USER:PASSWORD`` or the credentials copyToRegistry finds. A problem is one
line on stderr and exit status 1; a usage error, status 2.
"""

import json
import sys

from ..core import commandline
from ..core.commandline import UsageError
from ..core.errors import StrataError
from ..core.progress import size_text
from ..image.imageconfig import this_architecture
from ..inventory.compare import compare
from ..inventory.contents import read_image
from ..tar import workers

USAGE = """usage: strata inspect IMAGE [--json]
       strata diff OLD NEW [--json]
       strata sbom docker://HOST[:PORT]/REPOSITORY[:TAG] [--format spdx|cyclonedx]
options for images in registries: --tls-verify=false, --creds USER:PASSWORD
IMAGE: an archive, an OCI layout (oci:DIR[:TAG]), a stream script, or docker://..."""

ARGUMENTS = {"inspect": 1, "diff": 2, "sbom": 1}


def main(argv):
    return commandline.run(USAGE, lambda: _run(*_parse(list(argv))), workers.close_shared_pool)


def _run(command, images, options):
    if command == "sbom":
        sys.stdout.buffer.write(_sbom(images[0], options))
        sys.stdout.flush()
        return
    found = [_read(image, options) for image in images]
    if command == "inspect":
        print(json.dumps(_inspection(found[0]), indent=2) if options["json"] else _inspection_table(found[0]))
    else:
        result = compare(*found)
        print(json.dumps(result, indent=2) if options["json"] else _diff_table(result))


def _parse(argv):
    if not argv or argv[0] in ("-h", "--help"):
        if argv:
            print(USAGE)
            raise SystemExit(0)
        raise UsageError("")
    command, rest = argv[0], argv[1:]
    if command not in ARGUMENTS:
        raise UsageError("unknown command %r" % command)
    options = {"json": False, "tls_verify": True, "creds": None, "format": "spdx"}
    images = []
    while rest:
        argument = rest.pop(0)
        if argument == "--json":
            options["json"] = True
        elif argument in ("--tls-verify=false", "--src-tls-verify=false"):
            options["tls_verify"] = False
        elif argument in ("--tls-verify=true", "--tls-verify"):
            options["tls_verify"] = True
        elif argument == "--creds" and rest:
            options["creds"] = rest.pop(0)
        elif argument.startswith("--creds="):
            options["creds"] = argument.split("=", 1)[1]
        elif argument == "--format" and rest and command == "sbom":
            options["format"] = rest.pop(0)
        elif argument.startswith("--format=") and command == "sbom":
            options["format"] = argument.split("=", 1)[1]
        elif argument.startswith("-"):
            raise UsageError("unknown option %r" % argument)
        else:
            images.append(argument)
    if len(images) != ARGUMENTS[command]:
        raise UsageError("%s takes %s" % (command, "an image" if ARGUMENTS[command] == 1 else "two images, OLD and NEW"))
    if options["format"] not in ("spdx", "cyclonedx"):
        raise UsageError("--format is spdx or cyclonedx, not %r" % options["format"])
    return command, images, options


def _read(image, options):
    if image.startswith("docker://"):
        from .remote import read_remote
        return read_remote(image, options["tls_verify"], options["creds"])
    return read_image(image)


def _sbom(image, options):
    if not image.startswith("docker://"):
        raise StrataError("%s: strata sbom reads an image's SBOM from its registry (docker://...); a built image's"
                          " is its passthru `sbom`" % image)
    from ..registry.referrers import fetch
    from ..registry.reading import opened
    with opened(image, options["tls_verify"], options["creds"]) as (registry, wanted):
        return fetch(registry, wanted, options["format"], this_architecture())


def _inspection(contents):
    return {
        "name": contents.name,
        "tag": contents.tag,
        "configDigest": contents.config_digest,
        "manifestDigest": contents.manifest_digest,
        "config": contents.config,
        "layers": [{"digest": layer.digest, "diffId": layer.diff_id, "size": layer.size,
                    "uncompressedSize": layer.uncompressed_size, "storePaths": list(layer.store_paths),
                    "otherFiles": layer.other_files} for layer in contents.layers],
    }


def _inspection_table(contents):
    config = contents.config.get("config") or {}
    lines = ["image     %s%s" % (contents.name or "(unnamed)", ":" + contents.tag if contents.tag else ""),
             "config    %s" % contents.config_digest,
             "manifest  %s" % (contents.manifest_digest or "(none in this archive)"),
             "platform  %s/%s" % (contents.config.get("os", "?"), contents.config.get("architecture", "?")),
             "created   %s" % contents.config.get("created", "?")]
    for key in ("Entrypoint", "Cmd", "User", "WorkingDir"):
        if config.get(key):
            lines.append("%-9s %s" % (key.lower() if key != "WorkingDir" else "workdir",
                                      json.dumps(config[key]) if isinstance(config[key], list) else config[key]))
    lines += ["", "%-5s %-19s %10s %10s %6s %6s" % ("LAYER", "DIGEST", "SIZE", "UNPACKED", "PATHS", "OTHER")]
    for number, layer in enumerate(contents.layers, 1):
        lines.append("%-5d %-19s %10s %10s %6d %6d" % (
            number, layer.digest[:19], size_text(layer.size), size_text(layer.uncompressed_size),
            len(layer.store_paths), layer.other_files))
        lines += ["      %s" % path for path in layer.store_paths]
    layers = contents.layers
    lines.append("%-5s %-19s %10s %10s %6d %6d" % (
        "total", "%d layers" % len(layers), size_text(sum(layer.size for layer in layers)),
        size_text(sum(layer.uncompressed_size for layer in layers)),
        len({path for layer in layers for path in layer.store_paths}), sum(layer.other_files for layer in layers)))
    return "\n".join(lines)


def _diff_table(result):
    lines = []
    for change in result["changed"]:
        lines.append("~ %s: %s -> %s" % (change["name"], change["old"], change["new"]))
    lines += ["+ %s" % path for path in result["added"]]
    lines += ["- %s" % path for path in result["removed"]]
    if not lines:
        lines.append("the same store paths")
    lines += ["", "layers: %d shared, %d new" % (result["layers"]["shared"], result["layers"]["new"]),
              "a push to a registry holding the old image uploads %s" % size_text(result["uploadBytes"])]
    return "\n".join(lines)
