"""dockerTools users' expressions (tests/nix/dockertools.nix) build the image they build with
dockerTools: nix-build in the sandbox, --check, podman load and run, and the layers' tars as
GNU tar reads them."""

import io
import json
import os
import subprocess
import tarfile

import pytest

from conftest import REPO, built, nix_build, podman_load, run

pytestmark = pytest.mark.e2e

DOCKERTOOLS = os.path.join(REPO, "tests", "nix", "dockertools.nix")


def build(attr, *extra):
    return built(attr, *extra, expression=DOCKERTOOLS)


def loaded(attr):
    """The image of `attr` built and loaded into podman; its reference."""
    return podman_load(build(attr)).strip().split()[-1]


def podman_run(reference, *command, user=None):
    options = ["--user", user] if user else []
    return run("podman", "run", "--rm", "--network", "none", *options, reference, *command)


def config_of(image):
    with tarfile.open(image) as archive:
        manifest = json.load(archive.extractfile("manifest.json"))[0]
        return json.load(archive.extractfile(manifest["Config"]))


def layers_of(image):
    """Each layer's tar bytes, bottom first."""
    with tarfile.open(image) as archive:
        manifest = json.load(archive.extractfile("manifest.json"))[0]
        return [archive.extractfile(name).read() for name in manifest["Layers"]]


@pytest.mark.parametrize("attr", ["envAndPackage", "envAndPackageLayered"])
def test_a_build_env_bin_link_and_a_real_bin_give_one_bin_with_both(attr):
    reference = loaded(attr)
    assert podman_run(reference) == "hello from hello\n"
    assert podman_run(reference, "/bin/other") == "hello from other\n"
    assert "hello" in podman_run(reference, "/bin/ls", "/bin").split()
    if attr == "envAndPackage":  # buildImage's layer, as dockerTools': copyToRoot alone, no store paths
        with tarfile.open(os.path.join(build("envAndPackage.layer"), "blob")) as layer:
            names = layer.getnames()
        assert "bin/hello" in names and "bin/other" in names and not any(n.startswith("nix") for n in names)


@pytest.mark.parametrize("attr", ["symlinkContents", "symlinkCopyToRoot"])
def test_a_store_path_that_is_a_symlink_to_a_package(attr):
    assert podman_run(loaded(attr)) == "hello from hello\n"


@pytest.mark.parametrize("attr, layer", [("pwdInFile", 0), ("pwdInFileLayered", -1)])
def test_extra_commands_run_in_the_same_directory_every_build(attr, layer):
    image = build(attr)
    assert build(attr, "--check") == image
    with tarfile.open(fileobj=io.BytesIO(layers_of(image)[layer])) as tar:
        assert tar.extractfile("where").read() == b"/build/root\n"


@pytest.mark.parametrize("attr, layer", [("modeZero", 0), ("modeZeroLayered", -1), ("modeZeroFakeRoot", -1)])
def test_files_and_directories_of_mode_0000_are_written_as_they_are(attr, layer):
    image = build(attr)
    with tarfile.open(fileobj=io.BytesIO(layers_of(image)[layer])) as tar:
        entries = {member.name: member for member in tar.getmembers()}
        assert tar.extractfile("etc/shadow").read() == b"secret\n"
        assert tar.extractfile("locked/in/file").read() == b"kept\n"
    assert [entries[name].mode for name in ("etc/shadow", "locked", "locked/in", "locked/in/file")] == [0] * 4
    assert entries["etc"].mode == 0o755
    if attr == "modeZeroFakeRoot":
        assert (entries["etc/shadow"].uid, entries["etc/shadow"].gid) == (0, 42)
    if attr != "modeZero":  # (it has no shell)
        assert podman_run(loaded(attr), "/bin/cat", "/etc/shadow") == "secret\n"


