"""buildMultiArchImage: images built for different platforms, as one OCI image index.

The output is an OCI layout directory: its index.json names one image index (tagged with
``org.opencontainers.image.ref.name``), which lists each image's manifest with its platform
(``architecture``, ``os`` and ``variant``, from the image's config). The blobs are symlinks
to the images' blobs as their base-image records keep them: nothing is copied. Two images
of one platform are an error, since a runtime could pick either.
"""

import os

from ..core.errors import StrataError
from ..core.output import output_directory
from ..image.baseimage import BaseImage
from ..image.imageconfig import canonical_json
from ..image.imageformats import BLOB_DIR, INDEX_MEDIA_TYPE, MANIFEST_MEDIA_TYPE, blob_name, digest, oci_manifest


def build_multi_arch_image(spec):
    """The ``build-multi-arch-image`` command: `spec` a spec.MultiArchSpec."""
    images = [BaseImage(directory) for directory in spec.images]
    platforms = {}
    descriptors, blobs = [], {}
    for image in images:
        platform = {key: image.config[key] for key in ("architecture", "os", "variant") if image.config.get(key)}
        key = tuple(sorted(platform.items()))
        if key in platforms:
            raise StrataError("images: %s and %s are both for %s; an index holds one image a platform"
                              % (platforms[key], image.directory, "/".join(value for _, value in key)))
        platforms[key] = image.directory
        manifest = oci_manifest(image.config_bytes, image.layers)
        blobs[blob_name(digest(image.config_bytes))] = image.config_bytes
        blobs[blob_name(digest(manifest))] = manifest
        for blob, layer in zip(image.blobs, image.layers):
            blobs[blob_name(layer.digest)] = blob  # a path: linked, not copied
        descriptors.append({"mediaType": MANIFEST_MEDIA_TYPE, "digest": digest(manifest), "size": len(manifest),
                            "platform": platform})
    index = canonical_json({"schemaVersion": 2, "mediaType": INDEX_MEDIA_TYPE, "manifests": descriptors})
    blobs[blob_name(digest(index))] = index
    reference = "%s:%s" % (spec.name, spec.tag)
    top = {"schemaVersion": 2, "mediaType": INDEX_MEDIA_TYPE, "manifests": [{
        "mediaType": INDEX_MEDIA_TYPE, "digest": digest(index), "size": len(index),
        "annotations": {"org.opencontainers.image.ref.name": reference, "io.containerd.image.name": reference}}]}
    with output_directory(spec.out) as out:
        os.makedirs(os.path.join(out, BLOB_DIR))
        for name, content in sorted(blobs.items()):
            if isinstance(content, bytes):
                with open(os.path.join(out, name), "wb") as stream:
                    stream.write(content)
            else:
                os.symlink(os.path.realpath(content), os.path.join(out, name))
        for name, document in (("index.json", top), ("oci-layout", {"imageLayoutVersion": "1.0.0"})):
            with open(os.path.join(out, name), "wb") as stream:
                stream.write(canonical_json(document))
