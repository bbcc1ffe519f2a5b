"""Reading images back from registries that lie, stall or echo secrets: `strata inspect` and
`strata sbom` against small servers of the tests' own (tests/servers.py), each failure one
line naming what was wrong, with no secret in it."""

import gzip
import hashlib
import io
import json
import tarfile
import time

import pytest

from builder.inspection import cli
from builder.registry import client, transport
from servers import Server

PASSWORD = "pw-S3cret/+=&x"
CREDS = "ship:" + PASSWORD


def digest(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def layer():
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo("nix/store/aaaa-hello/bin/hello")
        info.size = 5
        tar.addfile(info, io.BytesIO(b"hello"))
    return buffer.getvalue()


TAR = layer()
BLOB = gzip.compress(TAR, mtime=0)
CONFIG = json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                     "rootfs": {"type": "layers", "diff_ids": [digest(TAR)]}}).encode()
MANIFEST = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                       "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": digest(CONFIG),
                                  "size": len(CONFIG)},
                       "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": digest(BLOB),
                                   "size": len(BLOB)}]}).encode()


def registry(blob=BLOB, manifest=MANIFEST, referrers=None, slow=False, echo=False):
    """A registry serving the one image app:1 (its answers as given), a 404 that echoes the
    request's credentials where `echo`, a blob that trickles where `slow`."""
    def respond(handler, body):
        path = handler.path
        if echo:
            return 404, [("Content-Type", "application/json")], json.dumps({"errors": [{
                "code": "NAME_UNKNOWN", "message": "no %s for %s (%s)" % (path, handler.headers.get("Authorization"),
                                                                          PASSWORD)}]}).encode()
        if path.endswith("/manifests/1") or path.endswith("/manifests/" + digest(MANIFEST)):
            return 200, [("Content-Type", "application/vnd.oci.image.manifest.v1+json")], manifest
        if "/referrers/" in path:
            return 404, [], b""
        if "/manifests/sha256-" in path:
            return (200, [("Content-Type", "application/vnd.oci.image.index.v1+json")], referrers) if referrers \
                else (404, [], b"")
        if path.endswith("/blobs/" + digest(CONFIG)):
            return 200, [], CONFIG
        if path.endswith("/blobs/" + digest(BLOB)):
            if slow:
                handler.send_response(200)
                handler.send_header("Content-Length", str(len(blob)))
                handler.end_headers()
                for byte in blob:
                    handler.wfile.write(bytes([byte]))
                    handler.wfile.flush()
                    time.sleep(0.5)
                return None
            return 200, [], blob
        return 404, [], b""
    return Server(respond)


