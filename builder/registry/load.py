"""Loading an image into podman or a Docker daemon: the archive (or what a stream script
writes) is piped into ``podman load`` / ``docker load``, never written to disk. The image is
loaded under its own name and tag."""

import os
import subprocess

from ..errors import StrataError


def load(image, loader, reference=""):
    if reference:
        raise StrataError("%s: the image loads under its own name; tag it with %s tag afterwards" % (reference, loader))
    if os.path.isdir(image):
        if loader == "docker":
            raise StrataError("%s: docker load takes an archive, not an OCI layout; build the image with format ="
                              " 'docker-archive'" % image)
        command = [loader, "load", "-i", image]
        _run(command, None, loader)
    else:
        with open(image, "rb") as stream:
            is_script = stream.read(2) == b"#!"
        if is_script:
            writer = subprocess.Popen([image], stdout=subprocess.PIPE)
            _run([loader, "load"], writer.stdout, loader)
            writer.stdout.close()
            if writer.wait() != 0:
                raise StrataError("%s: the stream script failed (exit status %d)" % (image, writer.returncode))
        else:
            with open(image, "rb") as stream:
                _run([loader, "load"], stream, loader)


def _run(command, stdin, loader):
    try:
        finished = subprocess.run(command, stdin=stdin)
    except OSError as error:
        raise StrataError("%s: cannot run %s (%s)" % (loader, command[0], error.strerror))
    if finished.returncode != 0:
        raise StrataError("%s: %s failed (exit status %d)" % (loader, " ".join(command[:2]), finished.returncode))

