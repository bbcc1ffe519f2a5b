"""Shared helpers: the repository, real nix-build runs, registries on 127.0.0.1 and a Docker
engine of the tests' own."""

import contextlib
import os
import socket
import subprocess
import sys
import time

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

NIX_BUILD = [os.path.join(REPO, "scripts", "nix-build")]
IMAGES = os.path.join(REPO, "tests", "nix", "images.nix")


def nix_build(attr, *extra, expression=IMAGES):
    """Build `attr` of `expression` in the sandbox; the output path, or the failed run."""
    return subprocess.run(["bash"] + NIX_BUILD + [expression, "-A", attr, "--no-out-link"] + list(extra),
                          capture_output=True, text=True)


def built(attr, *extra, expression=IMAGES):
    """The output path of `attr`, built (with the nix-build options `extra`)."""
    run = nix_build(attr, *extra, expression=expression)
    assert run.returncode == 0, run.stderr
    return run.stdout.strip()


def podman_load(image):
    """Load the image file (or run the stream script and load what it writes) into podman;
    what podman says it loaded."""
    if os.access(image, os.X_OK) and not os.path.isdir(image):
        archive = subprocess.run([image], capture_output=True, check=True).stdout
        return subprocess.run(["podman", "load"], input=archive, capture_output=True, check=True).stdout.decode()
    return run("podman", "load", "-i", image)


def nix_eval(expression):
    run = subprocess.run(["nix-instantiate", "--eval", "--strict", "--json", "-E", expression],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    return run.stdout.strip()


def run(*command, **options):
    """Run a real tool; its stdout, or a failed assertion with what it said."""
    finished = subprocess.run(command, capture_output=True, text=True, **options)
    assert finished.returncode == 0, "%s failed:\n%s%s" % (command, finished.stdout, finished.stderr)
    return finished.stdout


@contextlib.contextmanager
def registry_server(directory, secured=False, token=None):
    """A docker-registry on 127.0.0.1 logging its requests to a file; `secured`: htpasswd
    (bcrypt) for user ship, password s3cret-word, over TLS with a certificate made here;
    `token`: (realm, certificate) of a token service whose tokens it takes (bearer auth).
    Yields (address host:port, the log's path, the certificate's path or None)."""
    directory.mkdir(parents=True, exist_ok=True)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = ("version: 0.1\nlog:\n  level: info\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n"
              "  addr: 127.0.0.1:%d\n" % (directory / "data", port))
    certificate = None
    if secured:
        certificate, key = directory / "cert.pem", directory / "key.pem"
        run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-addext",
            "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(certificate), "-days", "2")
        (directory / "htpasswd").write_text(run("htpasswd", "-Bbn", "ship", "s3cret-word"))
        config += "  tls:\n    certificate: %s\n    key: %s\nauth:\n  htpasswd:\n    realm: strata\n    path: %s\n" % (
            certificate, key, directory / "htpasswd")
    if token:
        config += ("auth:\n  token:\n    realm: %s\n    service: strata-registry\n    issuer: strata-issuer\n"
                   "    rootcertbundle: %s\n" % token)
    (directory / "config.yml").write_text(config)
    log = directory / "log"
    with open(log, "wb") as stream:
        server = subprocess.Popen(["docker-registry", "serve", str(directory / "config.yml")], stdout=stream,
                                  stderr=stream)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None, "docker-registry did not start"
                time.sleep(0.2)
        yield "127.0.0.1:%d" % port, log, certificate
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture(scope="session")
def registry(tmp_path_factory):
    """A docker-registry serving on 127.0.0.1; yields its address host:port."""
    with registry_server(tmp_path_factory.mktemp("registry")) as (address, _, _):
        yield address


@pytest.fixture(scope="session", autouse=True)
def cache_of_the_tests(tmp_path_factory):
    """Pushes record where their blobs went in the tests' own cache, not the user's."""
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("cache"))


@pytest.fixture(scope="session", autouse=True)
def stop_layer_workers():
    """Tests that write layers in this process fork its worker processes; stop them at the end."""
    yield
    from builder.tar import workers
    workers.close_shared_pool()


@pytest.fixture(scope="session", autouse=True)
def remove_loaded_podman_images():
    """The images the tests load into podman are removed at the end, by name: the names
    (and the untagged images) that were not there before the tests started, so a user's
    own images stay."""
    def images():
        listed = subprocess.run(["podman", "images", "-a", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}"],
                                capture_output=True, text=True)
        return set(listed.stdout.splitlines()) if listed.returncode == 0 else None
    try:
        before = images()
    except OSError:  # no podman: the end-to-end tests that need it fail on their own
        before = None
    yield
    if before is not None:
        loaded = images() - before
        names = sorted(line.split()[0] for line in loaded if not line.startswith("<none>"))
        untagged = sorted(line.split()[1] for line in loaded if line.startswith("<none>"))
        for batch in (names, untagged):
            if batch:
                subprocess.run(["podman", "rmi", "-f"] + batch, capture_output=True)


@pytest.fixture
def docker_daemon():
    """A Docker engine of its own (no networking set up), on a private socket; yields the
    environment that points docker at it. Stopped by its pid, its storage unmounted. Its
    directory is short: containerd's sockets must have paths under 104 bytes."""
    import pathlib
    import shutil
    import tempfile
    directory = pathlib.Path(tempfile.mkdtemp(prefix="strata-docker-", dir="/tmp"))
    socket_path = directory / "sock"
    with open(directory / "log", "wb") as log:
        daemon = subprocess.Popen(["dockerd", "--iptables=false", "--ip6tables=false", "--bridge=none",
                                   "--data-root", str(directory / "data"), "--exec-root", str(directory / "exec"),
                                   "--pidfile", str(directory / "pid"), "-H", "unix://%s" % socket_path],
                                  stdout=log, stderr=log)
    environment = {"DOCKER_HOST": "unix://%s" % socket_path}
    try:
        for _ in range(100):
            if subprocess.run(["docker", "version"], env=dict(os.environ, **environment),
                              capture_output=True).returncode == 0:
                break
            assert daemon.poll() is None, (directory / "log").read_text()
            time.sleep(0.2)
        yield environment
    finally:
        daemon.terminate()
        daemon.wait(timeout=60)
        subprocess.run(["umount", "-R", str(directory / "data")], capture_output=True)
        shutil.rmtree(directory, ignore_errors=True)