def test_times_after_2242_and_split_link_names_read_back_everywhere(tmp_path):
    image = build("farFuture")
    assert build("farFuture", "--check") == image
    for number, data in enumerate(layers_of(image)):
        path = tmp_path / ("layer%d.tar" % number)
        path.write_bytes(data)
        listed = subprocess.run(["tar", "tvf", str(path), "--full-time"], capture_output=True, text=True)
        assert listed.returncode == 0 and listed.stderr == "", listed.stderr
        assert "2250-01-01 00:00:00" in listed.stdout
    reference = loaded("farFuture")
    assert podman_run(reference) == "deep\n8835955200\n"


def test_a_creation_time_before_1970():
    assert config_of(build("yearOne"))["created"] == "0001-01-01T00:00:00Z"
    assert run("skopeo", "inspect", "docker-archive:" + build("yearOne")).count("0001-01-01T00:00:00Z") >= 1


def test_uid_and_gid_own_the_store_layers_and_a_non_root_user_reads_them():
    image = build("layeredWithUser")
    store = tarfile.open(fileobj=io.BytesIO(layers_of(image)[0])).getmembers()
    assert {(m.uid, m.gid, m.uname, m.gname) for m in store} == {(999, 998, "somebody", "somegroup")}
    reference = loaded("layeredWithUser")
    busybox = next(m.name for m in store if m.name.endswith("-busybox"))
    assert podman_run(reference, "/%s/bin/stat" % busybox, "-c", "%a %u %g", "/nix", "/nix/store", user="999") \
        == "755 999 998\n755 999 998\n"


def test_config_field_names_in_any_case_and_a_string_cmd():
    reference = loaded("configAsDockerReadsIt")
    assert podman_run(reference) == "hello from hello\n"
    assert podman_run(reference, "/bin/sh", "-c", "pwd; echo $A") == "/bin\n1\n"
    inspected = json.loads(run("podman", "image", "inspect", reference))[0]["Config"]
    assert inspected["Cmd"] == ["/bin/hello"] and inspected["WorkingDir"] == "/bin"
    assert config_of(build("configAsDockerReadsIt"))["config"]["Healthcheck"] == {"Test": ["CMD", "/bin/hello"],
                                                                                "Retries": 2}


def test_the_helpers_bin_sh_usr_bin_env_ca_certificates_and_fake_nss_with_a_user():
    assert podman_run(loaded("helpers")).splitlines() == [
        "hi /home/app", "root:x:0:0:root user:/var/empty:/bin/sh", "app:x:1000:1000::/home/app:/bin/sh",
        "nobody:x:65534:65534:nobody:/var/empty:/bin/sh", "ca"]


def test_the_store_paths_that_commands_and_copied_files_name_are_in_the_image():
    assert podman_run(loaded("commandsClosure")) == "run by the shell extraCommands named\n"
    reference = loaded("commandsClosureLayered")  # a stream
    assert reference == "localhost/commands-closure-layered:latest"
    assert podman_run(reference) == "from fakeRootCommands\n"
    assert podman_run(reference, "/usr/bin/sh", "-c", "echo linked") == "linked\n"
    assert podman_run(loaded("explicitCopyToRoot")) == "hello from hello\n"


def test_fake_root_commands_with_the_image_root_as_slash():
    image = build("fakechroot")
    assert build("fakechroot", "--check") == image
    with tarfile.open(fileobj=io.BytesIO(layers_of(image)[-1])) as top:
        members = {member.name: member for member in top.getmembers()}
    assert members["home/jane"].uid == 1000 and members["usr/bin/sh"].linkname == "/bin/sh"
    assert not {"nix", "dev", "proc", "sys", "lib", "lib64"} & set(members), "no mount point in the layer"
    reference = loaded("fakechroot")
    assert podman_run(reference, "/bin/stat", "-c", "%u", "/home/jane") == "1000\n"
    assert podman_run(reference, "/usr/bin/sh", "-c", "echo through the link") == "through the link\n"


