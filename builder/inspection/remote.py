"""An image in a registry, read as the inventory reads local ones: its manifest (for an
index, the one for this machine's platform, else the first), its config, and each layer
fetched once into a temporary file that is scanned and deleted, PARALLEL at once (see
registry.reading)."""

import concurrent.futures
import io
import os
import tempfile

from ..core.errors import StrataError
from ..image.imageconfig import this_architecture
from ..image.imageformats import digest as digest_of
from ..inventory.contents import Contents, check_layer, config_diff_ids, scan_layer
from ..registry.reading import opened, platform_manifest
from ..registry.sources import json_object

LARGEST_CONFIG = 64 << 20
PARALLEL = 4
"""Layers fetched and read at once, each on a connection of its own, as a push sends them."""


def read_remote(image, tls_verify=True, creds=None):
    """The Contents of the image `image` (``docker://...``) in its registry."""
    with opened(image, tls_verify, creds) as (registry, wanted):
        data, manifest = platform_manifest(registry, wanted, "linux", this_architecture(), strict=False)
        config_descriptor = manifest.get("config") or {}
        size = config_descriptor.get("size")
        if not isinstance(size, int) or not 0 <= size <= LARGEST_CONFIG:
            raise StrataError("%s: the manifest gives the config no size strata reads" % registry.where())
        buffer = io.BytesIO()
        registry.get_blob(config_descriptor.get("digest"), size, buffer)
        config_bytes = buffer.getvalue()
        config = json_object(config_bytes, registry.where(), "the config")
        descriptors = manifest.get("layers") or []
        diff_ids = config_diff_ids(config, len(descriptors), registry.where())
        with concurrent.futures.ThreadPoolExecutor(PARALLEL) as pool:
            layers = list(pool.map(lambda item: _layer(registry, item[0], *item[1]),
                                   enumerate(zip(descriptors, diff_ids), 1)))
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
