"""Pushing one image: each blob the registry has already is skipped, one another repository
of the same registry has (``--from``) is mounted, the rest uploaded; then the manifest, under
the tag. A blob that fails stops the push before the manifest: nothing half-pushed is tagged.
Progress goes to stderr, a line a blob."""

from .. import progress
from ..errors import StrataError
from ..imageformats import INDEX_MEDIA_TYPE, MANIFEST_MEDIA_TYPE, digest
from . import credentials, docker
from .client import Registry
from .sources import Index


def push(image, destination, creds=None, tls_verify=True, mount_from=()):
    """Push `image` (a sources.Image, or a sources.Index of them) to `destination`,
    ``HOST[:PORT]/REPOSITORY:TAG``; `mount_from`, repositories of the same registry to mount
    shared blobs from. An index's images go first, each manifest by its digest, then the
    index under the tag. Manifests go as built (OCI); to a registry that refuses those, as
    Docker's (schema 2, a manifest list for an index), whose digests then differ."""
    host, repository, tag = parse(destination)
    registry = Registry(host, repository, credentials.find(host, creds), tls_verify, say=progress.say)
    members = image.images if isinstance(image, Index) else [image]
    sent = skipped = 0
    for member in members:
        more_sent, more_skipped = _blobs(registry, member, mount_from)
        sent, skipped = sent + more_sent, skipped + more_skipped
    manifests = [(member.manifest, MANIFEST_MEDIA_TYPE) for member in members]
    top = (image.index, INDEX_MEDIA_TYPE) if isinstance(image, Index) else manifests[0]
    if not _put_all(registry, manifests, top, tag, image):
        progress.say("%s: the registry refuses OCI manifests; sending Docker's" % registry.where())
        manifests = [(docker.manifest(data), docker.MANIFEST) for data, _ in manifests]
        top = (docker.manifest_list(image.index, manifests), docker.MANIFEST_LIST) if isinstance(image, Index) \
            else manifests[0]
        if not _put_all(registry, manifests, top, tag, image):
            raise StrataError("%s: the registry refuses the manifest, OCI and Docker's alike" % registry.where())
    progress.say("%s:%s pushed: %s uploaded, %s there already"
                 % (registry.where(), tag, progress.size_text(sent), progress.size_text(skipped)))


def _put_all(registry, manifests, top, tag, image):
    """Put an index's manifests by digest, then `top` under the tag; False at a refusal."""
    if isinstance(image, Index):
        for data, media_type in manifests:
            if not registry.put_manifest(digest(data), data, media_type):
                return False
    return registry.put_manifest(tag, *top)


def _blobs(registry, image, mount_from):
    """Push the blobs of `image` the registry lacks; (bytes sent, bytes it had)."""
    blobs = image.layers + [image.config]
    sent = skipped = 0
    for number, blob in enumerate(blobs, 1):
        what = "blob %d/%d %s (%s)" % (number, len(blobs), blob.digest[7:19], progress.size_text(blob.size))
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
    return sent, skipped


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

