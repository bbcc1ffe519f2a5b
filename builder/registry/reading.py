"""Reading from a registry: a Registry opened on an image reference, credentials found as a
push finds them and redacted from every error; a manifest for a platform; one blob into a
file. The strata command reads images so; pullImageFromManifest fetches its blobs (a
fixed-output derivation each) and its getManifest writes the lock file so."""

import contextlib

from . import credentials, reference
from ..core.errors import StrataError
from ..image.imagesources import for_platform, index_entries
from .client import Registry
from .secrets import Secrets
from .sources import json_object

TIME_BOUND = 3600
"""Seconds reading one image may take."""


@contextlib.contextmanager
def opened(image, tls_verify=True, creds=None):
    """(Registry, tag or digest) of ``[docker://]HOST[:PORT]/REPOSITORY[:TAG|@DIGEST]``, its
    errors redacted of the credentials' secrets. Retries go unsaid: a failure is one line."""
    text = image[len("docker://"):] if image.startswith("docker://") else image
    name, at, wanted = text.rpartition("@") if "@sha256:" in text else (text, "", None)
    target = reference.parse(name)
    user = credentials.find(target.host, creds)
    secrets = Secrets(user)
    try:
        yield Registry(target.host, target.repository, user, tls_verify, None, secrets, TIME_BOUND, "reading"), \
            wanted if at else target.tag
    except StrataError as error:
        raise StrataError(secrets.redact(str(error))) from None


def platform_manifest(registry, wanted, os_name, architecture, strict=True):
    """(bytes, parsed) of the manifest `wanted` names; for an index, of the manifest it
    lists for `os_name`/`architecture` (not `strict`: else of its first)."""
    data = registry.get_manifest(wanted)[0]
    manifest = json_object(data, registry.where(), "the manifest")
    if "manifests" not in manifest:
        return data, manifest
    entries = index_entries(manifest, registry.where())
    chosen = for_platform(entries, os_name, architecture)
    if chosen is None and strict:
        raise StrataError("%s:%s has no manifest for %s/%s" % (registry.where(), wanted, os_name, architecture))
    data = registry.get_manifest((chosen or entries[0])["digest"])[0]
    return data, json_object(data, registry.where(), "the platform's manifest")


def fetch_blob(image, digest, size, out, tls_verify=True):
    """Write the blob `digest` of `size` bytes of the image's repository to the file `out`."""
    with opened(image, tls_verify) as (registry, _):
        with open(out, "wb") as stream:
            registry.get_blob(digest, size, stream)