def test_run_as_root_makes_users_over_a_base_and_deletes_with_whiteouts():
    image = build("runAsRoot")
    assert build("runAsRoot", "--check") == image
    with tarfile.open(fileobj=io.BytesIO(layers_of(image)[-1])) as layer:
        members = {member.name: member for member in layer.getmembers()}
    assert "etc/.wh.old" in members and "opt/.wh.gone" in members and "opt/gone/.wh.x" not in members
    assert "etc/motd" not in members and "bin/busybox" not in members, "what the base holds unchanged stays out"
    assert members["var/log/nginx"].uid == members["var/log/nginx"].gid > 0 and members["runAsRoot"].uid == 0
    reference = loaded("runAsRoot")
    assert podman_run(reference) == "hello from other\n"
    said = podman_run(reference, "/bin/sh", "-c", "cat /runAsRoot /extraCommands /etc/motd; ls /etc/old /opt/gone;"
                      " stat -c '%U:%G %u' /var/log/nginx; id nginx")
    lines = said.splitlines()
    assert lines[:3] == ["runAsRoot", "extraCommands", "base"]
    uid = members["var/log/nginx"].uid
    assert lines[3] == "nginx:nginx %d" % uid and 0 < uid < 1000, "a system user owns it"
    assert lines[4].startswith("uid=%d(nginx)" % uid)


def test_a_layering_pipeline_decides_the_store_layers():
    image = build("pipeline")
    store_paths = [sorted({name.split("/")[2].split("-", 1)[1] for name in tarfile.open(fileobj=io.BytesIO(data))
                           .getnames() if name.count("/") >= 2 and name.startswith("nix/store/")})
                   for data in layers_of(image)[:-1]]
    assert store_paths == [["busybox"], ["hello", "other"]]
    assert podman_run(loaded("pipeline")) == "hello from hello\n"


def test_declared_users_without_fakeroot(tmp_path):
    image = build("withUsers")
    assert build("withUsers", "--check") == image
    reference = loaded("withUsers")
    said = podman_run(reference, "/bin/sh", "-c", "id; echo x > $HOME/f && echo home; echo y > /tmp/f && echo tmp;"
                      " echo z > /etc/f 2>/dev/null || echo no-etc")
    assert said.splitlines() == ["uid=1000(app) gid=1000(app) groups=50(staff),1000(app)", "home", "tmp", "no-etc"]
    with tarfile.open(fileobj=io.BytesIO(layers_of(image)[-1])) as top:
        members = {member.name: member for member in top.getmembers()}
    assert (members["home/app"].uid, members["home/app"].mode) == (1000, 0o700)
    assert members["tmp"].mode == 0o1777 and members["etc/shadow"].mode == 0o600
    on_base = loaded("usersOnBase")
    assert podman_run(on_base, "/bin/sh", "-c", "id; id base").splitlines() == [
        "uid=1000(app) gid=1000(app) groups=1000(app)", "uid=900(base) gid=900(base) groups=900(base)"]


def _store_members(image, store_path):
    """The tar members of `store_path` in the image's layers, by name."""
    found = {}
    for data in layers_of(image):
        with tarfile.open(fileobj=io.BytesIO(data)) as layer:
            found.update((member.name, member) for member in layer.getmembers()
                         if member.name.startswith(store_path.lstrip("/")))
    return found


def _secret_as_read_by(reference, *users):
    """What each of `users` reads of the perms images' $SECRET ("denied" where refused)."""
    return [podman_run(reference, "/bin/sh", "-c", "cat $SECRET 2>/dev/null || echo denied", user=user).strip()
            for user in users]


