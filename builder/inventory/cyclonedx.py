"""An Sbom as a CycloneDX 1.5 JSON document.

The image is the metadata's component (type ``container``); each store path a component
(type ``library``; a copyToRoot item's files, type ``file``) whose bom-ref is its store
path, with its NAR hash as a SHA-256 hash and the properties ``nix:store-path`` and
``oci:layer-digest``; each component's dependencies are the store paths it refers to. The
serial number is derived from the image's digest, so the same image has the same one.
"""

import uuid

from .sbom import homepage, licences, source
from .spdx import oci_purl

IMAGE = "image"


def document(sbom):
    identity = sbom.manifest_digest or sbom.config_digest
    image = {"type": "container", "bom-ref": IMAGE, "name": sbom.name or "image",
             "properties": [{"name": "oci:config-digest", "value": sbom.config_digest}]}
    if sbom.tag:
        image["version"] = sbom.tag
    if sbom.manifest_digest:
        image["purl"] = oci_purl(sbom)
        image["hashes"] = [{"alg": "SHA-256", "content": sbom.manifest_digest[7:]}]
    image["properties"] += [{"name": "oci:base-layer-digest", "value": digest} for digest in sbom.base_layers]
    image["properties"] += [{"name": "oci:base-image", "value": tag} for tag in sbom.base_tags]
    return {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "serialNumber": "urn:uuid:%s" % uuid.uuid5(uuid.NAMESPACE_URL, "strata:" + identity),
        "version": 1,
        "metadata": {
            "timestamp": sbom.created,
            "tools": {"components": [{"type": "application", "name": "strata"}]},
            "component": image,
        },
        "components": [_component(package) for package in sbom.packages],
        "dependencies": [{"ref": package.path, "dependsOn": package.references} for package in sbom.packages],
    }


def _component(package):
    facts = package.facts
    component = {
        "type": "library" if package.in_store else "file",
        "bom-ref": package.path,
        "name": package.name,
        "properties": [{"name": "nix:store-path", "value": package.path},
                       {"name": "oci:layer-digest", "value": package.layer}],
    }
    if package.version:
        component["version"] = package.version
    if package.nar_hash:
        component["hashes"] = [{"alg": "SHA-256", "content": package.nar_hash}]
    found = [{"license": {"id": spdx_id} if spdx_id else {"name": name}} for spdx_id, name in licences(facts)]
    if found:
        component["licenses"] = found
    if isinstance(facts.get("description"), str) and facts["description"]:
        component["description"] = facts["description"]
    references = []
    site = homepage(facts)
    if site:
        references.append({"type": "website", "url": site})
    origin = source(facts)
    if origin.download:
        references.append({"type": "distribution", "url": origin.download,
                           "comment": "where Nix fetches it or its source" + (
                               ", output hash %s" % origin.hash if origin.hash else "")})
    if references:
        component["externalReferences"] = references
    if not package.in_store:
        component["description"] = component.get("description") or "files copied to / of the image (copyToRoot)"
    return component
