"""An Sbom as an SPDX 2.3 JSON document.

The image is a package (``SPDXRef-Image``) the document describes and that CONTAINS every
other; each store path is a package with its store path as ``packageFileName`` and an
external reference (category OTHER, type ``nix-store-path``), its NAR hash as a SHA256
checksum, the layer holding it as an external reference of type ``oci-layer``, and a
DEPENDS_ON relationship to each store path it refers to. Licences without an SPDX id are
``LicenseRef-`` ids, declared with their names.
"""

import hashlib
import re
import urllib.parse

from .names import hash_part
from .sbom import homepage, licences, source

NO_ASSERTION = "NOASSERTION"
IMAGE = "SPDXRef-Image"


def document(sbom):
    refs = licence_refs(sbom.packages)
    packages = [_image(sbom)] + [_package(package, refs) for package in sbom.packages]
    relationships = [_relation("SPDXRef-DOCUMENT", "DESCRIBES", IMAGE)]
    relationships += [_relation(IMAGE, "CONTAINS", package_id(package.path, package.in_store))
                      for package in sbom.packages]
    relationships += [_relation(package_id(package.path, package.in_store), "DEPENDS_ON", package_id(reference, True))
                      for package in sbom.packages for reference in package.references]
    result = {
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": _image_reference(sbom),
        "documentNamespace": "https://strata.invalid/spdx/%s/%s" % (
            urllib.parse.quote(sbom.name or "image", safe=""), sbom.manifest_digest or sbom.config_digest),
        "creationInfo": {"created": sbom.created, "creators": ["Tool: strata"]},
        "documentDescribes": [IMAGE],
        "packages": packages,
        "relationships": relationships,
    }
    if refs:
        result["hasExtractedLicensingInfos"] = [
            {"licenseId": ref, "name": name, "extractedText": "The licence Nix's meta.license names %s." % name}
            for name, ref in sorted(refs.items(), key=lambda item: item[1])]
    return result


def package_id(path, in_store):
    return "SPDXRef-%s-%s" % ("StorePath" if in_store else "CopyToRoot", hash_part(path))


def _image(sbom):
    comment = ["config %s" % sbom.config_digest]
    if sbom.manifest_digest:
        comment.append("manifest %s" % sbom.manifest_digest)
    if sbom.base_layers:
        comment.append("over the base image %s, whose layers are %s (their store paths are not described here)"
                       % (", ".join(sbom.base_tags) or "(untagged)", ", ".join(sbom.base_layers)))
    package = {
        "SPDXID": IMAGE,
        "name": sbom.name or "image",
        "versionInfo": sbom.tag,
        "downloadLocation": NO_ASSERTION,
        "filesAnalyzed": False,
        "primaryPackagePurpose": "CONTAINER",
        "licenseConcluded": NO_ASSERTION,
        "licenseDeclared": NO_ASSERTION,
        "copyrightText": NO_ASSERTION,
        "comment": "; ".join(comment),
        "checksums": [{"algorithm": "SHA256", "checksumValue": (sbom.manifest_digest or sbom.config_digest)[7:]}],
    }
    if sbom.manifest_digest:
        package["externalRefs"] = [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl",
                                    "referenceLocator": oci_purl(sbom)}]
    return package


def oci_purl(sbom):
    """The image's package URL (purl type ``oci``): its last name component at its manifest
    digest, with the repository and tag it was built for."""
    last = (sbom.name or "image").rpartition("/")[2]
    qualifiers = "repository_url=%s" % urllib.parse.quote(sbom.name, safe="/:") if sbom.name else ""
    if sbom.tag:
        qualifiers += ("&" if qualifiers else "") + "tag=" + urllib.parse.quote(sbom.tag, safe="")
    return "pkg:oci/%s@%s%s" % (last, urllib.parse.quote(sbom.manifest_digest, safe=""),
                                "?" + qualifiers if qualifiers else "")


def _package(package, refs):
    facts = package.facts
    origin = source(facts)
    declared = [spdx_id or refs[name] for spdx_id, name in licences(facts)]
    result = {
        "SPDXID": package_id(package.path, package.in_store),
        "name": package.name,
        "packageFileName": package.path,
        "downloadLocation": origin.download or NO_ASSERTION,
        "filesAnalyzed": False,
        "licenseConcluded": NO_ASSERTION,
        "licenseDeclared": " AND ".join(declared) if declared else NO_ASSERTION,
        "copyrightText": NO_ASSERTION,
        "externalRefs": [
            {"referenceCategory": "OTHER", "referenceType": "nix-store-path", "referenceLocator": package.path},
            {"referenceCategory": "OTHER", "referenceType": "oci-layer", "referenceLocator": package.layer},
        ],
    }
    if package.version:
        result["versionInfo"] = package.version
    if package.nar_hash:
        result["checksums"] = [{"algorithm": "SHA256", "checksumValue": package.nar_hash}]
    site = homepage(facts)
    if site:
        result["homepage"] = site
    if isinstance(facts.get("description"), str) and facts["description"]:
        result["description"] = facts["description"]
    if origin.url or origin.hash:
        result["sourceInfo"] = "fetched by Nix from %s%s" % (
            origin.url or "(a URL it does not say)", ", output hash %s" % origin.hash if origin.hash else "")
    if not package.in_store:
        result["comment"] = "the files of %s, copied to / of the image (copyToRoot)" % package.path
    return result


def licence_refs(packages):
    """{licence name: its LicenseRef- id} for the licences without an SPDX id: the name with
    what an id may not hold made dashes; a name that leaves nothing, or the same id as
    another name, gets a part of its hash besides."""
    refs = {}
    names = sorted({name for package in packages for spdx_id, name in licences(package.facts) if not spdx_id})
    for name in names:
        ref = "LicenseRef-" + (re.sub(r"[^A-Za-z0-9.]+", "-", name).strip("-.") or "unnamed")
        if ref in refs.values() or ref == "LicenseRef-unnamed":
            ref += "-" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:8]
        refs[name] = ref
    return refs


def _image_reference(sbom):
    return "%s:%s" % (sbom.name, sbom.tag) if sbom.tag else sbom.name or "image"


def _relation(element, kind, related):
    return {"spdxElementId": element, "relationshipType": kind, "relatedSpdxElement": related}
