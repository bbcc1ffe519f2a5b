"""The registry client against registries that lie, stall or echo secrets, and against the
input people really type. Small servers of the tests' own (tests/servers.py) play what no
real registry does; what a real one does is a docker-registry on 127.0.0.1 (the e2e
tests). Bounds are lowered where a test waits for one to be hit."""

import base64
import json
import os
import socket
import threading
import time

import pytest

from builder.registry import cli, client, locations, push, transport
from conftest import registry_server, run
from servers import FaultyProxy, RawServer, Server, certificate, never_answer, tiny_layout

PASSWORD = "pw-S3cret/+=&x"
"""A password with characters that URL-quoting and JSON escaping change."""
CREDS = "ship:" + PASSWORD
BASIC = base64.b64encode(CREDS.encode()).decode()


def copy(capsys, *argv):
    """Run the copyTo* scripts' command line; (exit status, what it said on stderr)."""
    status = cli.main(["copy"] + [str(argument) for argument in argv])
    return status, capsys.readouterr().err


def one_error(said, *fragments):
    """The one error line of `said`, which holds `fragments` and no secret."""
    errors = [line for line in said.splitlines() if line.startswith("strata: error:")]
    assert len(errors) == 1 and "Traceback" not in said, said
    assert all(fragment in errors[0] for fragment in fragments), errors[0]
    assert_no_secret(said)
    return errors[0]


def assert_no_secret(said):
    for secret in (PASSWORD, BASIC, "pw-S3cret", "pw-S3cret%2F", "S3cret"):
        assert secret not in said, said


@pytest.fixture
def layout(tmp_path):
    path = tmp_path / "image"
    tiny_layout(str(path), (3000, 5000))
    return path


@pytest.fixture(autouse=True)
def quick(monkeypatch, tmp_path):
    """Short waits between tries, and a record of blob locations of the test's own."""
    monkeypatch.setattr(client, "FIRST_WAIT", 0.01)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


# What people type.

def test_a_destination_is_checked_whole_before_any_connection(layout, capsys):
    with RawServer(never_answer) as server:
        port = int(server.address.split(":")[1])
        for destination, why in [
                ("docker://127.0.0.1:%d/app:t1" % (port + 65536), "is not a number from 1 to 65535"),
                ("docker://127.0.0.1:abc/app:t1", "'abc' is not a number"),
                ("docker://127.0.0.1:-1/app:t1", "'-1' is not a number"),
                ("docker://127.0.0.1:0/app:t1", "'0' is not a number"),
                ("docker://ship:%s@%s/app:t1" % (PASSWORD, server.address), "credentials in it"),
                ("docker://%s/App:t1" % server.address, "must be lowercase"),
                ("docker://%s/app:-t1" % server.address, "is not a tag"),
                ("docker://%s/app//x:t1" % server.address, "is not a repository")]:
            started = time.monotonic()
            status, said = copy(capsys, layout, destination, "--creds", CREDS)
            assert status == 1 and time.monotonic() - started < 2
            one_error(said, why)
        assert server.connections == 0, "nothing connected anywhere"


# Secrets the registry echoes.

@pytest.mark.parametrize("status", [400, 403, 404])
def test_what_a_registry_echoes_is_printed_without_the_secrets(layout, capsys, status):
    def respond(handler, body):
        authorization = handler.headers.get("Authorization")
        if not authorization:
            return 401, [("WWW-Authenticate", 'Basic realm="echo"')], b""
        if handler.command == "HEAD":
            return 404, [], b""
        echo = "denied: %s, %s, %s" % (authorization, PASSWORD, json.dumps(PASSWORD))
        return status, [("Content-Type", "application/json")], json.dumps(
            {"errors": [{"code": "DENIED", "message": echo + " " + handler.path}]}).encode()
    with Server(respond) as registry:
        code, said = copy(capsys, layout, "docker://%s/app:t1" % registry.address, "--creds", CREDS,
                          "--dest-tls-verify=false")
    assert code == 1
    one_error(said, "denied: Basic <redacted>, <redacted>")


