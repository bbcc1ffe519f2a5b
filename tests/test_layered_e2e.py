"""Layered images end to end: nix-build in the sandbox (with import-from-derivation and
without), --check, podman, a registry, umoci, and what a one-package change rebuilds."""

import json
import os
import re
import subprocess
import tarfile

import pytest

from conftest import REPO, nix_build, run

pytestmark = pytest.mark.e2e

LAYERED = os.path.join(REPO, "tests", "nix", "layered.nix")
STORE_NAMES = ["app", "busybox", "lib-a", "lib-b", "lib-base", "tool-a", "tool-b"]


def build(attr, *extra):
    finished = nix_build(attr, *extra, expression=LAYERED)
    assert finished.returncode == 0, finished.stderr
    return finished


def path_of(attr):
    return build(attr).stdout.strip()


def image_contents(image):
    """(manifest, config, {layer digest: member names}) of an image tar."""
    with tarfile.open(image) as archive:
        manifest = json.load(archive.extractfile("manifest.json"))[0]
        config = json.load(archive.extractfile(manifest["Config"]))
        layers = {}
        for name in manifest["Layers"]:
            layers[name] = tarfile.open(fileobj=archive.extractfile(name)).getnames()
    return manifest, config, layers


def store_paths_in(names):
    return {name.split("/")[2] for name in names if name.startswith("nix/store/") and name.count("/") >= 2}


def names_of(store_basenames):
    return sorted(base.split("-", 1)[1] for base in store_basenames)


@pytest.fixture(scope="module")
def archive():
    return path_of("archive")


def test_every_store_path_in_exactly_one_layer(archive):
    manifest, config, layers = image_contents(archive)
    assert len(manifest["Layers"]) == len(config["rootfs"]["diff_ids"]) == len(config["history"]) == 8
    per_layer = [store_paths_in(names) for names in layers.values()]
    every = [path for paths in per_layer for path in paths]
    assert len(every) == len(set(every)) and names_of(every) == STORE_NAMES


def test_podman_runs_the_archive_and_the_stream(archive):
    tag = os.path.basename(archive)[:32]
    assert "localhost/strata-layered:%s" % tag in run("podman", "load", "-q", "-i", archive)
    assert run("podman", "run", "--rm", "--network", "none", "localhost/strata-layered:%s" % tag).startswith("app 1\n")
    script = path_of("stream")
    streamed = subprocess.run(["podman", "load", "-q"], stdin=subprocess.Popen([script], stdout=subprocess.PIPE).stdout,
                              capture_output=True, text=True)
    assert "localhost/strata-layered:streamed" in streamed.stdout, streamed.stderr
    assert run("podman", "run", "--rm", "--network", "none", "localhost/strata-layered:streamed").startswith("app 1\n")


def assert_same_layers_every_way(image, no_ifd, stream, tmp_path):
    """The image built, built without import-from-derivation (attribute `no_ifd`) and
    written by the stream script (attribute `stream`, into `tmp_path`) have the same layers."""
    _, config, _ = image_contents(image)
    _, without_ifd, _ = image_contents(path_of(no_ifd))
    streamed = tmp_path / "streamed.tar"
    with open(streamed, "wb") as out:
        subprocess.run([path_of(stream)], stdout=out, check=True)
    _, from_stream, _ = image_contents(str(streamed))
    assert config["rootfs"] == without_ifd["rootfs"] == from_stream["rootfs"]
    return streamed


def test_stream_build_and_no_ifd_give_the_same_layers(archive, tmp_path):
    streamed = assert_same_layers_every_way(archive, "noIFD", "stream", tmp_path)
    without_ifd = tmp_path / "no-ifd.tar"
    with open(without_ifd, "wb") as out:
        subprocess.run([path_of("streamNoIFD")], stdout=out, check=True)
    assert without_ifd.read_bytes() == streamed.read_bytes()


