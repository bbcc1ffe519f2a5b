"""Shipping images: the copyTo* scripts and strata's registry client against real
docker-registry servers on 127.0.0.1 — plain, and with htpasswd (bcrypt) authentication
over TLS with a certificate made here — counted from the registry's side (its log of
requests), and podman loading what copyToPodman streams."""

import base64
import json
import os
import subprocess

import pytest

from conftest import REPO, built, registry_server, run

pytestmark = pytest.mark.e2e

LAYERED = os.path.join(REPO, "tests", "nix", "layered.nix")
IMAGES = os.path.join(REPO, "tests", "nix", "images.nix")


def requests(log, method, fragment=""):
    """How many requests of `method` whose path holds `fragment` the registry logged."""
    text = log.read_text()
    return sum(1 for line in text.splitlines() if "http.request.method=%s " % method in line
               and fragment in line and "response completed" in line)


def copy_script(attr, kind, expression):
    path = built(attr + "." + kind, expression=expression)
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
        assert uploads == 9, "8 layers and the config"
        inspected = json.loads(run("skopeo", "inspect", "--tls-verify=false", "docker://%s/team/layered:v1" % address))
        assert inspected["Digest"] == manifest_digest(built("archive", expression=LAYERED)), "the manifest as built"
        again = ship(script, "docker://%s/team/layered:v1" % address, "--dest-tls-verify=false")
        assert again.returncode == 0 and requests(log, "PUT", "digest=") == uploads, "nothing twice"
        assert "0 bytes uploaded" in again.stderr
        # Another image sharing busybox and lib-base, in another repository: those are mounted.
        other = ship(copy_script("other", "copyToRegistry", LAYERED), "docker://%s/team/other:v1" % address,
                     "--dest-tls-verify=false", "--from", "team/layered")
        assert other.returncode == 0, other.stderr
        assert requests(log, "POST", "mount=") >= 2 and "mounted from another repository" in other.stderr
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


def test_copy_to_podman_streams_the_image_into_podman():
    for attr, tag in [("archive", None), ("stream", "streamed")]:
        loaded = ship(copy_script(attr, "copyToPodman", LAYERED))
        assert loaded.returncode == 0, loaded.stderr
        reference = loaded.stdout.strip().split()[-1]
        assert reference.startswith("localhost/strata-layered:") and (tag is None or reference.endswith(":" + tag))
        assert reference in run("podman", "images", "--format", "{{.Repository}}:{{.Tag}}").split()
        assert run("podman", "run", "--rm", "--network", "none", reference, "/bin/app").startswith("app 1")
