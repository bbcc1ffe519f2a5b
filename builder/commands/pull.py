"""Pulled images. pullImage: an image copied from a registry by digest with skopeo, into a
Docker archive. It runs as a fixed-output derivation, the one kind of build that reaches the
network: Nix checks the archive against the hash the user gave, so the bytes must be the
same every time for the same digest, which skopeo's docker-archive writer gives.

pullImageFromManifest: the blobs a committed manifest names, each a fixed-output derivation
of its own (fetched by the registry client, checked by Nix against its digest), put together
into an OCI layout here, without the network.
"""

import hashlib
import json
import os
import shutil
import subprocess

from ..core.errors import StrataError
from ..core.output import output_directory
from ..image.imageconfig import canonical_json
from ..image.imageformats import INDEX_MEDIA_TYPE, MANIFEST_MEDIA_TYPE


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


def layout_from_manifest(spec):
    """The ``layout-from-manifest`` command (pullImageFromManifest): an OCI layout of the
    manifest file `spec.manifest` and its blobs, each a fixed-output derivation's file named
    by its digest's hex; every blob the manifest names must be there."""
    with open(spec.manifest, "rb") as stream:
        data = stream.read()
    try:
        manifest = json.loads(data)
        wanted = [manifest["config"]["digest"]] + [layer["digest"] for layer in manifest["layers"]]
    except (ValueError, KeyError, TypeError, RecursionError) as error:
        raise StrataError("imageManifest: %s is not an image manifest (%s)" % (spec.manifest, error))
    given = {os.path.basename(path).split("-", 1)[-1]: path for path in spec.blobs}
    with output_directory(spec.out) as out:
        os.makedirs(os.path.join(out, "blobs", "sha256"))
        for digest in wanted:
            hex_digest = digest.split(":", 1)[-1]
            if hex_digest not in given:
                raise StrataError("imageManifest: no blob fetched for %s" % digest)
            shutil.copyfile(given[hex_digest], os.path.join(out, "blobs", "sha256", hex_digest))
        with open(os.path.join(out, "blobs", "sha256", hashlib.sha256(data).hexdigest()), "wb") as stream:
            stream.write(data)
        media_type = manifest.get("mediaType") or MANIFEST_MEDIA_TYPE
        index = {"schemaVersion": 2, "mediaType": INDEX_MEDIA_TYPE, "manifests": [
            {"mediaType": media_type, "digest": "sha256:" + hashlib.sha256(data).hexdigest(), "size": len(data)}]}
        with open(os.path.join(out, "index.json"), "wb") as stream:
            stream.write(canonical_json(index))
        with open(os.path.join(out, "oci-layout"), "w") as stream:
            stream.write('{"imageLayoutVersion": "1.0.0"}')