def test_with_and_without_ifd_the_store_layers_belong_to_nix_uid_alike():
    ifd, _, _ = image_contents(path_of("nixUid"))
    no_ifd, _, _ = image_contents(path_of("noIFDNixUid"))
    assert ifd["Layers"] == no_ifd["Layers"]
    with tarfile.open(path_of("nixUid")) as archive:
        first = tarfile.open(fileobj=archive.extractfile(ifd["Layers"][0])).getmembers()
    assert {(member.uid, member.gid) for member in first} == {(1000, 100)}


def test_layers_written_in_parallel_into_a_layout_are_the_layer_derivations_bytes():
    def layer_digests(layout):
        index = json.load(open(os.path.join(layout, "index.json")))
        manifest = json.load(open(os.path.join(layout, "blobs", "sha256", index["manifests"][0]["digest"][7:])))
        return [layer["digest"] for layer in manifest["layers"]]
    parallel, derivations = path_of("noIFDOci"), path_of("oci")
    assert layer_digests(parallel) == layer_digests(derivations)
    assert not os.path.islink(os.path.join(parallel, "blobs", "sha256", layer_digests(parallel)[0][7:]))


def test_check_rebuilds_every_layer_the_plan_and_the_images_bit_for_bit(archive):
    for attr in ["archive.layers", "archive.plan", "archive", "oci", "stream", "stream.layers", "noIFD", "noIFDOci",
                 "fakeRoot.customisationLayer", "explicitLists", "noIFDNixUid"]:
        build(attr)
        check = nix_build(attr, "--check", expression=LAYERED)
        assert check.returncode == 0, "%s: %s" % (attr, check.stderr)


def test_a_package_of_many_files_is_layered_the_same_every_way_and_runs(tmp_path):
    """A layer of one store path of 1,530 files, which the layer derivation's workers write
    in stripes: rebuilt bit for bit, the same with and without import-from-derivation and
    from the stream script, identical files hard links, and podman runs it."""
    image = path_of("many")
    for attr in ["many.layers", "many"]:
        check = nix_build(attr, "--check", expression=LAYERED)
        assert check.returncode == 0, "%s: %s" % (attr, check.stderr)
    assert_same_layers_every_way(image, "manyNoIFD", "manyStream", tmp_path)
    manifest, _, _ = image_contents(image)
    with tarfile.open(image) as archive:
        for name in manifest["Layers"]:
            members = tarfile.open(fileobj=archive.extractfile(name)).getmembers()
            if any(member.name.endswith("-many-files/share/d1/f1") for member in members):
                break
    files = [member for member in members if member.isfile() or member.islnk()]
    assert len(files) == 1530
    licences = [member for member in files if member.name.endswith("/licence")]
    assert sum(member.islnk() for member in licences) == 29
    tag = os.path.basename(image)[:32]
    assert "localhost/many-files:%s" % tag in run("podman", "load", "-q", "-i", image)
    assert run("podman", "run", "--rm", "--network", "none", "localhost/many-files:%s" % tag) == "file 7 9\n51\n"


def test_registry_accepts_the_archive_and_the_oci_layout(archive, registry, tmp_path):
    layout = path_of("oci")
    for source, name in [("docker-archive:%s" % archive, "archive"), ("oci:%s:strata-layered:%s" % (
            layout, os.path.basename(layout)[:32]), "layout")]:
        target = "docker://%s/strata/%s:e2e" % (registry, name)
        run("skopeo", "--tmpdir", str(tmp_path), "copy", "--dest-tls-verify=false", source, target)
        inspected = json.loads(run("skopeo", "inspect", "--config", "--tls-verify=false", target))
        assert len(inspected["rootfs"]["diff_ids"]) == 8 and inspected["config"]["Cmd"] == ["/bin/app"]


