import pytest

from builder.commands import spec
from builder.core.errors import StrataError

OUT = "/nix/store/4k0pklpl2asx6jzfg62232iq38cv3jw0-docker-image-x.tar"


def image_spec(environ=None, **fields):
    """Both specs of one document, as one namespace of their fields."""
    document = {"imageName": "X", "outputs": {"out": OUT}}
    document.update(fields)
    merged = spec.image_spec(document)._asdict()
    merged.update(spec.layer_spec(document, environ=environ or {})._asdict())
    return type("Specs", (), merged)


def test_defaults_match_docker_tools():
    parsed = image_spec()
    assert (parsed.name, parsed.tag) == ("x", "4k0pklpl2asx6jzfg62232iq38cv3jw0")
    assert parsed.created == "1970-01-01T00:00:01Z" and parsed.mtime == 1
    assert (parsed.uid, parsed.gid, parsed.uname, parsed.gname) == (0, 0, "root", "root")
    assert parsed.compressor == "gz" and parsed.config == {} and parsed.architecture == "amd64"
    assert parsed.format == "docker-archive" and parsed.keep_blob and parsed.include_store_paths


def test_mtime_comes_from_mtime_then_source_date_epoch_then_created():
    assert image_spec(mtime="2001-02-03T04:05:06Z").mtime == 981173106
    assert image_spec(mtime=5, environ={"SOURCE_DATE_EPOCH": "9"}).mtime == 5
    assert image_spec(environ={"SOURCE_DATE_EPOCH": "9"}).mtime == 9
    assert image_spec(created="2024-05-01T12:00:00+02:00").mtime == 1714557600
    now = image_spec(created="now")
    assert now.mtime == 1 and now.created > "2026"


@pytest.mark.parametrize("fields, message", [
    ({"config": "x"}, 'config: expected an object, got "x"'),
    ({"config": {"Cmd": 1}}, "config.Cmd: expected a list of strings, or a string, got 1"),
    ({"config": {"command": ["/bin/sh"]}}, "config.command: not a container config field"),
    ({"config": {"cmd": ["a"], "Cmd": ["b"]}}, "config.Cmd: given twice (as cmd too)"),
    ({"config": {"WorkingDir": "app"}}, "config.WorkingDir: 'app' is not an absolute path"),
    ({"config": {"ExposedPorts": {"http": {}}}}, "config.ExposedPorts: 'http' is not PORT"),
    ({"config": {"Healthcheck": {"Test": "x"}}}, "config.Healthcheck: expected an object with Test"),
    ({"config": {"Tty": "yes"}}, 'config.Tty: expected a boolean, got "yes"'),
    ({"architecture": "x86_64"}, "architecture: 'x86_64' is not a GOARCH name (known: 386, amd64,"),
    ({"config": {"Env": ["PATH"]}}, "config.Env: 'PATH' is not NAME=VALUE"),
    ({"config": {"ExposedPorts": {"80/tcp": 1}}}, "config.ExposedPorts: expected an object whose values are {}"),
    ({"created": "yesterday"}, "created: 'yesterday' is not an RFC 3339 time"),
    ({"created": "2024-01-01T00:00:00"}, "created: '2024-01-01T00:00:00' has no time zone"),
    ({"compressor": "bz2"}, "compressor: 'bz2' is not one of gz, none, zstd"),
    ({"uid": -1}, "uid: -1 is not a user or group id"),
    ({"uid": 4294967295}, "uid: 4294967295 is not a user or group id (0 to 4294967294)"),
    ({"gid": 4294967295}, "gid: 4294967295 is not a user or group id"),
    ({"nixUid": 4294967295}, "nixUid: 4294967295 is not a user or group id"),
    ({"mtime": 253402300800}, "mtime: 253402300800 seconds since 1970 is outside the years 1 to 9999"),
    ({"uid": True}, "uid: expected an integer, got true"),
    ({"imageName": None}, "imageName: missing"),
    ({"tag": "a:b"}, "tag: 'a:b' is not a valid tag"),
    ({"outputs": {}}, "outputs.out: no output path given"),
    ({"maxLayers": 1}, "maxLayers: must be at least 2"),
    ({"format": "zip"}, "format: 'zip' is not one of"),
])
def test_bad_fields_are_named(fields, message):
    with pytest.raises(StrataError) as error:
        image_spec(**fields)
    assert message in str(error.value)


