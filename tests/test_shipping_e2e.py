"""Shipping images: the copyTo* scripts and strata's registry client against real
docker-registry servers on 127.0.0.1 — plain, and with htpasswd (bcrypt) authentication
over TLS with a certificate made here — counted from the registry's side (its log of
requests), and podman loading what copyToPodman streams."""

import base64
import json
import os
import subprocess
import time
import urllib.request

import pytest

from conftest import REPO, built, registry_server, run
from servers import FaultyProxy

pytestmark = pytest.mark.e2e

LAYERED = os.path.join(REPO, "tests", "nix", "layered.nix")
DOCKERTOOLS = os.path.join(REPO, "tests", "nix", "dockertools.nix")
IMAGES = os.path.join(REPO, "tests", "nix", "images.nix")


def requests(log, method, fragment=""):
    """How many requests of `method` whose path holds `fragment` the registry logged."""
    text = log.read_text()
    return sum(1 for line in text.splitlines() if "http.request.method=%s " % method in line
               and fragment in line and "response completed" in line)


def copy_script(attr, kind, expression, *extra):
    path = built(attr + "." + kind, *extra, expression=expression)
    return os.path.join(path, "bin", os.listdir(os.path.join(path, "bin"))[0])


def ship(script, *arguments, env=None):
    return subprocess.run([script] + list(arguments), capture_output=True, text=True,
                          env=dict(os.environ, **(env or {})))


def manifest_digest(archive):
    index = json.loads(run("tar", "xOf", archive, "index.json"))
    return index["manifests"][0]["digest"]


def test_copy_to_registry_uploads_only_what_the_registry_lacks(tmp_path):
    with registry_server(tmp_path / "registry") as (address, log, _):
        script = copy_script("archive", "copyToRegistry", LAYERED)
        first = ship(script, "docker://%s/team/layered:v1" % address, "--dest-tls-verify=false")
        assert first.returncode == 0, first.stderr
        uploads = requests(log, "PUT", "digest=")
        assert uploads == 12, "8 layers, the config, the SBOM's two documents and the empty config of their artifacts"
        inspected = json.loads(run("skopeo", "inspect", "--tls-verify=false", "docker://%s/team/layered:v1" % address))
        assert inspected["Digest"] == manifest_digest(built("archive", expression=LAYERED)), "the manifest as built"
        run("podman", "pull", "-q", "--tls-verify=false", "%s/team/layered:v1" % address)
        assert run("podman", "run", "--rm", "--network", "none", "%s/team/layered:v1" % address).startswith("app 1")
        again = ship(script, "docker://%s/team/layered:v1" % address, "--dest-tls-verify=false")
        assert again.returncode == 0 and requests(log, "PUT", "digest=") == uploads, "nothing twice"
        assert "0 bytes uploaded" in again.stderr
        # After a change of the top package, its layer, the top layer and the config go, and
        # the new SBOM's two documents.
        changed = ship(copy_script("archive", "copyToRegistry", LAYERED, "--argstr", "appVersion", "2"),
                       "docker://%s/team/layered:v2" % address, "--dest-tls-verify=false")
        assert changed.returncode == 0, changed.stderr
        assert requests(log, "PUT", "digest=") == uploads + 3 + 2
        # Another image sharing busybox and lib-base, in another repository: those are mounted.
        other = ship(copy_script("other", "copyToRegistry", LAYERED), "docker://%s/team/other:v1" % address,
                     "--dest-tls-verify=false", "--from", "team/layered")
        assert other.returncode == 0, other.stderr
        assert requests(log, "POST", "mount=") >= 2 and "mounted from team/layered" in other.stderr
        # A stream: its store layers are written again from the store while they are sent.
        streamed = ship(copy_script("stream", "copyToRegistry", LAYERED), "docker://%s/team/streamed:v1" % address,
                        "--dest-tls-verify=false")
        assert streamed.returncode == 0, streamed.stderr
        run("skopeo", "--tmpdir", str(tmp_path), "copy", "--src-tls-verify=false",
            "docker://%s/team/streamed:v1" % address, "oci:%s:v1" % (tmp_path / "pulled"))


def test_large_blobs_go_in_chunks_and_a_push_names_what_it_sends(tmp_path, monkeypatch):
    from builder.registry import client, push, sources
    monkeypatch.setattr(client, "CHUNK", 64 << 10)
    with registry_server(tmp_path / "registry") as (address, log, _):
        push.push(sources.open_image(built("hello", expression=IMAGES)), "%s/chunked:v1" % address, tls_verify=False)
        assert requests(log, "PATCH") >= 10, "a 2 MB layer in 64 KB chunks"
        assert requests(log, "PUT", "manifests/v1") == 1


