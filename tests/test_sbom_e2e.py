"""The SBOM of images end to end: built in the sandbox, checked against what Nix says
(nix-store -qR, --hash, --references), against the layers read from the archive, by
spdx-tools and CycloneDX's schema, and rebuilt with --check."""

import json
import os
import subprocess
import tarfile

import pytest

from conftest import REPO, nix_build, run

pytestmark = pytest.mark.e2e

RELEASES = os.path.join(REPO, "tests", "nix", "releases.nix")


def built(attr):
    finished = nix_build(attr, expression=RELEASES)
    assert finished.returncode == 0, finished.stderr
    return finished.stdout.strip()


def documents(attr):
    sbom = built(attr + ".sbom")
    with open(os.path.join(sbom, "spdx.json")) as spdx, open(os.path.join(sbom, "cyclonedx.json")) as cyclonedx:
        return sbom, json.load(spdx), json.load(cyclonedx)


@pytest.fixture(scope="module")
def v1():
    return built("v1"), documents("v1")


def layers_of(archive):
    """{store path: layer digest} and the layer digests of a Docker archive strata wrote,
    read with tarfile alone."""
    held, digests = {}, []
    with tarfile.open(archive) as image:
        index = json.load(image.extractfile("index.json"))
        manifest = json.load(image.extractfile("blobs/sha256/" + index["manifests"][0]["digest"][7:]))
        for layer in manifest["layers"]:
            digests.append(layer["digest"])
            with tarfile.open(fileobj=image.extractfile("blobs/sha256/" + layer["digest"][7:])) as tar:
                for name in tar.getnames():
                    parts = name.lstrip("./").split("/")
                    if parts[:2] == ["nix", "store"] and len(parts) > 2:
                        held["/nix/store/" + parts[2]] = layer["digest"]
    return held, digests, index["manifests"][0]["digest"]


def hex_of(nix_hash):
    return run("nix-hash", "--type", "sha256", "--to-base16", nix_hash.split(":", 1)[1]).strip()


def spdx_store_paths(spdx):
    return {package["packageFileName"]: package for package in spdx["packages"] if "packageFileName" in package}


def components(cyclonedx):
    return {component["bom-ref"]: component for component in cyclonedx["components"]}


def external(package, kind):
    return [ref["referenceLocator"] for ref in package.get("externalRefs", []) if ref["referenceType"] == kind]


def test_one_entry_per_store_path_the_layers_hold_with_nix_hashes_references_and_layers(v1):
    archive, (_, spdx, cyclonedx) = v1
    held, _, manifest_digest = layers_of(archive)
    closure = set(run("nix-store", "-qR", archive).split()) | set(
        run("nix-store", "-qR", *[path for path in held]).split())
    packages, parts = spdx_store_paths(spdx), components(cyclonedx)
    assert set(packages) == set(parts) == set(held) and set(held) <= closure
    assert len(spdx["packages"]) == len(held) + 1 and len(cyclonedx["components"]) == len(held)
    ids = {package["SPDXID"]: path for path, package in packages.items()}
    depends = {(ids[r["spdxElementId"]], ids[r["relatedSpdxElement"]])
               for r in spdx["relationships"] if r["relationshipType"] == "DEPENDS_ON"}
    for path in held:
        nar_hash = hex_of(run("nix-store", "-q", "--hash", path).strip())
        assert packages[path]["checksums"] == [{"algorithm": "SHA256", "checksumValue": nar_hash}]
        assert parts[path]["hashes"] == [{"alg": "SHA-256", "content": nar_hash}]
        assert external(packages[path], "oci-layer") == [held[path]]
        assert {"name": "oci:layer-digest", "value": held[path]} in parts[path]["properties"]
        references = set(run("nix-store", "-q", "--references", path).split()) - {path}
        assert references <= set(held)
        assert {to for source, to in depends if source == path} == references
        assert set(next(d["dependsOn"] for d in cyclonedx["dependencies"] if d["ref"] == path)) == references
    image = cyclonedx["metadata"]["component"]
    assert (image["type"], image["name"], image["version"]) == ("container", "127.0.0.1:5000/releases/app", "1.0")
    assert image["hashes"] == [{"alg": "SHA-256", "content": manifest_digest[7:]}]
    assert spdx["name"] == "127.0.0.1:5000/releases/app:1.0"
    assert spdx["creationInfo"]["created"] == cyclonedx["metadata"]["timestamp"] == "1970-01-01T00:00:01Z"