@pytest.mark.parametrize("attr", ["permsLayered", "permsStream", "permsWithoutIfd"])
def test_perms_make_a_store_path_its_groups_alone_without_fakeroot(attr, tmp_path):
    image = build(attr)
    assert build(attr, "--check") == image
    reference = loaded(attr)
    assert podman_run(reference, "/bin/sh", "-c", "id; echo x > $HOME/f && echo home; echo y > /tmp/f && echo tmp;"
                      " echo z > /etc/f 2>/dev/null || echo no-etc").splitlines() == [
        "uid=1000(app) gid=1000(app) groups=1000(app),2000(readers)", "home", "tmp", "no-etc"]
    assert _secret_as_read_by(reference, "app", "other", "root") == ["secret", "denied", "secret"]
    if attr == "permsStream":
        return
    secret = config_of(image)["config"]["Env"][0].split("=", 1)[1].rsplit("/share/", 1)[0]
    members = _store_members(image, secret)
    assert {(member.uid, member.gid, member.gname, member.mode) for member in members.values()} == {
        (0, 2000, "readers", 0o750)}
    assert len(members) == 3
    run("skopeo", "copy", "docker-archive:%s" % image, "oci:%s:x" % (tmp_path / "oci"))
    run("umoci", "unpack", "--image", "%s:x" % (tmp_path / "oci"), str(tmp_path / "bundle"))
    unpacked = os.stat(str(tmp_path / "bundle" / "rootfs") + secret + "/share/secret")
    assert (unpacked.st_uid, unpacked.st_gid, unpacked.st_mode & 0o7777) == (0, 2000, 0o750)
    home = os.stat(str(tmp_path / "bundle" / "rootfs" / "home" / "app"))
    assert (home.st_uid, home.st_gid, home.st_mode & 0o7777) == (1000, 1000, 0o700)


def test_build_image_layer_passthru_has_the_users_and_the_perms_outside_the_store():
    with tarfile.open(os.path.join(build("permsLayer"), "blob")) as layer:
        members = {member.name: member for member in layer.getmembers()}
    assert (members["home/app/data"].uid, members["home/app/data"].mode) == (1000, 0o700)
    assert "etc/passwd" in members and not any(name.startswith("nix") for name in members)


def test_perms_that_keep_executable_bits_leave_a_nix_database_that_verifies(tmp_path):
    image = build("permsWithNixDb")
    assert build("permsWithNixDb", "--check") == image
    run("skopeo", "--tmpdir", str(tmp_path), "copy", "docker-archive:%s" % image, "oci:%s:x" % (tmp_path / "oci"))
    run("umoci", "unpack", "--image", "%s:x" % (tmp_path / "oci"), str(tmp_path / "bundle"))
    rootfs = str(tmp_path / "bundle" / "rootfs")
    secret = config_of(image)["config"]["Env"][0].split("=", 1)[1]
    for path, mode in [(secret, 0o640), (os.path.dirname(secret), 0o750)]:
        found = os.stat(rootfs + path)
        assert (found.st_gid, found.st_mode & 0o7777) == (2000, mode)
    verify = subprocess.run(["nix-store", "--store", "local?root=%s" % rootfs, "--verify", "--check-contents"],
                            capture_output=True, text=True)
    assert verify.returncode == 0 and "error" not in verify.stderr, verify.stderr
    assert _secret_as_read_by(loaded("permsWithNixDb"), "app", "other") == ["secret", "denied"]


def test_perms_over_a_base_with_its_own_users_and_through_export_and_merge(tmp_path):
    image = build("permsOnBase")
    assert build("permsOnBase", "--check") == image
    reference = loaded("permsOnBase")
    assert podman_run(reference, "/bin/sh", "-c", "id; id base; cat /home/app/data/hello; echo x > /home/app/data/y"
                      " && echo wrote").splitlines() == [
        "uid=1000(app) gid=1000(app) groups=1000(app),2000(readers)", "uid=900(base) gid=900(base) groups=900(base)",
        "hello", "wrote"]
    assert _secret_as_read_by(reference, "app", "base", "root") == ["secret", "denied", "secret"]
    over = loaded("overPermsBase")
    assert _secret_as_read_by(over, "app", "other") == ["secret", "denied"], "a base's owners are kept"
    exported = build("permsExported")
    assert build("permsExported", "--check") == exported
    with tarfile.open(exported) as archive:
        owners = {(member.uid, member.gid, member.mode) for member in archive.getmembers()
                  if "-secret" in member.name}
    assert owners == {(0, 2000, 0o750)}
    merged = build("permsMerged")
    assert build("permsMerged", "--check") == merged
    loaded_names = podman_load(merged)
    try:
        for name in ("localhost/perms-layered:latest", "localhost/perms-on-base:latest"):
            assert name in loaded_names
            assert _secret_as_read_by(name, "app", "1001", "root") == ["secret", "denied", "secret"]
    finally:
        subprocess.run(["podman", "rmi", "localhost/perms-layered:latest", "localhost/perms-on-base:latest"],
                       capture_output=True)


