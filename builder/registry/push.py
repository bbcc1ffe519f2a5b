"""Pushing one image: each blob the registry has already is skipped, one another repository
of the same registry holds (``--from``, or the record of where strata pushed it before) is
mounted, the rest uploaded, PARALLEL blobs at once; then the manifest, under the tag, and the
image's SBOM attached to it (see referrers). A blob that fails stops the push before the
manifest: nothing half-pushed is tagged.

The destination is checked whole before any connection, and every line said and every
error raised passes through the secrets' redaction. Progress goes to stderr, a line a blob.
"""

import concurrent.futures
import threading

from . import credentials, docker, locations, reference, referrers, transport
from ..core import progress
from ..core.errors import StrataError
from ..image.imageformats import INDEX_MEDIA_TYPE, MANIFEST_MEDIA_TYPE, digest
from .client import Registry
from .secrets import Secrets
from .sources import Index

PARALLEL = 4
"""Blobs pushed at once, each on a connection of its own."""
TIME_BOUND = 600
"""Seconds a push may take, besides its blobs' time at transport.MIN_RATE."""


def push(image, destination, creds=None, tls_verify=True, mount_from=(), record=None, sbom=None):
    """Push `image` (a sources.Image, or a sources.Index of them) to `destination`,
    ``[docker://]HOST[:PORT]/REPOSITORY[:TAG]``; `mount_from`, repositories of the same
    registry to mount shared blobs from, before those `record` (a locations.Record; the
    user's by default) names. An index's images go first, each manifest by its digest,
    then the index under the tag. Manifests go as built (OCI); to a registry that refuses
    those, as Docker's (schema 2, a manifest list for an index), whose digests then differ.
    `sbom`, the directory of the image's SBOM documents, attached to it as OCI artifacts
    (see referrers), where the registry takes OCI manifests."""
    target = reference.parse(destination)
    user = credentials.find(target.host, creds)
    secrets = Secrets(user)
    blobs = _blobs_of(image)
    try:
        _push(image, blobs, target, Registry(target.host, target.repository, user, tls_verify,
                                             lambda line: progress.say(secrets.redact(line)), secrets,
                                             TIME_BOUND + sum(blob.size for blob in blobs) / transport.MIN_RATE),
              mount_from, record or locations.Record(locations.default_file()), sbom)
    except StrataError as error:
        raise StrataError(secrets.redact(str(error))) from None


def _push(image, blobs, target, registry, mount_from, record, sbom):
    members = image.images if isinstance(image, Index) else [image]
    sent, skipped = _push_blobs(registry, blobs, list(mount_from), record)
    manifests = [(member.manifest, MANIFEST_MEDIA_TYPE) for member in members]
    top = (image.index, INDEX_MEDIA_TYPE) if isinstance(image, Index) else manifests[0]
    if not _put_all(registry, manifests, top, target.tag, image):
        registry.say("%s: the registry refuses OCI manifests; sending Docker's" % registry.where())
        manifests = [(docker.manifest(data), docker.MANIFEST) for data, _ in manifests]
        top = (docker.manifest_list(image.index, manifests), docker.MANIFEST_LIST) if isinstance(image, Index) \
            else manifests[0]
        if not _put_all(registry, manifests, top, target.tag, image):
            raise StrataError("%s: the registry refuses the manifest, OCI and Docker's alike, as invalid"
                              % registry.where())
    if sbom and top[1] in (MANIFEST_MEDIA_TYPE, INDEX_MEDIA_TYPE):
        referrers.attach_all(registry, manifests, sbom)
    elif sbom:
        registry.say("%s: the registry takes no OCI manifests, so no SBOM artifacts either: the SBOM is not attached"
                     % registry.where())
    record.add(target.host, target.repository, [blob.digest for blob in blobs])
    registry.say("%s:%s pushed: %s uploaded, %s there already"
                 % (registry.where(), target.tag, progress.size_text(sent), progress.size_text(skipped)))


def _blobs_of(image):
    """The distinct blobs of `image`, layers first."""
    blobs = {}
    for member in image.images if isinstance(image, Index) else [image]:
        for blob in member.layers + [member.config]:
            blobs.setdefault(blob.digest, blob)
    return list(blobs.values())


def _put_all(registry, manifests, top, tag, image):
    """Put an index's manifests by digest, then `top` under the tag; False at a refusal."""
    if isinstance(image, Index):
        for data, media_type in manifests:
            if not registry.put_manifest(digest(data), data, media_type):
                return False
    return registry.put_manifest(tag, *top)


def _push_blobs(registry, blobs, mount_from, record):
    """Push the blobs the registry lacks; (bytes sent, bytes it had). Blobs a stream
    regenerates go one by one first, before any thread starts (the command's worker
    processes, forked by the first, serve one blob at a time); the others PARALLEL at once.
    After a failure no other blob starts, and the first failure is raised."""
    failed = threading.Event()

    def one(number, blob):
        if failed.is_set():
            return 0, 0
        try:
            return _push_blob(registry, blob, "blob %d/%d %s (%s)" % (
                number, len(blobs), blob.digest[7:19], progress.size_text(blob.size)),
                mount_from + [other for other in record.places(registry.host, blob.digest)
                              if other != registry.repository and other not in mount_from])
        except BaseException:
            failed.set()
            raise
    numbered = list(enumerate(blobs, 1))
    results = [one(number, blob) for number, blob in numbered if blob.regenerated]
    with concurrent.futures.ThreadPoolExecutor(PARALLEL) as pool:
        futures = [pool.submit(one, number, blob) for number, blob in numbered if not blob.regenerated]
    results += [future.result() for future in futures]
    return sum(sent for sent, _ in results), sum(had for _, had in results)


def _push_blob(registry, blob, what, mount_from):
    """Push one blob unless the registry has it; (bytes sent, bytes it had)."""
    if registry.has_blob(blob.digest, blob.size):
        registry.say("%s: %s is there already" % (registry.where(), what))
        return 0, blob.size
    for other in mount_from:
        if registry.mount(blob.digest, other):
            registry.say("%s: %s mounted from %s" % (registry.where(), what, other))
            return 0, blob.size
    registry.upload(blob.digest, blob.size, blob.chunks)
    registry.say("%s: %s uploaded" % (registry.where(), what))
    return blob.size, 0