def test_names_versions_licences_and_sources_as_nix_knows_them(v1):
    _, (_, spdx, cyclonedx) = v1
    by_name = {package["name"]: package for package in spdx_store_paths(spdx).values()}
    parts = {component["name"]: component for component in cyclonedx["components"]}
    assert {name: package.get("versionInfo") for name, package in by_name.items()} == {
        "app": "1.0", "libfoo": "1.0", "dep-old": "0.9", "dep-kept": "3.1.4", "busybox": None, "data.txt": None}
    assert by_name["libfoo"]["licenseDeclared"] == "MIT AND Apache-2.0"
    assert parts["libfoo"]["licenses"] == [{"license": {"id": "MIT"}}, {"license": {"id": "Apache-2.0"}}]
    assert by_name["libfoo"]["homepage"] == "https://example.org/libfoo"
    assert by_name["libfoo"]["description"] == parts["libfoo"]["description"] == "a library the app links"
    assert by_name["app"]["licenseDeclared"] == "LicenseRef-acme-eula"
    assert parts["app"]["licenses"] == [{"license": {"name": "acme-eula"}}]
    assert {info["licenseId"] for info in spdx["hasExtractedLicensingInfos"]} == {"LicenseRef-acme-eula"}
    for unknown in ("busybox", "dep-old", "dep-kept"):
        assert by_name[unknown]["licenseDeclared"] == "NOASSERTION" and "licenses" not in parts[unknown]
    assert by_name["data.txt"]["downloadLocation"] == "https://example.org/data.txt"
    assert [ref["url"] for ref in parts["data.txt"]["externalReferences"]] == ["https://example.org/data.txt"]
    names = {name: run("nix-instantiate", "--eval", "--json", "-E",
                       'builtins.parseDrvName "%s"' % path.split("-", 1)[1]) for name, path in
             ((package["name"], package["packageFileName"]) for package in by_name.values())}
    for name, parsed in names.items():
        assert json.loads(parsed)["name"] in (name, by_name[name]["packageFileName"].split("-", 1)[1])


def validate(sbom):
    checked = subprocess.run(["pyspdxtools", "-i", os.path.join(sbom, "spdx.json")], capture_output=True, text=True)
    assert checked.returncode == 0 and "error" not in (checked.stdout + checked.stderr).lower(), checked.stdout + checked.stderr
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator
    with open(os.path.join(sbom, "cyclonedx.json")) as stream:
        assert JsonStrictValidator(SchemaVersion.V1_5).validate_str(stream.read()) is None


@pytest.mark.parametrize("attr", ["v1", "v1Oci", "v1Stream", "flat", "onBase"])
def test_every_kind_of_image_gets_documents_both_validators_accept_and_check_rebuilds(attr):
    sbom, spdx, cyclonedx = documents(attr)
    validate(sbom)
    assert spdx["packages"] and cyclonedx["components"]
    checked = nix_build(attr + ".sbom", "--check", expression=RELEASES)
    assert checked.returncode == 0, checked.stderr


def test_the_same_store_paths_whatever_the_format(v1):
    _, (_, spdx, _) = v1
    for attr in ("v1Oci", "v1Stream"):
        _, other, _ = documents(attr)
        assert set(spdx_store_paths(other)) == set(spdx_store_paths(spdx))


def test_copy_to_root_items_are_described_as_files_at_root_besides_the_store_paths():
    archive = built("flat")
    _, spdx, cyclonedx = documents("flat")
    held, digests, _ = layers_of(archive)
    packages = spdx_store_paths(spdx)
    roots = {path for path, package in packages.items() if package["SPDXID"].startswith("SPDXRef-CopyToRoot-")}
    assert {path.split("-", 1)[1] for path in roots} == {"app-1.0", "busybox"} - {
        path.split("-", 1)[1] for path in held}
    assert set(packages) - roots == set(held)
    kinds = {component["bom-ref"]: component["type"] for component in cyclonedx["components"]}
    assert {path for path, kind in kinds.items() if kind == "file"} == roots
    assert all(external(packages[path], "oci-layer") == digests[-1:] for path in roots)


def test_over_a_base_only_the_new_layers_paths_are_described_and_the_base_is_named():
    archive = built("onBase")
    _, spdx, cyclonedx = documents("onBase")
    held, digests, _ = layers_of(archive)
    own = {path for path, digest in held.items() if digest == digests[-1]}
    assert "busybox" not in {path.split("-", 1)[1] for path in own}
    assert {path for path, package in spdx_store_paths(spdx).items() if "StorePath" in package["SPDXID"]} == own
    properties = cyclonedx["metadata"]["component"]["properties"]
    assert [p["value"] for p in properties if p["name"] == "oci:base-layer-digest"] == digests[:-1]
    assert digests[0] in spdx["packages"][0]["comment"]


def test_nix_shell_images_have_their_sbom_too():
    finished = nix_build("built.sbom", expression=os.path.join(REPO, "tests", "nix", "nixshell.nix"))
    assert finished.returncode == 0, finished.stderr
    sbom = finished.stdout.strip()
    validate(sbom)
    with open(os.path.join(sbom, "cyclonedx.json")) as stream:
        assert any(component["name"] == "bash" or "hello" in component["name"]
                   for component in json.load(stream)["components"])
