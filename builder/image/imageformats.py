"""Image formats: where an image's blobs and metadata files go, and what the files say.

One layout serves every loader, as recent ``docker save`` writes it::

    blobs/sha256/<hex>   the layer blobs, the config, the OCI manifest
    manifest.json        Docker archive: [{"Config", "RepoTags", "Layers"}]
    repositories         Docker archive, for old loaders
    oci-layout           OCI image layout: {"imageLayoutVersion": "1.0.0"}
    index.json           OCI image layout: one manifest, named by
                         org.opencontainers.image.ref.name = "name:tag"

A tar of it is at once a ``docker-archive:`` (podman, skopeo, docker) and an
``oci-archive:`` (containerd, skopeo, podman); a directory of it is an OCI layout (``oci:``).

A streamed layer's name and size are known only after it is written, yet in a tar its
header comes first: the header is written as a placeholder, the layer is streamed straight
into the archive, and the header is rewritten in place once the digest is known. Each layer
is thus written once, never staged in a temporary file.
"""

import hashlib
import os
import shutil

from ..core import progress
from ..core.errors import StrataError
from ..tar import tarwriter, workers
from ..tar.filedata import CHUNK
from ..tar.streams import HashingSink, worker_count
from .imageconfig import canonical_json

BLOB_DIR = "blobs/sha256/"
FILE_MODE = 0o444
DIR_MODE = 0o755

CONFIG_MEDIA_TYPE = "application/vnd.oci.image.config.v1+json"
MANIFEST_MEDIA_TYPE = "application/vnd.oci.image.manifest.v1+json"
INDEX_MEDIA_TYPE = "application/vnd.oci.image.index.v1+json"


def blob_name(digest):
    return BLOB_DIR + digest.split(":", 1)[1]


def metadata_files(images):
    """(name, bytes) of the config and manifest blobs and the metadata files of `images`:
    (config bytes, layers (layer.Layer), repo tags "name:tag") each, in one archive."""
    blobs, docker, repositories, descriptors = [], [], {}, []
    for config, layers, repo_tags in images:
        config_digest = digest(config)
        manifest = oci_manifest(config, layers)
        manifest_digest = digest(manifest)
        blobs += [(blob_name(config_digest), config), (blob_name(manifest_digest), manifest)]
        docker.append({"Config": blob_name(config_digest), "RepoTags": list(repo_tags),
                       "Layers": [blob_name(layer.digest) for layer in layers]})
        for repo_tag in repo_tags:
            repository, tag = repo_tag.rsplit(":", 1)
            repositories.setdefault(repository, {})[tag] = layers[-1].digest.split(":", 1)[1] if layers else ""
        descriptor = {"mediaType": MANIFEST_MEDIA_TYPE, "digest": manifest_digest, "size": len(manifest)}
        descriptors += [dict(descriptor, annotations={"io.containerd.image.name": repo_tag,
                                                      "org.opencontainers.image.ref.name": repo_tag})
                        for repo_tag in repo_tags] or [descriptor]
    index = {"schemaVersion": 2, "mediaType": INDEX_MEDIA_TYPE, "manifests": descriptors}
    return blobs + [
        ("manifest.json", canonical_json(docker)),
        ("repositories", canonical_json(repositories)),
        ("index.json", canonical_json(index)),
        ("oci-layout", canonical_json({"imageLayoutVersion": "1.0.0"})),
    ]


def finish(target, config, layers, repo_tag):
    """Write the config and metadata files of one image into `target` and close it."""
    finish_images(target, [(config, layers, [repo_tag])])


def finish_images(target, images):
    """Write the configs and metadata files of `images` (see metadata_files) and close."""
    written = set()
    for name, data in metadata_files(images):
        if name not in written:
            written.add(name)
            target.add_file(name, data)
    target.close()
    for config, _, repo_tags in images:
        progress.image(", ".join(repo_tags), config)


