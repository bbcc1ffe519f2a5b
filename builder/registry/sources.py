"""The image to push, as strata wrote it: a Docker archive (which is an OCI archive too), an
OCI layout directory, or a stream script. Each gives its config, its layers' descriptors
and, for each blob, its bytes in pieces, read from where they are (a stream's store layers
are written again from the store while they are sent, checked path by path); nothing
image-sized is written anywhere."""

import collections
import json
import os
import subprocess
import tarfile

from ..core.errors import StrataError
from ..image.imageformats import CONFIG_MEDIA_TYPE, INDEX_MEDIA_TYPE, MANIFEST_MEDIA_TYPE, digest, oci_manifest

PIECE = 1 << 20

Blob = collections.namedtuple("Blob", "digest size media_type chunks regenerated", defaults=(False,))
"""A blob to push: `chunks()` gives its bytes in pieces; `regenerated` where a stream's
store layer is written again for it by the command's worker processes (see push)."""

Image = collections.namedtuple("Image", "manifest config layers")
"""`manifest` the OCI manifest's bytes; `config` and `layers` Blobs."""

Index = collections.namedtuple("Index", "index images")
"""A multi-platform image (buildMultiArchImage): `index` the OCI image index's bytes,
`images` an Image for each manifest it lists."""


def is_stream_script(path):
    """Whether the image file `path` is a stream script (its first bytes are ``#!``)."""
    with open(path, "rb") as stream:
        return stream.read(2) == b"#!"


def open_image(path):
    """The Image at `path`: an OCI layout directory, an archive strata wrote, or a stream
    script."""
    if os.path.isdir(path):
        return _from_layout(lambda name: _file_chunks(os.path.join(path, name)),
                            lambda name: os.path.exists(os.path.join(path, name)), path)
    if is_stream_script(path):
        return _from_stream_script(path)
    try:
        archive = tarfile.open(path)
        members = {member.name: member for member in archive.getmembers() if member.isfile()}
    except (OSError, tarfile.TarError) as error:
        raise StrataError("%s: not an image archive (%s)" % (path, error))

    def chunks(name):
        def read():
            with tarfile.open(path) as again:
                stream = again.extractfile(members[name])
                for piece in iter(lambda: stream.read(PIECE), b""):
                    yield piece
        return read
    return _from_layout(chunks, lambda name: name in members, path)


def _from_layout(chunks, exists, where):
    """The Image of an OCI layout whose file `name` reads as `chunks(name)()`."""
    if not exists("index.json"):
        raise StrataError("%s: no index.json: not an image strata wrote (push others with skopeo)" % where)
    index = json_object(b"".join(chunks("index.json")()), where, "index.json")
    entries = [entry for entry in index.get("manifests") or []
               if entry.get("mediaType") in (MANIFEST_MEDIA_TYPE, INDEX_MEDIA_TYPE)]
    if len(entries) != 1:
        raise StrataError("%s: index.json lists %d images; strata pushes one (an image, or an image index)"
                          % (where, len(entries)))

    def blob(descriptor, what="a layer or the config"):
        name = _blob(descriptor["digest"])
        if not exists(name):
            raise StrataError("%s: the blob %s (%s) is missing" % (where, descriptor["digest"], what))
        return Blob(descriptor["digest"], descriptor["size"], descriptor["mediaType"], chunks(name))

    def read(descriptor, what):
        return b"".join(blob(descriptor, what).chunks())

    def image(descriptor):
        manifest = read(descriptor, "a manifest")
        document = json_object(manifest, where, "the manifest")
        return Image(manifest, blob(document["config"]), [blob(layer) for layer in document["layers"]])

    if entries[0]["mediaType"] == MANIFEST_MEDIA_TYPE:
        return image(entries[0])
    nested = read(entries[0], "the image index")
    return Index(nested, [image(entry) for entry in json_object(nested, where, "the image index").get("manifests") or []])


def _from_stream_script(path):
    """The Image a stream script writes: its document says every layer's digest, so the
    manifest is known before a byte is sent."""
    try:
        document = json.loads(subprocess.run([path, "--strata-document"], capture_output=True, check=True).stdout)
    except (OSError, subprocess.CalledProcessError, ValueError, RecursionError) as error:
        raise StrataError("%s: not a stream script strata wrote (%s)" % (path, error))
    from ..commands.streaming import regenerated_chunks  # here: only streams need the store writer
    config = document["config"].encode("utf-8")
    layers = [Blob(entry["layer"]["digest"], entry["layer"]["size"], entry["layer"]["media_type"],
                   _file_chunks(entry["blob"]) if entry["blob"] else regenerated_chunks(entry, PIECE),
                   not entry["blob"])
              for entry in document["layers"]]
    return Image(oci_manifest(config, layers), Blob(digest(config), len(config), CONFIG_MEDIA_TYPE, lambda: iter([config])),
                 layers)


def _file_chunks(path):
    def read():
        with open(path, "rb") as stream:
            for piece in iter(lambda: stream.read(PIECE), b""):
                yield piece
    return read


def _blob(digest):
    return "blobs/" + digest.replace(":", "/", 1)


def json_object(data, where, what):
    """The JSON object `data` (bytes) holds; an error naming `where` and `what` otherwise."""
    try:
        document = json.loads(data)
    except (ValueError, RecursionError) as error:  # RecursionError: nested past Python's stack
        raise StrataError("%s: %s is not JSON (%s)" % (where, what, error))
    if not isinstance(document, dict):
        raise StrataError("%s: %s is not a JSON object" % (where, what))
    return document
