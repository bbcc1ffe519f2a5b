"""pullImage: an image copied from a registry by digest with skopeo, into a Docker archive.

It runs as a fixed-output derivation, the one kind of build that reaches the network:
Nix checks the archive against the hash the user gave, so the bytes must be the same every
time for the same digest, which skopeo's docker-archive writer gives.
"""

import os
import subprocess

from ..core.errors import StrataError


def pull_image(spec):
    """The ``pull-image`` command: `spec` a spec.PullSpec."""
    temporary = os.environ.get("NIX_BUILD_TOP") or os.environ.get("TMPDIR") or "/tmp"
    command = [spec.skopeo, "--tmpdir", temporary, "--insecure-policy", "--override-os", spec.os,
               "--override-arch", spec.arch] + (["--override-variant", spec.variant] if spec.variant else []) + [
        "copy", "--src-tls-verify=%s" % ("true" if spec.tls_verify else "false"),
        "docker://%s@%s" % (spec.image_name, spec.image_digest),
        "docker-archive:%s:%s:%s" % (spec.out, spec.final_image_name, spec.final_image_tag),
    ]
    environment = {"HOME": temporary, "PATH": "/usr/bin:/bin", "TMPDIR": temporary}
    environment.update((name, value) for name, value in os.environ.items() if name.lower().endswith("_proxy"))
    if spec.ssl_cert_file:
        environment["SSL_CERT_FILE"] = spec.ssl_cert_file
    try:
        finished = subprocess.run(command, env=environment)
    except OSError as error:
        raise StrataError("skopeo: cannot run %s: %s" % (spec.skopeo, error.strerror))
    if finished.returncode != 0:
        raise StrataError("pullImage: skopeo could not copy %s@%s (exit status %d)"
                          % (spec.image_name, spec.image_digest, finished.returncode))
