"""The command line of shipping, which the images' copyTo* scripts run:

    python3 -m builder.registry copy IMAGE DESTINATION [--creds USER:PASSWORD]
        [--dest-tls-verify=false] [--from REPOSITORY]... [--sbom DIRECTORY | --no-sbom]

(``--dest-creds`` is skopeo's name for ``--creds``, taken as well.)

IMAGE is an archive, an OCI layout or a stream script strata wrote; DESTINATION is
``docker://HOST[:PORT]/REPOSITORY[:TAG]`` (pushed by strata's own client),
``containers-storage:`` (podman load) or ``docker-daemon:`` (docker load), the archive
streamed into the loader, never written to disk; or ``oci:``, ``oci-archive:``, ``dir:``,
``docker-archive:`` through skopeo (``--skopeo PATH``, which the copyTo script gives).
``--sbom`` (which the copyTo scripts give) names the image's SBOM directory, whose documents
a push to a registry attaches to the image; ``--no-sbom`` leaves them out."""

import sys

from ..core import commandline
from ..core.commandline import UsageError
from ..tar import workers

USAGE = ("usage: python3 -m builder.registry copy IMAGE docker://HOST[:PORT]/REPOSITORY[:TAG] | containers-storage:"
         " | docker-daemon: [--creds USER:PASSWORD] [--dest-tls-verify=false] [--from REPOSITORY]... [--no-sbom]")
LOADERS = {"containers-storage:": "podman", "docker-daemon:": "docker"}
_SKOPEO = {"oci:", "oci-archive:", "dir:", "docker-archive:"}
"""Transports skopeo takes that strata leaves to it."""


def main(argv):
    return commandline.run(USAGE, lambda: _copy(*_parse(list(argv))), workers.close_shared_pool)


def _copy(image, destination, options):
    transport = destination.split(":", 1)[0] + ":"
    skopeo = options.pop("skopeo")
    if options.pop("no_sbom"):
        options["sbom"] = None
    if transport in LOADERS:
        from .load import load
        load(image, LOADERS[transport], destination.split(":", 1)[1])
    elif destination.startswith("docker://") or "://" not in destination and transport not in _SKOPEO:
        from .push import push
        from .reference import parse
        from .sources import open_image
        parse(destination)  # the whole destination checked before the image is opened
        push(open_image(image), destination, **options)
    else:
        from .load import skopeo_copy
        skopeo_copy(image, destination, skopeo)


def _parse(argv):
    if not argv or argv[0] not in ("copy", "push"):
        raise UsageError("" if not argv else "unknown command %r" % argv[0])
    options = {"creds": None, "tls_verify": True, "mount_from": [], "skopeo": None, "sbom": None, "no_sbom": False}
    positional = []
    rest = argv[1:]
    while rest:
        argument = rest.pop(0)
        if argument in ("--creds", "--dest-creds") and rest:
            options["creds"] = rest.pop(0)
        elif argument.startswith(("--creds=", "--dest-creds=")):
            options["creds"] = argument.split("=", 1)[1]
        elif argument in ("--dest-tls-verify=false", "--tls-verify=false"):
            options["tls_verify"] = False
        elif argument in ("--dest-tls-verify=true", "--tls-verify=true", "--dest-tls-verify"):
            options["tls_verify"] = True
        elif argument == "--from" and rest:
            options["mount_from"].append(rest.pop(0))
        elif argument == "--skopeo" and rest:
            options["skopeo"] = rest.pop(0)
        elif argument == "--sbom" and rest:
            options["sbom"] = rest.pop(0)
        elif argument == "--no-sbom":
            options["no_sbom"] = True
        elif argument.startswith("-"):
            raise UsageError("unknown option %r" % argument)
        else:
            positional.append(argument)
    if len(positional) != 2:
        raise UsageError("copy takes an image and a destination")
    return positional[0], positional[1], options