def digest(data):
    """How layouts and registries name the blob `data`: ``sha256:<hex>``."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def oci_manifest(config, layers):
    """The OCI image manifest (bytes) of the config bytes `config` and of `layers`, each
    with a media_type, a digest and a size (layer.Layer, a registry blob)."""
    return canonical_json({
        "schemaVersion": 2,
        "mediaType": MANIFEST_MEDIA_TYPE,
        "config": {"mediaType": CONFIG_MEDIA_TYPE, "digest": digest(config), "size": len(config)},
        "layers": [{"mediaType": layer.media_type, "digest": layer.digest, "size": layer.size} for layer in layers],
    })


class TarTarget:
    """The image as a tar written to the seekable binary `stream`."""

    def __init__(self, stream, mtime):
        self.stream = stream
        self.mtime = mtime
        self.written = set()
        for directory in ("blobs", "blobs/sha256"):
            self.stream.write(tarwriter.header(directory.encode(), "dir", DIR_MODE, mtime, tarwriter.ROOT))

    def add_streamed_blob(self, write):
        """`write(stream)` writes a layer blob and returns its layer.Layer; returns that. A
        blob the archive holds already (an identical layer) is taken back out."""
        start = self.stream.tell()
        self.stream.write(bytes(tarwriter.BLOCK))
        layer = write(self.stream)
        if layer.digest in self.written:
            self.stream.seek(start)
            self.stream.truncate()
            return layer
        self.stream.write(tarwriter.padding(layer.size))
        end = self.stream.tell()
        self.stream.seek(start)
        name = blob_name(layer.digest).encode()
        self.stream.write(tarwriter.big_header(name, FILE_MODE, self.mtime, tarwriter.ROOT, layer.size))
        self.stream.seek(end)
        self.written.add(layer.digest)
        return layer

    def add_streamed_blobs(self, writers):
        """add_streamed_blob for each of `writers`, one after the other: a tar holds one
        entry after another. Returns their layers."""
        return [self.add_streamed_blob(write) for write in writers]

    def add_blob_file(self, path, layer):
        """Copy the blob file at `path`, whose digest and size `layer` gives."""
        def copy(sink):
            with open(path, "rb") as source:
                shutil.copyfileobj(source, sink, CHUNK)
        self.add_known_blob(layer, copy)

    def add_known_blob(self, layer, write):
        """A blob whose digest and size `layer` gives, written by `write(sink)`; it must write
        exactly that many bytes, which the header has already promised (the stream need not
        be seekable). An identical blob already in the archive is not written again."""
        if layer.digest in self.written:
            return
        self.written.add(layer.digest)
        self.stream.write(tarwriter.big_header(blob_name(layer.digest).encode(), FILE_MODE, self.mtime,
                                               tarwriter.ROOT, layer.size))
        sink = _ExactSink(self.stream, layer)
        write(sink)
        sink.close()
        self.stream.write(tarwriter.padding(layer.size))

    def add_file(self, name, data):
        self.stream.write(tarwriter.header(name.encode(), "file", FILE_MODE, self.mtime, tarwriter.ROOT, size=len(data)))
        self.stream.write(data)
        self.stream.write(tarwriter.padding(len(data)))

    def close(self):
        self.stream.write(tarwriter.END_OF_ARCHIVE)


class _ExactSink:
    """Passes at most `layer.size` bytes to `stream` and checks, when closed, that exactly
    that many with the right digest came: a tar entry cannot take back a promised size."""

    def __init__(self, stream, layer):
        self.layer = layer
        self.written = HashingSink(stream)

    def write(self, data):
        if self.written.size + len(data) > self.layer.size:
            raise StrataError("layer %s: more bytes than the %d recorded" % (self.layer.digest, self.layer.size))
        self.written.write(data)

    def close(self):
        """Check what came (the stream stays open)."""
        if self.written.size != self.layer.size or self.written.digest() != self.layer.digest:
            raise StrataError("layer %s: the blob written is not the one recorded (%d bytes, %s)"
                              % (self.layer.digest, self.written.size, self.written.digest()))


def _write_blob(write, path):
    with open(path, "wb") as stream:
        return write(stream)


class DirTarget:
    """The image as an OCI layout directory at `path`; blobs from files are symlinked, so
    a layout in the Nix store shares its layers with the layer derivations."""

    def __init__(self, path):
        self.path = path
        os.makedirs(os.path.join(path, BLOB_DIR))

    def add_streamed_blobs(self, writers):
        """Write the blobs of `writers` (picklable callables taking a stream and returning a
        layer.Layer) in parallel processes, each into a file of its own; their layers, in
        order. Blobs are separate files here, so nothing is written twice."""
        partials = [os.path.join(self.path, BLOB_DIR, "partial-%d" % index) for index in range(len(writers))]
        if len(writers) > 1 and worker_count() > 1:
            import concurrent.futures  # here, not above: these imports cost every command its start
            import multiprocessing
            context = multiprocessing.get_context("fork")
            with concurrent.futures.ProcessPoolExecutor(worker_count(), mp_context=context,
                                                        initializer=workers.forbid) as pool:
                layers = list(pool.map(_write_blob, writers, partials))
        else:
            layers = [_write_blob(write, partial) for write, partial in zip(writers, partials)]
        for partial, layer in zip(partials, layers):
            os.replace(partial, os.path.join(self.path, blob_name(layer.digest)))
        return layers

    def add_blob_file(self, path, layer):
        target = os.path.join(self.path, blob_name(layer.digest))
        if not os.path.lexists(target):
            os.symlink(path, target)

    def add_file(self, name, data):
        with open(os.path.join(self.path, name), "wb") as stream:
            stream.write(data)

    def close(self):
        for directory, _, files in os.walk(self.path):
            for name in files:
                if not os.path.islink(os.path.join(directory, name)):
                    os.chmod(os.path.join(directory, name), FILE_MODE)