@pytest.mark.parametrize("attr", ["usersOverLinkedNss", "usersBesideLinkedNss"])
def test_declared_users_join_the_accounts_fake_nss_links_into_the_store(attr):
    said = podman_run(loaded(attr), "/bin/sh", "-c", "id web; id app")
    assert said.splitlines() == ["uid=800(web) gid=800(web) groups=800(web)",
                                 "uid=1000(app) gid=1000(app) groups=1000(app)"]


def test_zstd_layers_through_the_zstd_program(tmp_path):
    image = build("zstdImage")
    assert build("zstdImage", "--check") == image
    with tarfile.open(image) as archive:
        layer = archive.extractfile(json.load(archive.extractfile("manifest.json"))[0]["Layers"][0]).read()
    assert layer[:4] == b"\x28\xb5\x2f\xfd", "a zstd frame"
    assert podman_run(loaded("zstdImage")) == "hello from hello\n"
    layout = build("zstdLayered")
    index = json.load(open(os.path.join(layout, "index.json")))
    manifest = json.load(open(os.path.join(layout, "blobs", "sha256", index["manifests"][0]["digest"][7:])))
    assert {layer["mediaType"] for layer in manifest["layers"]} == {"application/vnd.oci.image.layer.v1.tar+zstd"}
    run("skopeo", "copy", "oci:%s:zstd-layered:latest" % layout, "oci:%s:x" % (tmp_path / "copy"))
    on_base = loaded("onZstdBase")
    assert podman_run(on_base) == "hello from other\n" and podman_run(on_base, "/bin/hello") == "hello from hello\n"


def test_the_stream_script_takes_repo_tag_and_says_what_it_writes():
    script = build("stream")
    streamed = subprocess.run([script, "-t", "Other/Name:v2"], capture_output=True)
    assert streamed.returncode == 0, streamed.stderr
    said = streamed.stderr.decode().splitlines()
    assert said[0].startswith("strata: layer 1/3: layer-busybox (1 store path, ")
    assert said[-1].startswith("strata: image other/name:v2, ID sha256:")
    with tarfile.open(fileobj=io.BytesIO(streamed.stdout)) as archive:
        assert json.load(archive.extractfile("manifest.json"))[0]["RepoTags"] == ["other/name:v2"]
    archive = subprocess.run([script, "--repo_tag", "other/name:v3"], capture_output=True, check=True).stdout
    assert "localhost/other/name:v3" in subprocess.run(["podman", "load"], input=archive, capture_output=True).stdout.decode()
    assert podman_run("localhost/other/name:v3") == "hello from hello\n"
    bad = subprocess.run([script, "-t", "Bad Name:v1"], capture_output=True, text=True)
    assert bad.returncode == 1 and bad.stdout == "" and "name: 'Bad Name' is not a valid image name" in bad.stderr
    assert "--repo_tag" in subprocess.run([script, "--help"], capture_output=True, text=True).stdout


def evaluate(expression):
    """`expression` evaluated with strata as `s` (host python, shell and skopeo)."""
    return subprocess.run(["nix-instantiate", "--eval", "--strict", "--json", "-E",
                           'let s = import %s { python3 = "/usr/bin/python3"; shell = "/bin/sh"; skopeo = "/usr/bin/skopeo"; }; in %s'
                           % (REPO, expression)], capture_output=True, text=True)


