"""An image's SBOM documents as OCI 1.1 artifacts that refer to the image, pushed and
fetched.

Each document is a manifest whose ``artifactType`` says what it is, whose one layer is the
document and whose ``subject`` is the image's manifest; its config is OCI's empty
descriptor. A registry that has the referrers API says so when it takes the manifest (the
``OCI-Subject`` header) and lists it itself; for one without (distribution 2.8), the
referrers tag schema of the distribution spec: the tag ``sha256-<hex of the subject's
digest>`` holds an image index of the referring manifests, each descriptor with its
``artifactType``, to which a push adds its own. Each SBOM goes to the manifest it names
(a multi-platform image's to each platform's manifest).
"""

import io
import json
import os

from ..core.errors import StrataError
from ..image.imageconfig import canonical_json
from ..image.imageformats import INDEX_MEDIA_TYPE, MANIFEST_MEDIA_TYPE, digest
from .reading import platform_manifest

DOCUMENTS = {"spdx": ("spdx.json", "application/spdx+json"),
             "cyclonedx": ("cyclonedx.json", "application/vnd.cyclonedx+json")}
"""The SBOM formats: the file in an image's ``sbom`` and the artifact type it is pushed as."""
EMPTY = b"{}"
EMPTY_MEDIA_TYPE = "application/vnd.oci.empty.v1+json"
LARGEST = 256 << 20
"""The largest document fetched: an SBOM of a hundred thousand store paths is far smaller."""


def attach_all(registry, manifests, sbom_directory):
    """Attach to each pushed manifest ((bytes, media type), a multi-platform image's each
    platform's) the SBOM in `sbom_directory` or one of its subdirectories (a multi-platform
    image's `sbom`) that names that manifest: an SBOM is never attached to another image."""
    found = {}
    for directory in [sbom_directory] + sorted(
            os.path.join(sbom_directory, name) for name in os.listdir(sbom_directory)):
        described = _described(directory)
        if described:
            found.setdefault(described, directory)
    for manifest, media_type in manifests:
        directory = found.get(digest(manifest))
        if directory:
            attach(registry, manifest, media_type, directory)
        else:
            registry.say("%s: no SBOM names %s; none attached to it" % (registry.where(), digest(manifest)[:19]))


def _described(directory):
    """The manifest digest the SBOM in `directory` describes (its CycloneDX document's image
    hash), or None where there is no SBOM there."""
    try:
        with open(os.path.join(directory, DOCUMENTS["cyclonedx"][0]), "rb") as stream:
            image = json.load(stream)["metadata"]["component"]
        return "sha256:" + next(entry["content"] for entry in image.get("hashes") or [] if entry["alg"] == "SHA-256")
    except (OSError, ValueError, KeyError, TypeError, StopIteration):
        return None


def attach(registry, subject, media_type, sbom_directory):
    """Push the documents in `sbom_directory` as artifacts referring to the manifest
    `subject` (bytes) of `media_type`; the tag of the referrers tag schema where the
    registry lists no referrers itself."""
    described = {"mediaType": media_type, "digest": digest(subject), "size": len(subject)}
    pushed, listed = [], True
    _send(registry, EMPTY)  # the config of every artifact
    for _, (name, artifact_type) in sorted(DOCUMENTS.items()):
        with open(os.path.join(sbom_directory, name), "rb") as stream:
            document = stream.read()
        _send(registry, document)
        manifest = artifact_manifest(document, artifact_type, described)
        listed = registry.put_referrer(manifest) and listed
        pushed.append({"mediaType": MANIFEST_MEDIA_TYPE, "digest": digest(manifest), "size": len(manifest),
                       "artifactType": artifact_type})
    if not listed:
        tag = referrers_tag(described["digest"])
        earlier = registry.get_manifest(tag, missing_ok=True)
        kept = [entry for entry in _manifests(earlier[0]) if entry.get("digest") not in
                {item["digest"] for item in pushed}] if earlier else []
        index = canonical_json({"schemaVersion": 2, "mediaType": INDEX_MEDIA_TYPE, "manifests": kept + pushed})
        if not registry.put_manifest(tag, index, INDEX_MEDIA_TYPE):
            raise StrataError("%s: the registry refuses the image index of the referrers tag %s"
                              % (registry.where(), tag))
    registry.say("%s: the SBOM (SPDX, CycloneDX) attached to %s%s" % (
        registry.where(), described["digest"][:19], "" if listed else ", listed under the tag " + tag[:19] + "..."))


def _send(registry, blob):
    """Upload the small blob `blob` (bytes) unless the registry has it."""
    if not registry.has_blob(digest(blob), len(blob)):
        registry.upload(digest(blob), len(blob), lambda: iter([blob]))


def artifact_manifest(document, artifact_type, subject):
    return canonical_json({
        "schemaVersion": 2,
        "mediaType": MANIFEST_MEDIA_TYPE,
        "artifactType": artifact_type,
        "config": {"mediaType": EMPTY_MEDIA_TYPE, "digest": digest(EMPTY), "size": len(EMPTY)},
        "layers": [{"mediaType": artifact_type, "digest": digest(document), "size": len(document)}],
        "subject": subject,
    })


def referrers_tag(subject_digest):
    algorithm, _, encoded = subject_digest.partition(":")
    return "%s-%s" % (algorithm, encoded)


def fetch(registry, reference, kind, architecture):
    """The SBOM document (bytes) of `kind` (spdx or cyclonedx) attached to the image
    `reference` (a tag or digest) in `registry`; of a multi-platform image, to its manifest
    for linux on `architecture`."""
    subject, _ = platform_manifest(registry, reference, "linux", architecture)
    subject_digest = digest(subject)
    listing = registry.get_referrers(subject_digest)
    if listing is None:
        tagged = registry.get_manifest(referrers_tag(subject_digest), missing_ok=True)
        listing = tagged[0] if tagged else None
    artifact_type = DOCUMENTS[kind][1]
    found = [entry for entry in _manifests(listing) if entry.get("artifactType") == artifact_type]
    if not found:
        raise StrataError("%s:%s (%s) has no %s SBOM attached (push it with copyToRegistry, without --no-sbom)"
                          % (registry.where(), reference, subject_digest, artifact_type))
    manifest = json.loads(registry.get_manifest(found[-1]["digest"])[0])
    layers = manifest.get("layers") or []
    if not layers or not isinstance(layers[0], dict) or not isinstance(layers[0].get("size"), int) \
            or not 0 <= layers[0]["size"] <= LARGEST:
        raise StrataError("%s: the artifact %s holds no document" % (registry.where(), found[-1]["digest"]))
    buffer = io.BytesIO()
    registry.get_blob(layers[0]["digest"], layers[0]["size"], buffer)
    return buffer.getvalue()


def _manifests(listing):
    """The descriptors an image index (bytes, or None) lists."""
    try:
        entries = json.loads(listing).get("manifests") if listing else None
    except (ValueError, AttributeError, RecursionError):
        entries = None
    return [entry for entry in entries if isinstance(entry, dict)] if isinstance(entries, list) else []
