"""The Docker archive: what ``docker save`` writes and ``docker load``, ``podman load`` and
skopeo's ``docker-archive:`` read.

Layout, as recent ``docker save`` names its files::

    blobs/sha256/<hex>   each layer blob (as compressed), then the config
    manifest.json        [{"Config": ..., "RepoTags": ["name:tag"], "Layers": [...]}]
    repositories         {"name": {"tag": "<top layer hex>"}}, for old loaders

A layer's name and size are known only after it is written, yet its tar header comes
first: the header is written as a placeholder, the layer is streamed straight into the
archive, and the header is rewritten in place once the digest is known. Each layer is
thus written once, never staged in a temporary file.
"""

import hashlib
import json

from . import tarwriter

BLOB_DIR = "blobs/sha256/"
FILE_MODE = 0o444
DIR_MODE = 0o755


class DockerArchive:
    """Writes one image into the seekable binary `stream`."""

    def __init__(self, stream, mtime):
        self.stream = stream
        self.mtime = mtime
        for directory in ("blobs", "blobs/sha256"):
            self.stream.write(tarwriter.header(directory.encode(), "dir", DIR_MODE, mtime, tarwriter.ROOT))

    def add_layer(self, write):
        """Stream a layer into the archive: `write(stream)` writes the blob and returns its
        layer.Layer. Returns that Layer."""
        start = self.stream.tell()
        self.stream.write(bytes(tarwriter.BLOCK))
        layer = write(self.stream)
        self.stream.write(tarwriter.padding(layer.size))
        end = self.stream.tell()
        name = blob_name(layer.digest)
        self.stream.seek(start)
        self.stream.write(tarwriter.big_header(name.encode(), FILE_MODE, self.mtime, tarwriter.ROOT, layer.size))
        self.stream.seek(end)
        return layer

    def finish(self, config, repo_tag, layers):
        """Write the config blob, manifest.json and repositories, and end the archive."""
        config_name = blob_name("sha256:" + hashlib.sha256(config).hexdigest())
        self._add_file(config_name, config)
        manifest = [{"Config": config_name, "RepoTags": [repo_tag], "Layers": [blob_name(l.digest) for l in layers]}]
        self._add_file("manifest.json", json.dumps(manifest, separators=(",", ":")).encode())
        repository, tag = repo_tag.rsplit(":", 1)
        top = layers[-1].digest.split(":", 1)[1] if layers else ""
        self._add_file("repositories", json.dumps({repository: {tag: top}}, separators=(",", ":")).encode())
        self.stream.write(tarwriter.END_OF_ARCHIVE)

    def _add_file(self, name, data):
        self.stream.write(tarwriter.header(name.encode(), "file", FILE_MODE, self.mtime, tarwriter.ROOT, size=len(data)))
        self.stream.write(data)
        self.stream.write(tarwriter.padding(len(data)))


def blob_name(digest):
    return BLOB_DIR + digest.split(":", 1)[1]