def strata(capsys, *argv):
    status = cli.main([str(argument) for argument in argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def one_error(said, fragment):
    lines = said.splitlines()
    assert len(lines) == 1 and lines[0].startswith("strata: error:") and fragment in lines[0], said
    assert PASSWORD not in said and "pw-S3cret" not in said


@pytest.fixture(autouse=True)
def quick(monkeypatch):
    monkeypatch.setattr(client, "FIRST_WAIT", 0.01)


def test_an_honest_registry_is_read(capsys):
    with registry() as server:
        status, out, err = strata(capsys, "inspect", "docker://%s/app:1" % server.address, "--tls-verify=false",
                                  "--json")
    assert status == 0, err
    read = json.loads(out)
    assert read["layers"][0]["storePaths"] == ["/nix/store/aaaa-hello"] and read["manifestDigest"] == digest(MANIFEST)


def test_a_blob_longer_than_the_manifest_says_is_cut_and_refused(capsys):
    with registry(blob=BLOB + b"\0" * 100000) as server:
        status, _, err = strata(capsys, "inspect", "docker://%s/app:1" % server.address, "--tls-verify=false")
    assert status == 1
    one_error(err, "more than the blob's %d bytes" % len(BLOB))


def test_a_blob_of_other_bytes_is_refused_naming_its_digest(capsys):
    with registry(blob=b"x" * len(BLOB)) as server:
        status, _, err = strata(capsys, "inspect", "docker://%s/app:1" % server.address, "--tls-verify=false")
    assert status == 1
    one_error(err, "the blob %s came back" % digest(BLOB))


def test_a_manifest_of_other_bytes_than_its_digest_is_refused(capsys):
    with registry(manifest=MANIFEST + b" ") as server:
        status, _, err = strata(capsys, "inspect", "docker://%s/app@%s" % (server.address, digest(MANIFEST)),
                                "--tls-verify=false")
    assert status == 1
    one_error(err, "answered the manifest %s with other bytes" % digest(MANIFEST))


def test_what_a_registry_echoes_is_printed_without_the_secrets(capsys):
    with registry(echo=True) as server:
        status, _, err = strata(capsys, "inspect", "docker://%s/app:1" % server.address, "--tls-verify=false",
                                "--creds", CREDS)
    assert status == 1
    one_error(err, "<redacted>")


def test_a_blob_that_trickles_is_cut_at_the_time_bound(capsys, monkeypatch):
    monkeypatch.setattr(transport, "REQUEST_TIME", 1)
    started = time.monotonic()
    with registry(slow=True) as server:
        status, _, err = strata(capsys, "inspect", "docker://%s/app:1" % server.address, "--tls-verify=false")
    assert status == 1 and time.monotonic() - started < 20
    one_error(err, "no whole answer within")


@pytest.mark.parametrize("listing", [b"not json", b'{"manifests": 7}', b'{"manifests": ["x", {"artifactType": 3}]}',
                                     b"[" * 100000])
def test_a_hostile_referrers_listing_is_no_sbom_in_one_line(capsys, listing):
    with registry(referrers=listing) as server:
        status, out, err = strata(capsys, "sbom", "docker://%s/app:1" % server.address, "--tls-verify=false")
    assert status == 1 and out == ""
    one_error(err, "has no application/spdx+json SBOM attached")


def storing(stored, referrers_api):
    """A registry keeping what is pushed in `stored` (name or digest: bytes), answering
    OCI-Subject and the referrers API where `referrers_api`."""
    def respond(handler, body):
        path, method = handler.path.split("?")[0], handler.command
        name = path.rsplit("/", 1)[-1]
        if method == "HEAD" and "/blobs/" in path:
            return (200, [("Content-Length", str(len(stored[name])))], b"") if name in stored else (404, [], b"")
        if method == "POST":
            return 202, [("Location", "/v2/app/blobs/uploads/one")], b""
        if method == "PUT" and "/blobs/uploads/" in path:
            digest_ = handler.path.split("digest=")[1].replace("%3A", ":")
            stored[digest_] = body
            return 201, [("Docker-Content-Digest", digest_)], b""
        if method == "PUT" and "/manifests/" in path:
            stored[name] = body
            document = json.loads(body)
            headers = [("Docker-Content-Digest", digest(body))]
            if referrers_api and "subject" in document:
                headers.append(("OCI-Subject", document["subject"]["digest"]))
            return 201, headers, b""
        if method == "GET" and "/referrers/" in path:
            listed = [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": digest(data),
                       "size": len(data), "artifactType": json.loads(data)["artifactType"]}
                      for data in stored.values() if data.startswith(b"{") and b'"subject"' in data]
            return 200, [("Content-Type", "application/vnd.oci.image.index.v1+json")], json.dumps(
                {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": listed}).encode()
        if method == "GET":
            return (200, [], stored[name]) if name in stored else (404, [], b"")
        return 404, [], b""
    return respond


def test_a_registry_with_the_referrers_api_lists_the_sbom_itself(tmp_path, capsys, monkeypatch):
    """Pushed to a registry that answers OCI-Subject (distribution 3, zot): no referrers tag;
    `strata sbom` then finds the documents through the referrers API."""
    from builder.registry import push, sources
    from servers import tiny_layout
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    layout = tmp_path / "image"
    subject = tiny_layout(str(layout))
    sbom = tmp_path / "sbom"
    sbom.mkdir()
    (sbom / "spdx.json").write_bytes(b'{"spdxVersion": "SPDX-2.3"}\n')
    cyclonedx = json.dumps({"bomFormat": "CycloneDX", "metadata": {"component": {
        "hashes": [{"alg": "SHA-256", "content": subject[7:]}]}}}) + "\n"
    (sbom / "cyclonedx.json").write_text(cyclonedx)
    stored = {}
    with Server(storing(stored, referrers_api=True)) as server:
        push.push(sources.open_image(str(layout)), "docker://%s/app:1" % server.address, tls_verify=False,
                  sbom=str(sbom))
        capsys.readouterr()
        status, out, err = strata(capsys, "sbom", "docker://%s/app:1" % server.address, "--tls-verify=false",
                                  "--format", "cyclonedx")
        tags = [path for method, path, _ in server.requests if method == "PUT" and "/manifests/sha256-" in path]
    assert status == 0, err
    assert out == cyclonedx and tags == [], "no referrers tag where the registry lists them"
    assert digest(stored["1"]) == subject


def test_an_sbom_of_another_image_is_never_attached(tmp_path, capsys, monkeypatch):
    from builder.registry import push, sources
    from servers import tiny_layout
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    layout = tmp_path / "image"
    tiny_layout(str(layout))
    sbom = tmp_path / "sbom"
    sbom.mkdir()
    (sbom / "spdx.json").write_text("{}")
    (sbom / "cyclonedx.json").write_text(json.dumps({"metadata": {"component": {
        "hashes": [{"alg": "SHA-256", "content": "0" * 64}]}}}))
    stored = {}
    with Server(storing(stored, referrers_api=False)) as server:
        push.push(sources.open_image(str(layout)), "docker://%s/app:1" % server.address, tls_verify=False,
                  sbom=str(sbom))
        puts = [path for method, path, _ in server.requests if method == "PUT" and "/manifests/" in path]
    assert puts == ["/v2/app/manifests/1"] and "no SBOM names" in capsys.readouterr().err
    assert not any(b'"subject"' in data for data in stored.values())