def test_docker_tools_arguments_and_attributes_evaluate():
    evaluated = evaluate("""{
      override = ((s.buildImage { name = "x"; tag = "a"; }).override { tag = "b"; }).imageTag;
      overrideFunction = ((s.buildLayeredImage { name = "x"; tag = "a"; }).override (old: { tag = old.tag + "c"; })).imageTag;
      withNixDb = (s.buildImageWithNixDb { name = "x"; }).drvAttrs.includeNixDB;
      layeredWithNixDb = (s.buildLayeredImageWithNixDb { name = "x"; }).drvAttrs.nixDbLayer != null;
      vmSizes = (s.buildImage { name = "x"; diskSize = 2048; buildVMMemorySize = 1024; }).imageName;
      exportDiskSize = (s.exportImage { fromImage = s.buildImage { name = "x"; }; diskSize = 2048; }).name;
      stream = (s.buildLayeredImage { name = "x"; compressor = "none"; }).stream.isExe;
      streamDebug = (s.streamLayeredImage { name = "x"; debug = true; }).isExe;
      mtimeNow = (s.streamLayeredImage { name = "x"; mtime = "now"; }).isExe;
      longName = builtins.stringLength (s.buildLayeredImage { name = "r.example/" + builtins.concatStringsSep ""
        (builtins.genList (_: "abcdefghij") 23); }).customisationLayer.name;
    }""")
    assert evaluated.returncode == 0, evaluated.stderr
    assert json.loads(evaluated.stdout) == {
        "override": "b", "overrideFunction": "ac", "withNixDb": True, "layeredWithNixDb": True, "vmSizes": "x",
        "exportDiskSize": "x-rootfs.tar", "stream": True, "streamDebug": True, "mtimeNow": True,
        "longName": 121}, "a 230-character name is cut to 100 in store path names"


@pytest.mark.parametrize("expression, message", [
    ('(s.streamLayeredImage { name = "x"; format = "oci"; }).drvPath', "strata.streamLayeredImage: `format` is buildLayeredImage's"),
    ('(s.streamLayeredImage { name = "x"; compressor = "gz"; }).drvPath', "strata.streamLayeredImage: `compressor` is buildLayeredImage's"),
    ('(s.buildLayeredImage { name = "x"; layeringPipeline = "popularity_contest"; }).drvPath',
     "strata.buildLayeredImage: `layeringPipeline` must be a list of steps"),
    ('(s.pullImage { imageName = "a"; imageDigest = "sha256:0"; hash = "abc"; }).drvPath', "`hash` must be an SRI hash"),
    ('(s.buildImage { name = "x"; copyToRoot = 42; }).drvPath',
     "strata.buildImage: `copyToRoot` must be a derivation or a store path, or a list of them; got 42"),
    ('(s.buildImage { name = "x"; copyToRoot = { a = 1; }; }).drvPath',
     "strata.buildImage: `copyToRoot` must be a derivation or a store path, or a list of them; got an attribute set"
     " that is no derivation (a)"),
    ('(s.buildImage { name = "x"; copyToRoot = "hello"; }).drvPath', '`copyToRoot` must be a derivation or a store'
     ' path, or a list of them; got "hello"'),
    ('(s.buildLayeredImage { name = "x"; contents = [ 1 ]; }).drvPath',
     "strata.buildLayeredImage: `contents` must be a derivation or a store path, or a list of them; got 1"),
    ('(s.buildLayer { deps = "x"; }).drvPath', 'strata.buildLayer: `deps` must be a derivation or a store path'),
    ('(s.buildLayeredImage { name = "x"; maxLayers = "10"; }).drvPath',
     'strata.buildLayeredImage: `maxLayers` must be an integer, got "10"'),
    ('(s.streamLayeredImage { name = "x"; nixUid = -3; }).drvPath',
     "strata.streamLayeredImage: `nixUid` must be a user or group id from 0 to 4294967294, got -3"),
    ('(s.buildImage { name = "x"; gid = 4294967295; }).drvPath', "strata.buildImage: `gid` must be a user or group id"),
    ('(s.buildImage { name = "x"; fromImage = s.streamLayeredImage { name = "b"; }; }).drvPath',
     "strata.buildImage: `fromImage` is a script that streams an image (streamLayeredImage), not an image"),
    ('(s.mergeImages [ (s.streamLayeredImage { name = "b"; }) ]).drvPath',
     "strata.mergeImages: `images` is a script that streams an image"),
    ('(s.buildImage { name = "x"; perms = [ { path = "/tmp"; mode = 750; } ]; }).drvPath',
     'strata.buildImage: `perms` rule 0: `mode` must be a string of octal digits such as "0750" (Nix has no octal'),
    ('(s.buildLayeredImage { name = "x"; perms = [ { path = "/tmp"; owner = 1; } ]; }).drvPath',
     "strata.buildLayeredImage: `perms` rule 0: `owner` is not a field of a rule (path, regex, mode, orMode, uid, gid,"),
    ('(s.buildLayer { perms = [ { path = "/tmp"; uid = -1; } ]; }).drvPath',
     "strata.buildLayer: `perms.uid` must be a user or group id from 0 to 4294967294, got -1"),
    ('(s.buildImage { name = "x"; perms = { path = "/tmp"; }; }).drvPath',
     "strata.buildImage: `perms` must be a list of rules, got an attribute set"),
    ("s.binSh", "strata.binSh: no binShell; pass `pkgs`, or `binShell`"),
    ("s.usrBinEnv", "strata.usrBinEnv: no envBinary; pass `pkgs`, or `envBinary`"),
    ("s.caCertificates", "strata.caCertificates: no caBundle; pass `pkgs`, or `caBundle`"),
    ("s.shadowSetup", "strata.shadowSetup: no shadow; pass `pkgs`, or `shadow`"),
])
def test_arguments_strata_cannot_honour_and_helpers_without_their_part_say_so(expression, message):
    evaluated = evaluate(expression)
    assert evaluated.returncode != 0 and message in evaluated.stderr, evaluated.stderr