def test_times_before_1970_and_after_2242():
    late = image_spec(mtime="2250-01-01T00:00:00Z", created="2300-01-01T00:00:00Z")
    assert late.mtime == 8835955200 and late.created == "2300-01-01T00:00:00Z"
    early = image_spec(created="0001-01-01T00:00:00Z")
    assert early.created == "0001-01-01T00:00:00Z" and early.mtime == 0
    assert image_spec(environ={"SOURCE_DATE_EPOCH": "8835955200"}).mtime == 8835955200
    assert image_spec(mtime=4294967296).mtime == 4294967296
    assert image_spec(mtime="now").mtime > 1795000000


@pytest.mark.parametrize("fields, environ, message", [
    ({"mtime": "2300-01-01T00:00:00Z"}, {}, "mtime: 2300-01-01T00:00:00Z is after 2262-04-11T23:47:16Z"),
    ({"created": "2300-01-01T00:00:00Z"}, {}, "created (the files' time, without mtime): 2300-01-01T00:00:00Z is after"),
    ({}, {"SOURCE_DATE_EPOCH": "10413792000"}, "SOURCE_DATE_EPOCH: 10413792000 is after 2262"),
    ({"mtime": "1969-12-31T23:59:59Z"}, {}, "mtime: 1969-12-31T23:59:59Z is before 1970"),
    ({"mtime": -1}, {}, "mtime: -1 is before 1970"),
])
def test_file_times_a_runtime_cannot_set_are_refused(fields, environ, message):
    with pytest.raises(StrataError) as error:
        image_spec(environ=environ, **fields)
    assert message in str(error.value)


def test_config_fields_are_read_as_docker_reads_them():
    config = image_spec(config={
        "cmd": "/bin/app", "entrypoint": ["/bin/sh", "-c"], "SHELL": "/bin/bash", "workingdir": "/srv",
        "Healthcheck": {"Test": ["CMD", "true"], "Interval": 30000000000, "Retries": 3},
        "OnBuild": [], "ArgsEscaped": True, "Hostname": "h", "Domainname": "d", "StopTimeout": 5,
        "ExposedPorts": {"80/tcp": {}, "53/udp": {}, "8000-8010": {}}}).config
    assert config["Cmd"] == ["/bin/app"] and config["Entrypoint"] == ["/bin/sh", "-c"]
    assert config["Shell"] == ["/bin/bash"] and config["WorkingDir"] == "/srv"
    assert {"cmd", "entrypoint", "SHELL", "workingdir"}.isdisjoint(config)
    assert config["Healthcheck"]["Retries"] == 3 and config["StopTimeout"] == 5


def test_bad_source_date_epoch():
    with pytest.raises(StrataError, match="SOURCE_DATE_EPOCH: expected seconds"):
        image_spec(environ={"SOURCE_DATE_EPOCH": "yesterday"})


def test_load_names_the_file_and_line_of_bad_json(tmp_path):
    path = tmp_path / "spec.json"
    path.write_text('{\n"imageName": }')
    with pytest.raises(StrataError, match=r"spec.json: not valid JSON: .*line 2"):
        spec.load(str(path))


def test_found_by_fuzzing_nul_bytes_deep_nesting_and_errors_of_many_lines(tmp_path):
    with pytest.raises(StrataError, match=r'closure: "/a\\u0000b" holds a NUL byte'):
        image_spec(closure="/a\0b")  # seed 8, case 2819: open() raised ValueError
    with pytest.raises(StrataError, match=r'config.Env: .* holds a NUL byte'):
        image_spec(config={"Env": ["A=\0"]})
    with pytest.raises(StrataError, match=r'gname: .* holds a NUL byte'):
        image_spec(gname="\0")  # found by the layer's property test: a tar cannot hold it
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100000 + "]" * 100000)
    with pytest.raises(StrataError, match="deep.json: not valid JSON"):
        spec.load(str(deep))  # json's RecursionError
    assert str(StrataError("x: cannot read (method gz: bad\n- method tar: bad)")) == \
        "x: cannot read (method gz: bad; - method tar: bad)"