def test_a_token_a_registry_echoes_is_redacted(layout, capsys):
    token = "eyJhbGciOi.secret-token-value.c2lnbmF0dXJl"

    def respond(handler, body):
        if handler.path.startswith("/token"):
            return 200, [], json.dumps({"token": token}).encode()
        if handler.headers.get("Authorization") != "Bearer " + token:
            return 401, [("WWW-Authenticate", 'Bearer realm="http://%s/token",service="echo"' % registry.address)], b""
        return 503 if handler.command == "HEAD" else 400, [], json.dumps(
            {"errors": [{"code": "DENIED", "message": "your token " + token}]}).encode()
    with Server(respond) as registry:
        code, said = copy(capsys, layout, "docker://%s/app:t1" % registry.address, "--creds", CREDS,
                          "--dest-tls-verify=false")
    assert code == 1 and token not in said and "secret-token" not in said
    assert "trying again" in said


@pytest.fixture
def trusted(tmp_path, monkeypatch):
    """A certificate for 127.0.0.1 that this process trusts (SSL_CERT_FILE), as a user's
    registry with a real certificate is trusted: (cert, key)."""
    pair = certificate(str(tmp_path), "trusted")
    monkeypatch.setenv("SSL_CERT_FILE", pair[0])
    return pair


def test_credentials_never_go_to_a_plain_http_realm_of_a_verified_registry(layout, capsys, trusted):
    tokens = Server(lambda handler, body: (200, [], b'{"token": "t"}'))

    def respond(handler, body):
        return 401, [("WWW-Authenticate", 'Bearer realm="http://%s/token",service="s"' % tokens.address)], b""
    with tokens, Server(respond, tls=trusted) as registry:
        code, said = copy(capsys, layout, "docker://%s/app:t1" % registry.address, "--creds", CREDS)
    assert code == 1
    one_error(said, "the token service %s is plain HTTP" % tokens.address, "--dest-tls-verify=false")
    assert tokens.requests == [], "not a request, so no credentials"


@pytest.mark.parametrize("service", ["refused", "hangs", "untrusted", "number", "crlf", "no-json"])
def test_a_token_service_that_fails_is_one_line_naming_it(layout, capsys, trusted, tmp_path, monkeypatch, service):
    monkeypatch.setattr(transport, "ANSWER_TIMEOUT", 1)
    tokens = {"number": b'{"token": 12345}', "crlf": b'{"token": "abc\\r\\nX-Injected: 1"}', "no-json": b"<html>"}
    if service == "hangs":
        server = RawServer(never_answer)
    elif service == "untrusted":
        server = Server(lambda handler, body: (200, [], b'{"token": "t"}'), tls=certificate(str(tmp_path), "other"))
    elif service == "refused":
        server = RawServer(never_answer)
        server.close()
    else:
        server = Server(lambda handler, body: (200, [], tokens[service]))
    scheme = "https" if service == "untrusted" else "http"

    def respond(handler, body):
        return 401, [("WWW-Authenticate", 'Bearer realm="%s://%s/token",service="s"' % (scheme, server.address))], b""
    started = time.monotonic()
    with server, Server(respond, tls=trusted) as registry:
        code, said = copy(capsys, layout, "docker://%s/app:t1" % registry.address,
                          *(["--creds", CREDS] if service == "untrusted" else []))
    assert code == 1 and time.monotonic() - started < 15
    one_error(said, "%s/app: the token service %s" % (registry.address, server.address))


# Registries that stall.

def test_an_answer_that_never_ends_is_cut_at_its_size_bound(layout, capsys):
    def respond(handler, body):
        if handler.command == "HEAD":
            return 404, [], b""
        handler.send_response(202)
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        piece = b"x" * 65536
        for _ in range(1000):  # 64 MB at most, should the client read on
            handler.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
        handler.close_connection = True
    with Server(respond) as registry:
        code, said = copy(capsys, layout, "docker://%s/app:t1" % registry.address, "--dest-tls-verify=false")
    assert code == 1
    one_error(said, "an answer over 1048576 bytes")


