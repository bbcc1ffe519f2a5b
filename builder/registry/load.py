"""Loading an image into podman or a Docker daemon: the archive (or what a stream script
writes) is piped into ``podman load`` / ``docker load``, never written to disk. The image is
loaded under its own name and tag. Other destinations (``oci:``, ``dir:``, ...) go through
skopeo, from the archive or layout as it is."""

import os
import subprocess

from ..core.errors import StrataError
from .sources import is_stream_script


def load(image, loader, reference=""):
    if reference:
        raise StrataError("%s: the image loads under its own name; tag it with %s tag afterwards" % (reference, loader))
    if os.path.isdir(image):
        if loader == "docker":
            raise StrataError("%s: docker load takes an archive, not an OCI layout; build the image with format ="
                              " 'docker-archive'" % image)
        loaded = _run([loader, "load", "-i", image], None, loader, capture=True)
        reference = _layout_reference(image)
        if reference and loaded:  # podman names a layout's image after its directory: tag it as built
            _run([loader, "tag", loaded, reference], None, loader)
            _run([loader, "untag", loaded, loaded], None, loader)
            print("Loaded image: %s" % reference)
    elif is_stream_script(image):
        writer = subprocess.Popen([image], stdout=subprocess.PIPE)
        _run([loader, "load"], writer.stdout, loader)
        writer.stdout.close()
        if writer.wait() != 0:
            raise StrataError("%s: the stream script failed (exit status %d)" % (image, writer.returncode))
    else:
        with open(image, "rb") as stream:
            _run([loader, "load"], stream, loader)


def _run(command, stdin, loader, capture=False):
    """Run the loader; with `capture`, the image its output says it loaded."""
    try:
        finished = subprocess.run(command, stdin=stdin, stdout=subprocess.PIPE if capture else None,
                                  universal_newlines=True)
    except OSError as error:
        raise StrataError("%s: cannot run %s (%s)" % (loader, command[0], error.strerror))
    if finished.returncode != 0:
        raise StrataError("%s: %s failed (exit status %d)" % (loader, " ".join(command[:2]), finished.returncode))
    if capture:
        loaded = [line.split(":", 1)[1].strip() for line in finished.stdout.splitlines() if line.startswith("Loaded image")]
        return loaded[-1].split(",")[0] if loaded else None
    return None


def _layout_reference(layout):
    """The name:tag an OCI layout's index.json gives its image, or None."""
    import json
    try:
        with open(os.path.join(layout, "index.json")) as stream:
            manifests = json.load(stream).get("manifests") or []
        return manifests[0]["annotations"]["org.opencontainers.image.ref.name"] if len(manifests) == 1 else None
    except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError):
        return None


def skopeo_copy(image, destination, skopeo):
    """Copy `image` to any destination skopeo knows, with the `skopeo` binary."""
    if not skopeo:
        raise StrataError("%s: strata copies to docker://, containers-storage: and docker-daemon: itself; for other"
                          " destinations give strata `skopeo` (or `pkgs`)" % destination)
    if os.path.isdir(image):
        source = "oci:%s" % image
    elif is_stream_script(image):
        raise StrataError("%s: skopeo cannot read a stream from stdin; build the image with buildLayeredImage to copy"
                          " it to %s" % (image, destination))
    else:
        source = "oci-archive:%s" % image  # strata's archives are OCI archives too: the blobs travel as built
    _run([skopeo, "copy", "--insecure-policy", source, destination], None, "skopeo")