def test_authentication_and_tls(tmp_path):
    with registry_server(tmp_path / "registry", secured=True) as (address, log, certificate):
        script = copy_script("hello", "copyToRegistry", IMAGES)
        destination = "docker://%s/secure/hello:v1" % address
        unverified = ship(script, destination)
        assert unverified.returncode == 1 and "TLS failed" in unverified.stderr
        assert "pass --dest-tls-verify=false" in unverified.stderr
        refused = ship(script, destination, "--dest-tls-verify=false")
        assert refused.returncode == 1
        assert "%s/secure/hello: the registry refused access (401" % address in refused.stderr
        shipped = ship(script, destination, "--dest-tls-verify=false", "--creds", "ship:s3cret-word")
        assert shipped.returncode == 0, shipped.stderr
        assert "s3cret" not in shipped.stderr + shipped.stdout, "credentials never shown"
        auth_file = tmp_path / "auth.json"
        auth_file.write_text(json.dumps({"auths": {address: {"auth": base64.b64encode(b"ship:s3cret-word").decode()}}}))
        from_file = ship(script, destination, "--dest-tls-verify=false", env={"REGISTRY_AUTH_FILE": str(auth_file)})
        assert from_file.returncode == 0, from_file.stderr
        assert "s3cret" not in from_file.stderr
        wrong = ship(script, destination, "--dest-tls-verify=false", "--creds", "ship:wrong-word")
        assert wrong.returncode == 1 and "wrong-word" not in wrong.stderr and "refused" in wrong.stderr
        assert requests(log, "PUT", "manifests/v1") == 2


def test_copy_to_other_destinations_through_skopeo(tmp_path):
    copied = ship(copy_script("copyThroughSkopeo", "copyTo", DOCKERTOOLS), "oci:%s:v1" % (tmp_path / "layout"))
    assert copied.returncode == 0, copied.stderr
    inspected = json.loads(run("skopeo", "inspect", "oci:%s:v1" % (tmp_path / "layout")))
    assert inspected["Architecture"] == "amd64"
    archive = built("copyThroughSkopeo", expression=DOCKERTOOLS)
    manifest = json.loads(run("tar", "xOf", archive, "blobs/sha256/" + manifest_digest(archive)[7:]))
    assert inspected["Layers"] == [layer["digest"] for layer in manifest["layers"]], "the blobs as built"
    without = ship(copy_script("archive", "copyTo", LAYERED), "oci:%s:v1" % (tmp_path / "other"))
    assert without.returncode == 1 and "for other destinations give strata `skopeo`" in without.stderr


def test_copy_to_podman_streams_the_image_into_podman():
    for attr, tag in [("archive", None), ("stream", "streamed")]:
        loaded = ship(copy_script(attr, "copyToPodman", LAYERED))
        assert loaded.returncode == 0, loaded.stderr
        reference = loaded.stdout.strip().split()[-1]
        assert reference.startswith("localhost/strata-layered:") and (tag is None or reference.endswith(":" + tag))
        assert reference in run("podman", "images", "--format", "{{.Repository}}:{{.Tag}}").split()
        assert run("podman", "run", "--rm", "--network", "none", reference, "/bin/app").startswith("app 1")


def test_dropped_connections_and_5xx_are_tried_again_and_uploads_go_on(tmp_path, monkeypatch):
    from builder.registry import client, push, sources
    monkeypatch.setattr(client, "CHUNK", 256 << 10)
    monkeypatch.setattr(client, "FIRST_WAIT", 0.05)
    with registry_server(tmp_path / "registry") as (address, log, _):
        # The 3rd chunk is taken by the registry but its answer lost; the 5th answered 503;
        # a HEAD dropped; the first manifest PUT answered 503.
        proxy = FaultyProxy(address, {("PATCH", 3): "drop", ("PATCH", 5): "503", ("HEAD", 1): "drop",
                                      ("PUT", 3): "503"}, after={("PATCH", 3)})
        try:
            push.push(sources.open_image(built("hello", expression=IMAGES)), "%s/faults:v1" % proxy.address,
                      tls_verify=False)
        finally:
            proxy.close()
        pulled = tmp_path / "pulled"
        run("skopeo", "--tmpdir", str(tmp_path), "copy", "--src-tls-verify=false", "docker://%s/faults:v1" % address,
            "oci:%s:v1" % pulled)  # skopeo checks every blob against its digest
        assert requests(log, "PUT", "manifests/v1") == 1