def test_an_answer_nested_past_the_stack_is_one_line(layout, capsys):
    def respond(handler, body):
        return (404, [], b"") if handler.command == "HEAD" else (400, [], b"[" * 200000)
    with Server(respond) as registry:
        code, said = copy(capsys, layout, "docker://%s/app:t1" % registry.address, "--dest-tls-verify=false")
    assert code == 1
    one_error(said, "answered 400: no reason given")


def _trickle(connection, stopped):
    """Read a request, then send a header line every 0.2 s, for ever."""
    connection.recv(65536)
    connection.sendall(b"HTTP/1.1 200 OK\r\n")
    while not stopped.wait(0.2):
        connection.sendall(b"X-Slow: yes\r\n")


@pytest.mark.parametrize("behave, bound, value, said", [
    (never_answer, "ANSWER_TIMEOUT", 1, "no answer within 1 s, 2 times"),
    (_trickle, "REQUEST_TIME", 2, "no whole answer within 2 s"),
])
def test_a_registry_that_stalls_is_given_up_within_the_bounds(layout, capsys, monkeypatch, behave, bound, value, said):
    monkeypatch.setattr(transport, bound, value)
    started = time.monotonic()
    with RawServer(behave) as server:
        code, stderr = copy(capsys, layout, "docker://%s/app:t1" % server.address, "--dest-tls-verify=false")
    assert code == 1 and time.monotonic() - started < 20
    one_error(stderr, said)


def test_the_whole_push_has_a_time_bound(layout, capsys, monkeypatch):
    monkeypatch.setattr(push, "TIME_BOUND", 1)

    def respond(handler, body):
        time.sleep(0.4)
        return 503, [], b""
    with Server(respond) as registry:
        code, said = copy(capsys, layout, "docker://%s/app:t1" % registry.address, "--dest-tls-verify=false")
    assert code == 1
    one_error(said, "the push took longer than its bound of 1 s")


# Against a real registry, behind proxies that misbehave.

def _relay(upstream):
    """A TCP relay to `upstream` that resets a connection opening with a TLS hello, as a
    proxy that speaks no TLS may."""
    def behave(connection, stopped):
        first = connection.recv(1, socket.MSG_PEEK)
        if first == b"\x16":
            connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            return
        host, port = upstream.split(":")
        other = socket.create_connection((host, int(port)), timeout=30)

        def pump(source, sink):
            try:
                for data in iter(lambda: source.recv(65536), b""):
                    sink.sendall(data)
            except OSError:
                pass
            finally:
                for end in (source, sink):
                    try:
                        end.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
        back = threading.Thread(target=pump, args=(other, connection), daemon=True)
        back.start()
        pump(connection, other)
        back.join(30)
        other.close()
    return behave


def requests(log, method, fragment=""):
    return sum(1 for line in log.read_text().splitlines() if "http.request.method=%s " % method in line
               and fragment in line and "response completed" in line)


def pulled(tmp_path, address, reference):
    """skopeo copies the image out of the registry, checking every blob against its digest."""
    run("skopeo", "--tmpdir", str(tmp_path), "copy", "--src-tls-verify=false", "docker://%s/%s" % (address, reference),
        "oci:%s:x" % (tmp_path / ("pulled-" + reference.replace("/", "-").replace(":", "-"))))


@pytest.mark.e2e
def test_plain_http_after_any_failed_https_with_tls_verify_false(layout, tmp_path, capsys):
    with registry_server(tmp_path / "registry") as (address, log, _), RawServer(_relay(address)) as proxy:
        code, said = copy(capsys, layout, "docker://%s/app:t1" % proxy.address, "--dest-tls-verify=false")
        assert code == 0, said
        assert "trying plain HTTP, as --dest-tls-verify=false allows" in said
        pulled(tmp_path, address, "app:t1")


