import base64
import json

import pytest

from builder.errors import StrataError
from builder.registry import credentials, reference


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
