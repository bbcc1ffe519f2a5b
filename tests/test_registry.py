import base64
import json
import subprocess
import sys
import urllib.parse

import pytest

from builder.core.errors import StrataError
from builder.registry import credentials, locations, reference, secrets
from conftest import REPO


def test_destinations():
    assert reference.parse("docker://127.0.0.1:5000/team/app:v1") == ("127.0.0.1:5000", "team/app", "v1")
    assert reference.parse("registry.example/app") == ("registry.example", "app", "latest")
    assert reference.parse("localhost/a/b:c") == ("localhost", "a/b", "c")
    for bad in ["app:v1", "docker://app", "127.0.0.1:5000/app@sha256:00"]:
        with pytest.raises(StrataError):
            reference.parse(bad)


def test_credentials_from_the_command_line_then_the_files_users_have(tmp_path):
    entry = {"auth": base64.b64encode(b"user:pass:word").decode()}
    podman = tmp_path / "run" / "containers" / "auth.json"
    podman.parent.mkdir(parents=True)
    podman.write_text(json.dumps({"auths": {"registry.example": entry}}))
    docker = tmp_path / "home" / ".docker" / "config.json"
    docker.parent.mkdir(parents=True)
    docker.write_text(json.dumps({"auths": {"https://other.example": {"auth": base64.b64encode(b"d:x").decode()}}}))
    environ = {"XDG_RUNTIME_DIR": str(tmp_path / "run"), "HOME": str(tmp_path / "home")}
    assert credentials.find("registry.example", environ=environ) == ("user", "pass:word")
    assert credentials.find("other.example", environ=environ) == ("d", "x")
    assert credentials.find("registry.example", "cli:pw", environ=environ) == ("cli", "pw")
    assert credentials.find("nowhere.example", environ=environ) is None
    broken = tmp_path / "broken.json"
    broken.write_text('{"auths": {"registry.example": {"auth": "!!"}}}')
    with pytest.raises(StrataError) as error:
        credentials.find("registry.example", environ={"REGISTRY_AUTH_FILE": str(broken)})
    assert "broken.json: the entry of registry.example has no readable" in str(error.value) and "!!" not in str(error.value)


def test_an_auth_file_that_cannot_be_read_is_named(tmp_path):
    (tmp_path / "auth.json").mkdir()
    with pytest.raises(StrataError) as error:
        credentials.find("registry.example", environ={"REGISTRY_AUTH_FILE": str(tmp_path / "auth.json")})
    assert str(error.value) == "%s: not a credentials file (a directory)" % (tmp_path / "auth.json")
    with pytest.raises(StrataError) as error:
        credentials.find("registry.example", environ={"REGISTRY_AUTH_FILE": str(tmp_path / "typo.json")})
    assert "typo.json (REGISTRY_AUTH_FILE): no such file" in str(error.value)
    (tmp_path / "home" / ".docker" / "config.json").mkdir(parents=True)
    with pytest.raises(StrataError) as error:
        credentials.find("registry.example", environ={"HOME": str(tmp_path / "home")})
    assert "config.json: not a credentials file (a directory)" in str(error.value)


def test_secrets_are_redacted_in_every_form_they_are_echoed_in():
    password = 'p/w+"x& y'
    known = secrets.Secrets(("ship", password))
    known.add("token.value-1")
    pair = "ship:" + password
    for echoed in [password, pair, base64.b64encode(pair.encode()).decode(), urllib.parse.quote(password, safe=""),
                   urllib.parse.quote_plus(password), json.dumps(password)[1:-1], "token.value-1"]:
        assert known.redact("said: %s." % echoed) == "said: <redacted>."
    assert known.redact("ship pushed") == "ship pushed", "a user name is no secret"


def test_the_record_of_blob_locations_is_merged_bounded_and_safe_with_pushes_beside_it(tmp_path, monkeypatch):
    path = str(tmp_path / "cache" / "strata" / "blob-locations.json")
    script = ("import sys; sys.path.insert(0, %r); from builder.registry import locations; "
              "locations.Record(%r).add('r.example', sys.argv[1], ['sha256:%%064d' %% n for n in range(300)])"
              % (REPO, path))
    writers = [subprocess.Popen([sys.executable, "-c", script, "team/%d" % number]) for number in range(6)]
    assert all(writer.wait(timeout=60) == 0 for writer in writers)
    record = locations.Record(path)
    places = record.places("r.example", "sha256:%064d" % 7)
    assert len(places) == 3 and set(places) <= {"team/%d" % number for number in range(6)}, "the newest three"
    assert all(len(record.places("r.example", "sha256:%064d" % n)) == 3 for n in range(300)), "no write lost"
    assert record.places("other.example", "sha256:%064d" % 7) == []
    monkeypatch.setattr(locations, "MOST_BLOBS", 10)
    record.add("r.example", "team/x", ["sha256:new"])
    again = locations.Record(path)
    assert len(again.blobs) == 10 and again.places("r.example", "sha256:new") == ["team/x"]
    with open(path, "w") as stream:
        stream.write("{not json")
    assert locations.Record(path).blobs == {}, "a broken record is no record"