def test_umoci_unpacks_the_oci_layout_to_the_closure(tmp_path):
    layout = path_of("oci")
    work = tmp_path / "layout"
    run("cp", "-rL", layout, str(work))
    run("chmod", "-R", "u+w", str(work))
    bundle = tmp_path / "bundle"
    run("umoci", "unpack", "--image", "%s:strata-layered:%s" % (work, os.path.basename(layout)[:32]), str(bundle))
    rootfs = bundle / "rootfs"
    assert names_of(os.listdir(rootfs / "nix" / "store")) == STORE_NAMES
    for base in os.listdir(rootfs / "nix" / "store"):
        diff = subprocess.run(["diff", "-r", "--no-dereference", "/nix/store/" + base, str(rootfs / "nix" / "store" / base)],
                              capture_output=True, text=True)
        assert diff.returncode == 0, diff.stdout
    assert os.readlink(rootfs / "bin" / "app").startswith("/nix/store/") and os.readlink(rootfs / "bin" / "sh") == "busybox"


def test_max_layers_is_respected_and_no_path_is_lost():
    for attr, max_layers in [("tight", 3), ("explicit", 4)]:
        manifest, _, layers = image_contents(path_of(attr))
        assert len(manifest["Layers"]) <= max_layers
        every = [path for names in layers.values() for path in store_paths_in(names)]
        assert len(every) == len(set(every)) and names_of(every) == STORE_NAMES
    manifest, _, layers = image_contents(path_of("explicit"))
    assert names_of(store_paths_in(layers[manifest["Layers"][0]])) == ["busybox", "lib-base"]
    manifest, _, layers = image_contents(path_of("explicitLists"))
    first, second = (names_of(store_paths_in(layers[name])) for name in manifest["Layers"][:2])
    assert (first, second) == (["lib-base"], ["lib-a", "tool-a"]), "each list's closure less the layers below"
    every = [path for names in layers.values() for path in store_paths_in(names)]
    assert len(manifest["Layers"]) <= 5 and names_of(every) == STORE_NAMES and len(every) == len(set(every))


def test_images_sharing_part_of_a_closure_share_those_layers(archive):
    ours, _, layers = image_contents(archive)
    theirs, _, their_layers = image_contents(path_of("other"))
    shared = set(ours["Layers"]) & set(theirs["Layers"])
    assert sorted(names_of(p for name in shared for p in store_paths_in(layers[name]))) == ["busybox", "lib-b", "lib-base"]


def test_changing_the_top_package_rebuilds_its_layer_and_the_image_only(archive, capsys):
    changed = subprocess.run(["bash", os.path.join(REPO, "scripts", "nix-build"), LAYERED, "-A", "archive",
                              "--argstr", "appVersion", "changed-%s" % os.getpid(), "--no-out-link"],
                             capture_output=True, text=True)
    assert changed.returncode == 0, changed.stderr
    rebuilt = sorted(re.sub(r"^[a-z0-9]{32}-", "", name) for name in
                     re.findall(r"building '/nix/store/([^']+)\.drv'", changed.stderr))
    assert rebuilt == ["app", "docker-image-strata-layered.tar", "strata-layer-app", "strata-layered-layer-plan.json",
                       "strata-strata-layered-customisation"]
    before, _, _ = image_contents(archive)
    after, _, _ = image_contents(changed.stdout.strip())
    with tarfile.open(changed.stdout.strip()) as image:
        sizes = {member.name: member.size for member in image.getmembers()}
    new = [name for name in after["Layers"] if name not in before["Layers"]]
    total = sum(sizes[name] for name in after["Layers"])
    with capsys.disabled():
        print("\n  one-package change: %d of %d layers new, %d of %d layer bytes" % (
            len(new), len(after["Layers"]), sum(sizes[name] for name in new), total))
    assert len(new) == 2