@pytest.mark.e2e
def test_a_server_that_closes_every_connection_after_its_answer(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(client, "CHUNK", 64 << 10)
    tiny_layout(str(tmp_path / "big"), (1 << 20,))
    with registry_server(tmp_path / "registry") as (address, log, _), FaultyProxy(address, close_each=True) as proxy:
        code, said = copy(capsys, tmp_path / "big", "docker://%s/app:t1" % proxy.address, "--dest-tls-verify=false")
        assert code == 0, said
        assert "again from its start" not in said
        assert requests(log, "PATCH") >= 16
        pulled(tmp_path, address, "app:t1")


@pytest.mark.e2e
def test_an_upload_reset_in_its_first_patch_goes_on_from_byte_0(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(client, "CHUNK", 64 << 10)
    tiny_layout(str(tmp_path / "big"), (1 << 20,))
    with registry_server(tmp_path / "registry") as (address, log, _), \
            FaultyProxy(address, {("PATCH", 1): "drop", ("PATCH", 2): "drop"}) as proxy:
        code, said = copy(capsys, tmp_path / "big", "docker://%s/app:t1" % proxy.address, "--dest-tls-verify=false")
        assert code == 0, said
        assert "going on from where the registry stands" in said
        pulled(tmp_path, address, "app:t1")


@pytest.mark.e2e
def test_a_lost_answer_to_a_blob_put_is_checked_with_a_head(layout, tmp_path, capsys):
    with registry_server(tmp_path / "registry") as (address, log, _), \
            FaultyProxy(address, {("PUT", 1): "drop"}, after={("PUT", 1)}) as proxy:
        code, said = copy(capsys, layout, "docker://%s/app:t1" % proxy.address, "--dest-tls-verify=false")
        assert code == 0, said
        assert "again from its start" not in said
        assert requests(log, "PUT", "status=201") == 4, "each blob once (the lost answer's was there), the manifest"
        pulled(tmp_path, address, "app:t1")


@pytest.mark.e2e
def test_a_head_that_reports_another_blob_is_not_taken_for_it(layout, tmp_path, capsys):
    def lie(method, path, headers):
        if method == "HEAD" and "/blobs/" in path:
            return 200, [("Content-Length", "7"), ("Docker-Content-Digest", "sha256:" + "0" * 64)], b""
    with registry_server(tmp_path / "registry") as (address, log, _), FaultyProxy(address, answer=lie) as proxy:
        code, said = copy(capsys, layout, "docker://%s/app:t1" % proxy.address, "--dest-tls-verify=false")
        assert code == 0, said
        assert "not that blob; uploading it" in said
        assert requests(log, "PUT", "digest=") == 3
        pulled(tmp_path, address, "app:t1")


@pytest.mark.e2e
def test_a_manifest_stored_under_another_digest_fails_naming_both(layout, tmp_path, capsys):
    other = "sha256:" + "1" * 64

    def swap(method, path, status, headers, data):
        if method == "PUT" and "/manifests/" in path:
            headers = [(key, other if key.lower() == "docker-content-digest" else value) for key, value in headers]
        return status, headers, data
    built = json.load(open(layout / "index.json"))["manifests"][0]["digest"]
    with registry_server(tmp_path / "registry") as (address, log, _), FaultyProxy(address, change=swap) as proxy:
        code, said = copy(capsys, layout, "docker://%s/app:t1" % proxy.address, "--dest-tls-verify=false")
    assert code == 1
    one_error(said, other, built)


@pytest.mark.e2e
def test_a_manifest_refused_for_missing_blobs_is_no_reason_to_send_dockers(layout, tmp_path, capsys):
    def refuse(method, path, headers):
        if method == "PUT" and "/manifests/" in path:
            return 400, [], b'{"errors": [{"code": "MANIFEST_BLOB_UNKNOWN", "message": "blob unknown to registry"}]}'
    with registry_server(tmp_path / "registry") as (address, log, _), FaultyProxy(address, answer=refuse) as proxy:
        code, said = copy(capsys, layout, "docker://%s/app:t1" % proxy.address, "--dest-tls-verify=false")
    assert code == 1 and "sending Docker's" not in said
    one_error(said, "refuses the manifest t1 (400 blob unknown to registry)")


@pytest.mark.e2e
def test_blobs_go_several_at_once_and_nothing_is_tagged_before_all_are_there(tmp_path, capsys):
    tiny_layout(str(tmp_path / "many"), tuple(2000 + number for number in range(8)))

    def slow(method, path, headers):
        if method == "HEAD":
            time.sleep(0.3)
    with registry_server(tmp_path / "registry") as (address, log, _), FaultyProxy(address, answer=slow) as proxy:
        code, said = copy(capsys, tmp_path / "many", "docker://%s/app:t1" % proxy.address, "--dest-tls-verify=false")
        assert code == 0, said
        assert proxy.most_at_once >= 3
    with registry_server(tmp_path / "again") as (address, log, _), \
            FaultyProxy(address, {("PUT", 5): "400"}, answer=slow) as proxy:
        code, said = copy(capsys, tmp_path / "many", "docker://%s/app:t1" % proxy.address, "--dest-tls-verify=false")
        assert code == 1 and requests(log, "PUT", "manifests") == 0


@pytest.mark.e2e
def test_blobs_pushed_before_are_mounted_from_where_they_went(layout, tmp_path, capsys):
    with registry_server(tmp_path / "registry") as (address, log, _):
        assert copy(capsys, layout, "docker://%s/team/a:t1" % address, "--dest-tls-verify=false")[0] == 0
        uploads = requests(log, "PUT", "digest=")
        code, said = copy(capsys, layout, "docker://%s/team/b:t1" % address, "--dest-tls-verify=false")
        assert code == 0 and said.count("mounted from team/a") == 3, said
        assert requests(log, "PUT", "digest=") == uploads and requests(log, "POST", "mount=") == 3
        pulled(tmp_path, address, "team/b:t1")
        record = (tmp_path / "cache" / "strata" / "blob-locations.json").read_text()
        assert "team/a" in record and "ship" not in record
        # A stale record (the repository is gone, or never held the blobs) costs a mount each.
        other = tmp_path / "other"
        tiny_layout(str(other), (4000,), seed=b"other")
        blobs = [name for name in os.listdir(other / "blobs" / "sha256")]
        locations.Record(locations.default_file()).add(address, "team/gone", ["sha256:" + name for name in blobs])
        mounts = requests(log, "POST", "mount=")
        code, said = copy(capsys, other, "docker://%s/team/c:t1" % address, "--dest-tls-verify=false")
        assert code == 0, said
        assert requests(log, "POST", "mount=") - mounts == 2, "the layer and the config, once each"
        pulled(tmp_path, address, "team/c:t1")


@pytest.mark.e2e
def test_redirects_are_followed_without_the_authorization_off_the_registry(layout, tmp_path, capsys):
    index = json.load(open(layout / "index.json"))["manifests"][0]
    manifest = json.load(open(layout / "blobs" / "sha256" / index["digest"][7:]))
    sizes = {blob["digest"]: blob["size"] for blob in manifest["layers"] + [manifest["config"]]}
    stored = []

    def store(handler, body):
        digest = handler.path.rsplit("/", 1)[-1]
        if not stored:
            return 404, [], b""
        return 200, [("Content-Length", str(sizes[digest])), ("Docker-Content-Digest", digest)], b""

    with registry_server(tmp_path / "registry", secured=True) as (address, log, _), Server(store) as objects:
        def redirect(method, path, headers):
            if method == "HEAD" and "/blobs/" in path:
                return 307, [("Location", "http://%s/bucket/%s" % (objects.address, path.rsplit("/", 1)[-1]))], b""
        with FaultyProxy(address, answer=redirect, upstream_tls=True) as proxy:
            destination = "docker://%s/app:t1" % proxy.address
            code, said = copy(capsys, layout, destination, "--dest-tls-verify=false", "--creds", "ship:s3cret-word")
            assert code == 0, said
            stored.append(True)
            code, said = copy(capsys, layout, destination, "--dest-tls-verify=false", "--creds", "ship:s3cret-word")
            assert code == 0 and said.count("is there already") == 3, said
    heads = [request for request in objects.requests if request[0] == "HEAD"]
    assert len(heads) == 6 and not any("Authorization" in headers for _, _, headers in heads)