def test_a_push_that_fails_tags_nothing(tmp_path, monkeypatch):
    from builder.core.errors import StrataError
    from builder.registry import client, push, sources
    monkeypatch.setattr(client, "FIRST_WAIT", 0.01)
    with registry_server(tmp_path / "registry") as (address, log, _):
        proxy = FaultyProxy(address, {("PUT", count): "503" for count in range(1, 20)})
        try:
            with pytest.raises(StrataError) as error:
                push.push(sources.open_image(built("hello", expression=IMAGES)), "%s/broken:v1" % proxy.address,
                          tls_verify=False)
        finally:
            proxy.close()
        assert "failed 5 times, the last: the registry answered 503" in str(error.value)
        assert requests(log, "PUT", "manifests") == 0, "no manifest, no tag"


def test_a_multi_arch_image_is_one_index_pushed_with_its_images(tmp_path):
    layout = built("multiArch", expression=DOCKERTOOLS)
    index = json.loads(open(os.path.join(layout, "index.json")).read())["manifests"]
    assert len(index) == 1 and index[0]["mediaType"] == "application/vnd.oci.image.index.v1+json"
    nested = json.loads(open(os.path.join(layout, "blobs", "sha256", index[0]["digest"][7:])).read())
    platforms = sorted((entry["platform"]["architecture"], entry["platform"].get("variant")) for entry in nested["manifests"])
    assert platforms == [("amd64", None), ("arm64", "v8")]
    assert all(os.path.islink(os.path.join(layout, "blobs", "sha256", name))
               for name in os.listdir(os.path.join(layout, "blobs", "sha256"))
               if name not in (index[0]["digest"][7:],) and os.path.getsize(os.path.join(layout, "blobs", "sha256", name))
               > 100000), "layers are linked, not copied"
    assert built("multiArch", "--check", expression=DOCKERTOOLS) == layout
    with registry_server(tmp_path / "registry") as (address, log, _):
        shipped = ship(copy_script("multiArch", "copyToRegistry", DOCKERTOOLS), "docker://%s/multi:v1" % address,
                       "--dest-tls-verify=false")
        assert shipped.returncode == 0, shipped.stderr
        raw = json.loads(run("skopeo", "inspect", "--raw", "--tls-verify=false", "docker://%s/multi:v1" % address))
        assert raw == nested
        for arch in ("amd64", "arm64"):
            inspected = json.loads(run("skopeo", "--override-arch", arch, "inspect", "--tls-verify=false",
                                       "docker://%s/multi:v1" % address))
            assert inspected["Architecture"] == arch
            run("podman", "pull", "-q", "--tls-verify=false", "--arch", arch, "%s/multi:v1" % address)
            assert json.loads(run("podman", "image", "inspect", "%s/multi:v1" % address))[0]["Architecture"] == arch
        # Each platform's manifest has its own image's SBOM (referrers tag of its digest), the
        # index none; strata sbom reads this machine's.
        tags = json.load(urllib.request.urlopen("http://%s/v2/multi/tags/list" % address))["tags"]
        platform_digests = sorted(entry["digest"] for entry in nested["manifests"])
        assert sorted(tag for tag in tags if tag.startswith("sha256-")) == sorted(
            "sha256-" + digest[7:] for digest in platform_digests)
        amd64 = next(entry["digest"] for entry in nested["manifests"] if entry["platform"]["architecture"] == "amd64")
        strata = os.path.join(built("cli", expression=os.path.join(REPO, "tests", "nix", "releases.nix")), "bin", "strata")
        fetched = json.loads(run(strata, "sbom", "docker://%s/multi:v1" % address, "--tls-verify=false",
                                 "--format", "cyclonedx"))
        assert fetched["metadata"]["component"]["hashes"][0]["content"] == amd64[7:]
    loaded = ship(copy_script("multiArch", "copyToPodman", DOCKERTOOLS))
    assert loaded.returncode == 0, loaded.stderr
    assert run("podman", "run", "--rm", "--network", "none", "localhost/multi-arch:v1") == "hello from hello\n"
    twice = subprocess.run(["bash", os.path.join(REPO, "scripts", "nix-build"), DOCKERTOOLS, "-A", "multiArchTwice",
                            "--no-out-link"], capture_output=True, text=True)
    errors = [line for line in twice.stderr.splitlines() if line.startswith("strata: error:")]
    assert twice.returncode != 0 and len(errors) == 1 and "are both for amd64/linux" in errors[0]