@pytest.mark.parametrize("attr, message", [
    ("whiteoutInCopyToRoot", "etc/.wh.passwd: a file whose name starts with .wh. is read as a whiteout"),
    ("mtime2300", "mtime: 2300-01-01T00:00:00Z is after 2262-04-11T23:47:16Z"),
    ("usersClash", "users.other (its group): id 900 is base's in /etc/group"),
    ("permsTypo", 'regex = "/secrte$"}: the regex selects nothing under /nix/store/'),
    ("permsOfBaseFiles", "-secret is not in this layer (perms cannot change a base image's files"),
    ("permsNowhere", "-secret is in none of the layers the image writes (perms cannot change a base image's files"),
    ("pipelineUnknownStep", "layeringPipeline: 'shuffle' is not a step strata knows (known: flatten, limit_layers,"),
    ("runAsRootWithoutProot", "runAsRoot: no proot to run the commands in the root with; pass `proot` (or `pkgs`)"),
    ("fakechrootWithoutProot", "enableFakechroot: no proot to run the commands in the root with; pass `proot`"),
    ("invisibleFakeroot", "fakeroot: /usr/bin/fakeroot is a link to /etc/alternatives/fakeroot, which the build"
                          " (its sandbox) cannot see; pass strata a `fakeroot` the sandbox holds"),
])
def test_inputs_an_image_cannot_hold_are_one_clear_error(attr, message):
    failed = nix_build(attr, expression=DOCKERTOOLS)
    errors = [line for line in failed.stderr.splitlines() if line.startswith("strata: error:")]
    assert failed.returncode != 0 and len(errors) == 1 and message in errors[0], failed.stderr


def test_in_a_flake_pure_evaluation_asks_for_the_system(tmp_path):
    (tmp_path / "flake.nix").write_text("""{
  inputs.strata.url = "path:%s";
  outputs = { self, strata }: {
    without = (strata.lib { python3 = "/usr/bin/python3"; }).buildImage { name = "x"; };
    given = (strata.lib { python3 = "/usr/bin/python3"; system = "x86_64-linux"; }).buildImage { name = "x"; };
  };
}""" % REPO)
    nix = ["nix", "--extra-experimental-features", "nix-command flakes", "eval", "--raw"]
    without = subprocess.run(nix + [".#without.drvPath"], cwd=tmp_path, capture_output=True, text=True)
    assert without.returncode != 0 and "strata: pass `system`" in without.stderr and "pure evaluation" in without.stderr
    given = subprocess.run(nix + [".#given.drvPath"], cwd=tmp_path, capture_output=True, text=True)
    assert given.returncode == 0 and given.stdout.endswith("-docker-image-x.tar.drv"), given.stderr
