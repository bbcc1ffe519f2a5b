"""The command line of shipping, which the images' copyTo* scripts run:

    python3 -m builder.registry copy IMAGE DESTINATION [--creds USER:PASSWORD]
        [--dest-tls-verify=false] [--from REPOSITORY]...

(``--dest-creds`` is skopeo's name for ``--creds``, taken as well.)

IMAGE is an archive, an OCI layout or a stream script strata wrote; DESTINATION is
``docker://HOST[:PORT]/REPOSITORY[:TAG]`` (pushed by strata's own client),
``containers-storage:`` (podman load) or ``docker-daemon:`` (docker load), the archive
streamed into the loader, never written to disk; or ``oci:``, ``oci-archive:``, ``dir:``,
``docker-archive:`` through skopeo (``--skopeo PATH``, which the copyTo script gives)."""

import sys

from ..core.errors import StrataError
from ..tar import workers

USAGE = ("usage: python3 -m builder.registry copy IMAGE docker://HOST[:PORT]/REPOSITORY[:TAG] | containers-storage:"
         " | docker-daemon: [--creds USER:PASSWORD] [--dest-tls-verify=false] [--from REPOSITORY]...")
LOADERS = {"containers-storage:": "podman", "docker-daemon:": "docker"}
_SKOPEO = {"oci:", "oci-archive:", "dir:", "docker-archive:"}
"""Transports skopeo takes that strata leaves to it."""


def main(argv):
    try:
        image, destination, options = _parse(list(argv))
        transport = destination.split(":", 1)[0] + ":"
        skopeo = options.pop("skopeo")
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
    except StrataError as error:
        print("strata: error: %s" % error, file=sys.stderr)
        return 1
    except _Usage as usage:
        print(USAGE + ("\nstrata: error: %s" % usage if str(usage) else ""), file=sys.stderr)
        return 2
    finally:
        workers.close_shared_pool()
    return 0


class _Usage(Exception):
    pass


def _parse(argv):
    if not argv or argv[0] not in ("copy", "push"):
        raise _Usage("" if not argv else "unknown command %r" % argv[0])
    options = {"creds": None, "tls_verify": True, "mount_from": [], "skopeo": None}
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
        elif argument.startswith("-"):
            raise _Usage("unknown option %r" % argument)
        else:
            positional.append(argument)
    if len(positional) != 2:
        raise _Usage("copy takes an image and a destination")
    return positional[0], positional[1], options