def test_a_registry_that_refuses_oci_manifests_gets_dockers(tmp_path):
    from builder.registry import push, sources

    def oci_manifest(method, path, headers):
        if method == "PUT" and "vnd.oci.image" in headers.get("Content-Type", ""):
            return 400, [], b'{"errors": [{"code": "MANIFEST_INVALID", "message": "manifest invalid"}]}'
    with registry_server(tmp_path / "registry") as (address, log, _):
        proxy = FaultyProxy(address, answer=oci_manifest)
        try:
            push.push(sources.open_image(built("hello", expression=IMAGES)), "%s/docker:v1" % proxy.address,
                      tls_verify=False)
            push.push(sources.open_image(built("multiArch", expression=DOCKERTOOLS)), "%s/docker:multi" % proxy.address,
                      tls_verify=False)
        finally:
            proxy.close()
        single = json.loads(run("skopeo", "inspect", "--raw", "--tls-verify=false", "docker://%s/docker:v1" % address))
        assert single["mediaType"] == "application/vnd.docker.distribution.manifest.v2+json"
        assert single["layers"][0]["mediaType"] == "application/vnd.docker.image.rootfs.diff.tar.gzip"
        listed = json.loads(run("skopeo", "inspect", "--raw", "--tls-verify=false", "docker://%s/docker:multi" % address))
        assert listed["mediaType"] == "application/vnd.docker.distribution.manifest.list.v2+json"
        run("skopeo", "--tmpdir", str(tmp_path), "copy", "--src-tls-verify=false", "docker://%s/docker:multi" % address,
            "oci:%s:x" % (tmp_path / "pulled"))  # every blob checked against its digest


def test_copy_to_docker_daemon_streams_the_image_into_docker(docker_daemon):
    loaded = ship(copy_script("stream", "copyToDockerDaemon", LAYERED), env=docker_daemon)
    assert loaded.returncode == 0, loaded.stderr
    assert "Loaded image: strata-layered:streamed" in loaded.stdout
    ran = subprocess.run(["docker", "run", "--rm", "--network", "none", "strata-layered:streamed", "/bin/app"],
                         capture_output=True, text=True, env=dict(os.environ, **docker_daemon))
    assert ran.stdout.startswith("app 1"), ran.stderr
    layout = ship(copy_script("oci", "copyToDockerDaemon", LAYERED), env=docker_daemon)
    assert layout.returncode == 1 and "docker load takes an archive, not an OCI layout" in layout.stderr


class TokenService:
    """A token service on 127.0.0.1, as Docker Hub and GHCR have one: it answers a user who
    gives ship:s3cret-word with a JWT, signed (RS256, by openssl) with the key whose
    certificate the registry trusts, granting the scope asked for."""

    def __init__(self, directory):
        import http.server
        import threading
        import urllib.parse
        self.key, self.certificate = directory / "token-key.pem", directory / "token-cert.pem"
        run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=strata-token", "-keyout",
            str(self.key), "-out", str(self.certificate), "-days", "2")
        der = subprocess.run(["openssl", "x509", "-in", str(self.certificate), "-outform", "DER"], capture_output=True,
                             check=True).stdout
        service = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *arguments):
                pass

            def do_GET(self):
                expected = "Basic " + base64.b64encode(b"ship:s3cret-word").decode()
                if self.headers.get("Authorization") != expected:
                    self.send_response(401)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
                kind, name, actions = query["scope"][0].split(":")
                body = json.dumps({"token": service.token(der, name, actions.split(","))}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.realm = "http://127.0.0.1:%d/token" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def token(self, der, name, actions):
        def encoded(data):
            return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256", "x5c": [base64.b64encode(der).decode()]}
        claims = {"iss": "strata-issuer", "sub": "ship", "aud": "strata-registry", "iat": now, "nbf": now - 10,
                  "exp": now + 600, "jti": str(now),
                  "access": [{"type": "repository", "name": name, "actions": actions}]}
        signed = encoded(json.dumps(header).encode()) + "." + encoded(json.dumps(claims).encode())
        signature = subprocess.run(["openssl", "dgst", "-sha256", "-sign", str(self.key)], input=signed.encode(),
                                   capture_output=True, check=True).stdout
        return signed + "." + encoded(signature)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def test_bearer_token_authentication(tmp_path):
    directory = tmp_path / "registry"
    directory.mkdir()
    tokens = TokenService(directory)
    try:
        with registry_server(directory, token=(tokens.realm, tokens.certificate)) as (address, log, _):
            script = copy_script("hello", "copyToRegistry", IMAGES)
            refused = ship(script, "docker://%s/bearer/hello:v1" % address, "--dest-tls-verify=false")
            assert refused.returncode == 1 and "the token service" in refused.stderr and "refused (401)" in refused.stderr
            shipped = ship(script, "docker://%s/bearer/hello:v1" % address, "--dest-tls-verify=false", "--creds",
                           "ship:s3cret-word")
            assert shipped.returncode == 0, shipped.stderr
            assert requests(log, "PUT", "manifests/v1") == 1 and "s3cret" not in shipped.stderr
    finally:
        tokens.close()
