"""Pushing one image: each blob the registry has already is skipped, one another repository
of the same registry has (``--from``) is mounted, the rest uploaded; then the manifest, under
the tag. A blob that fails stops the push before the manifest: nothing half-pushed is tagged.
Progress goes to stderr, a line a blob."""

from .. import progress
from ..errors import StrataError
from ..imageformats import MANIFEST_MEDIA_TYPE
from . import credentials
from .client import Registry


def push(image, destination, creds=None, tls_verify=True, mount_from=()):
    """Push `image` (a sources.Image) to `destination`, ``HOST[:PORT]/REPOSITORY:TAG``;
    `mount_from`, repositories of the same registry to mount shared blobs from."""
    host, repository, tag = parse(destination)
    registry = Registry(host, repository, credentials.find(host, creds), tls_verify, say=progress.say)
    blobs = image.layers + [image.config]
    sent = skipped = 0
    for number, blob in enumerate(blobs, 1):
        what = "blob %d/%d %s (%s)" % (number, len(blobs), blob.digest[7:19], _size(blob.size))
        if registry.has_blob(blob.digest):
            skipped += blob.size
            progress.say("%s: %s is there already" % (registry.where(), what))
            continue
        if any(registry.mount(blob.digest, other) for other in mount_from):
            skipped += blob.size
            progress.say("%s: %s mounted from another repository" % (registry.where(), what))
            continue
        registry.upload(blob.digest, blob.size, blob.chunks)
        sent += blob.size
        progress.say("%s: %s uploaded" % (registry.where(), what))
    registry.put_manifest(tag, image.manifest, MANIFEST_MEDIA_TYPE)
    progress.say("%s:%s pushed: %s uploaded, %s there already" % (registry.where(), tag, _size(sent), _size(skipped)))


def parse(destination):
    """(host, repository, tag) of ``[docker://]HOST[:PORT]/REPOSITORY[:TAG]`` (tag latest)."""
    reference = destination[len("docker://"):] if destination.startswith("docker://") else destination
    host, slash, rest = reference.partition("/")
    if not slash or not rest or not ("." in host or ":" in host or host == "localhost"):
        raise StrataError("%s: not a registry destination (docker://HOST[:PORT]/REPOSITORY:TAG)" % destination)
    repository, colon, tag = rest.rpartition(":") if ":" in rest.rsplit("/", 1)[-1] else (rest, "", "latest")
    if "@" in rest:
        raise StrataError("%s: push to a tag, not a digest" % destination)
    return host, repository, tag


def _size(size):
    return "%.1f MB" % (size / 1e6) if size >= 100000 else "%d bytes" % size
