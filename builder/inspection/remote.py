"""An image in a registry, read as the inventory reads local ones: its manifest (for an
index, the one for this machine's platform, else the first), its config, and each layer
fetched once into a temporary file that is scanned and deleted. Credentials are found as
copyToRegistry finds them, and never printed. Retries go unsaid: a failure is one line."""

import contextlib
import io
import json
import os
import platform
import tempfile

from ..core.errors import StrataError
from ..image.imageformats import digest as digest_of
from ..inventory.contents import Contents, check_layer, scan_layer
from ..registry import credentials, reference
from ..registry.client import Registry
from ..registry.secrets import Secrets

TIME_BOUND = 3600
"""Seconds reading one image may take."""
LARGEST_CONFIG = 64 << 20
_GOARCH = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "i686": "386", "ppc64le": "ppc64le",
           "s390x": "s390x", "riscv64": "riscv64"}


@contextlib.contextmanager
def opened(image, tls_verify=True, creds=None):
    """(Registry, tag or digest) of ``docker://HOST[:PORT]/REPOSITORY[:TAG|@DIGEST]``, its
    errors redacted of the credentials' secrets."""
    text = image[len("docker://"):]
    name, at, wanted = text.rpartition("@") if "@sha256:" in text else (text, "", None)
    target = reference.parse(name)
    user = credentials.find(target.host, creds)
    secrets = Secrets(user)
    try:
        yield Registry(target.host, target.repository, user, tls_verify, None, secrets, TIME_BOUND, "reading"), \
            wanted if at else target.tag
    except StrataError as error:
        raise StrataError(secrets.redact(str(error))) from None


def read_remote(image, tls_verify=True, creds=None):
    """The Contents of the image `image` (``docker://...``) in its registry."""
    with opened(image, tls_verify, creds) as (registry, wanted):
        data, media_type = registry.get_manifest(wanted)
        manifest = _json(data, registry, "the manifest")
        if "manifests" in manifest:
            data = registry.get_manifest(_platform_entry(manifest, registry))[0]
            manifest = _json(data, registry, "the platform's manifest")
        config_descriptor = manifest.get("config") or {}
        size = config_descriptor.get("size")
        if not isinstance(size, int) or not 0 <= size <= LARGEST_CONFIG:
            raise StrataError("%s: the manifest gives the config no size strata reads" % registry.where())
        buffer = io.BytesIO()
        registry.get_blob(config_descriptor.get("digest"), size, buffer)
        config_bytes = buffer.getvalue()
        config = _json(config_bytes, registry, "the config")
        diff_ids = (config.get("rootfs") or {}).get("diff_ids") or []
        descriptors = manifest.get("layers") or []
        if len(diff_ids) != len(descriptors):
            raise StrataError("%s: the config lists %d layers, the manifest %d"
                              % (registry.where(), len(diff_ids), len(descriptors)))
        layers = [_layer(registry, number, descriptor, diff_id)
                  for number, (descriptor, diff_id) in enumerate(zip(descriptors, diff_ids), 1)]
        return Contents("%s/%s" % (registry.host, registry.repository), wanted if ":" not in wanted else "",
                        config, digest_of(config_bytes), len(config_bytes), digest_of(data), layers)


def _layer(registry, number, descriptor, diff_id):
    where = "%s: layer %d (%s)" % (registry.where(), number, descriptor.get("digest"))
    if not isinstance(descriptor.get("size"), int) or descriptor["size"] < 0:
        raise StrataError("%s: no size in the manifest" % where)
    with tempfile.TemporaryFile(dir=os.environ.get("TMPDIR")) as blob:
        registry.get_blob(descriptor.get("digest"), descriptor["size"], blob)
        blob.seek(0)
        layer = scan_layer(blob, where, media_type=descriptor.get("mediaType"))
    check_layer(layer, descriptor.get("digest"), diff_id, where)
    return layer


def _platform_entry(index, registry):
    """The digest of an index's manifest for linux on this machine, else its first."""
    entries = [entry for entry in index.get("manifests") or [] if isinstance(entry, dict) and entry.get("digest")]
    if not entries:
        raise StrataError("%s: the image index lists no manifest" % registry.where())
    machine = _GOARCH.get(platform.machine(), platform.machine())
    for entry in entries:
        found = entry.get("platform") or {}
        if found.get("os") == "linux" and found.get("architecture") == machine:
            return entry["digest"]
    return entries[0]["digest"]


def _json(data, registry, what):
    try:
        document = json.loads(data)
    except (ValueError, RecursionError) as error:
        raise StrataError("%s: %s is not JSON (%s)" % (registry.where(), what, error))
    if not isinstance(document, dict):
        raise StrataError("%s: %s is not a JSON object" % (registry.where(), what))
    return document