def test_fake_root_commands_set_owners_in_the_top_layer_and_uid_owns_the_store_layers():
    image = path_of("fakeRoot")
    manifest, _, _ = image_contents(image)
    with tarfile.open(image) as archive:
        top = {m.name: m for m in tarfile.open(fileobj=archive.extractfile(manifest["Layers"][-1])).getmembers()}
    assert (top["home/app"].uid, top["home/app"].gid) == (1000, 100)
    assert (top["tmp"].uid, top["tmp"].gid, top["tmp"].mode) == (7, 7, 0o1777)
    assert (top["bin"].uid, top["bin"].gid) == (0, 0), "the rest is root's, as dockerTools' fakeroot leaves it"
    with tarfile.open(image) as archive:
        store = tarfile.open(fileobj=archive.extractfile(manifest["Layers"][0])).getmembers()
    assert {(m.uid, m.gid, m.uname, m.gname) for m in store} == {(5, 6, "five", "six")}, "uid/gid own the store"
    run("podman", "load", "-q", "-i", image)
    listing = run("podman", "run", "--rm", "--network", "none", "localhost/strata-layered:fakeroot",
                  "/bin/ls", "-lnd", "/home/app", "/tmp")
    assert re.search(r"^d\S+\s+\d+\s+1000\s+100\s.*/home/app$", listing, re.M), listing
    assert re.search(r"^drwxrwxrwt\s+\d+\s+7\s+7\s.*/tmp$", listing, re.M), listing


def test_fake_root_commands_without_fakeroot_and_fakechroot_are_clear_errors():
    for arguments, message in [('fakeRootCommands = "chown 1 x";', "fakeRootCommands: no fakeroot to run them with")]:
        expression = ('(import %s { python3 = "/usr/bin/python3"; shell = "/bin/sh"; }).buildLayeredImage'
                      ' { name = "x"; %s }' % (REPO, arguments))
        failed = subprocess.run(["bash", os.path.join(REPO, "scripts", "nix-build"), "-E", expression, "--no-out-link"],
                                capture_output=True, text=True)
        assert failed.returncode != 0 and message in failed.stderr, failed.stderr


@pytest.mark.parametrize("arguments, message", [
    ("maxLayers = 1;", "`maxLayers` must be at least 2"),
    ('format = "zip";', '`format` must be "docker-archive", "oci-archive" or "oci", not "zip"'),
])
def test_bad_layered_arguments_are_refused_at_evaluation(arguments, message):
    expression = ('((import %s { python3 = "/usr/bin/python3"; }).buildLayeredImage'
                  ' { name = "x"; %s }).drvPath' % (REPO, arguments))
    evaluated = subprocess.run(["nix-instantiate", "--eval", "-E", expression], capture_output=True, text=True)
    assert evaluated.returncode != 0 and message in evaluated.stderr, evaluated.stderr


def test_over_the_budget_a_change_of_the_top_package_resends_its_layer_alone_and_the_top_layer():
    def release(version):
        finished = build("crowded", "--argstr", "appVersion", version)
        manifest, _, layers = image_contents(finished.stdout.strip())
        return manifest["Layers"], layers
    before, _ = release("1")
    after, layers = release("changed-%s" % os.getpid())
    assert len(after) == 4, "maxLayers = 4 over 7 store paths"
    new = [name for name in after if name not in before]
    assert len(new) == 2 and new[-1] == after[-1], "the top layer, and one store layer"
    assert names_of(store_paths_in(layers[new[0]])) == ["app"], "which holds the changed package alone"


def test_a_kept_plan_keeps_the_layers_of_what_did_not_change(tmp_path):
    plan = tmp_path / "layers.json"
    plan.write_text(open(path_of("crowded.plan")).read())
    kept = build("crowded", "--argstr", "appVersion", "kept-%s" % os.getpid(), "--arg", "layerPlan", str(plan))
    before, _, _ = image_contents(path_of("crowded"))
    after, _, layers = image_contents(kept.stdout.strip())
    new = [name for name in after["Layers"] if name not in before["Layers"]]
    assert len(new) == 2 and names_of(store_paths_in(layers[new[0]])) == ["app"]
    plan.write_text("[{\"name\": 1}]")
    broken = nix_build("crowded", "--arg", "layerPlan", str(plan), expression=LAYERED)
    errors = [line for line in broken.stderr.splitlines() if line.startswith("strata: error:")]
    assert broken.returncode != 0 and len(errors) == 1 and "layerPlan: " in errors[0], broken.stderr
