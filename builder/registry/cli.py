"""The command line of shipping, which the images' copyTo* scripts run:

    python3 -m builder.registry copy IMAGE DESTINATION [--creds USER:PASSWORD]
        [--dest-tls-verify=false] [--from REPOSITORY]... [--sbom DIRECTORY | --no-sbom]

(``--dest-creds`` is skopeo's name for ``--creds``, taken as well.)

IMAGE is an archive, an OCI layout or a stream script strata wrote; DESTINATION is
``docker://HOST[:PORT]/REPOSITORY[:TAG]`` (pushed by strata's own client),
``containers-storage:`` (podman load) or ``docker-daemon:`` (docker load), the archive
streamed into the loader, never written to disk; or ``oci:``, ``oci-archive:``, ``dir:``,
``docker-archive:`` through skopeo (``--skopeo PATH``, which the copyTo script gives).
``fetch-blob`` and ``get-manifest`` serve pullImageFromManifest (see reading).
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
    argv = list(argv)
    if argv and argv[0] in ("fetch-blob", "get-manifest"):
        work = _fetch_blob if argv[0] == "fetch-blob" else _get_manifest
        return commandline.run(USAGE, lambda: work(argv[1:]), workers.close_shared_pool)
    return commandline.run(USAGE, lambda: _copy(*_parse(argv)), workers.close_shared_pool)


def _fetch_blob(argv):
    """``fetch-blob IMAGE DIGEST SIZE OUT [--tls-verify=false]``: pullImageFromManifest's
    fixed-output derivations."""
    tls_verify = "--tls-verify=false" not in argv
    positional = [argument for argument in argv if not argument.startswith("--tls-verify")]
    if len(positional) != 4 or not positional[2].isdigit():
        raise UsageError("fetch-blob takes an image, a digest, its size and a file")
    from .reading import fetch_blob
    fetch_blob(positional[0], positional[1], int(positional[2]), positional[3], tls_verify)


def _get_manifest(argv):
    """``get-manifest IMAGE --os OS --arch ARCH [--tls-verify=false]``: the manifest of the
    image for that platform, as the registry has it, on stdout (pullImageFromManifest's lock)."""
    tls_verify = "--tls-verify=false" not in argv
    rest = [argument for argument in argv if not argument.startswith("--tls-verify")]
    if len(rest) != 5 or rest[1] != "--os" or rest[3] != "--arch":
        raise UsageError("get-manifest takes an image, --os OS and --arch ARCH")
    from .reading import opened, platform_manifest
    with opened(rest[0], tls_verify) as (registry, wanted):
        data, _ = platform_manifest(registry, wanted, rest[2], rest[4])
    sys.stdout.buffer.write(data)
    sys.stdout.flush()


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
