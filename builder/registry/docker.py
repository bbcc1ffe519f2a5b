"""Docker's manifest formats, for registries that refuse OCI's: the same config and layer
blobs under Docker's media types (schema 2), and a manifest list for an image index."""

import json

from ..core.errors import StrataError
from ..image.imageconfig import canonical_json
from ..image.imageformats import digest

MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
CONFIG = "application/vnd.docker.container.image.v1+json"
LAYERS = {
    "application/vnd.oci.image.layer.v1.tar": "application/vnd.docker.image.rootfs.diff.tar",
    "application/vnd.oci.image.layer.v1.tar+gzip": "application/vnd.docker.image.rootfs.diff.tar.gzip",
}


def manifest(data):
    """The Docker schema 2 manifest of the OCI manifest `data` (bytes)."""
    document = json.loads(data)
    layers = []
    for layer in document["layers"]:
        if layer["mediaType"] not in LAYERS:
            raise StrataError("the registry takes only Docker manifests, which have no media type for %s layers;"
                              " build the image with compressor = 'gz'" % layer["mediaType"])
        layers.append(dict(layer, mediaType=LAYERS[layer["mediaType"]]))
    return canonical_json({"schemaVersion": 2, "mediaType": MANIFEST, "config": dict(document["config"], mediaType=CONFIG),
                           "layers": layers})


def manifest_list(index, manifests):
    """The Docker manifest list of the OCI image index `index` (bytes), its entries the
    Docker `manifests` ((bytes, media type), in the index's order)."""
    entries = []
    for entry, (data, media_type) in zip(json.loads(index)["manifests"], manifests):
        entries.append(dict(entry, mediaType=media_type, digest=digest(data), size=len(data)))
    return canonical_json({"schemaVersion": 2, "mediaType": MANIFEST_LIST, "manifests": entries})
