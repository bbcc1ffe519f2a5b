"""An image read back layer by layer: for each layer its digests and sizes, the store paths
it holds and how many other files, and the image's config. Each blob is read once, hashed
compressed and uncompressed, and its tar headers listed; nothing is unpacked.

Images are read from a Docker archive, an OCI archive or layout (``oci:DIR[:TAG]``, or the
directory), or a stream script strata wrote, whose layers of store paths are known from its
document without writing them. (Registries: see the inspection package, which fetches the
blobs and reads them here.)

A store path is held by a layer that has an entry at it or under it; other files are the
layer's entries outside the store paths that are not directories (whiteouts count).
"""

import collections
import json
import subprocess
import tarfile

from ..core.errors import StrataError
from ..image import imagesources
from ..image.imageconfig import this_architecture
from ..image.imageformats import digest as digest_of, oci_manifest
from ..tar.streams import HashingReader, UncompressedReader
from ..tree.imagetree import normal_name

STORE_DIR = "/nix/store"

Layer = collections.namedtuple("Layer", "digest diff_id size uncompressed_size store_paths other_files media_type")
"""One layer: `store_paths` a sorted tuple of absolute store paths."""

Contents = collections.namedtuple("Contents", "name tag config config_digest config_size manifest_digest layers")
"""An image: `config` the parsed config, `manifest_digest` the digest of its manifest
where it is known (None for a Docker archive that names none), `layers` bottom first."""

_Wanted = collections.namedtuple("_Wanted", "from_image_name from_image_tag architecture", defaults=(None,))
"""Which image of an archive or layout to read; of a multi-platform one, the manifest for
`architecture` (this machine's, for the strata command), else the first."""


def read_image(reference, store_dir=STORE_DIR):
    """The Contents of the local image `reference`: a path (archive, layout directory or
    stream script), or ``oci:DIR[:TAG]``."""
    wanted = _Wanted(None, None, this_architecture())
    path = reference
    if reference.startswith("oci:"):
        path, _, tag = reference[4:].partition(":")
        wanted = wanted._replace(from_image_tag=tag or None)
    try:
        with open(path, "rb") as stream:
            script = stream.read(2) == b"#!"
    except IsADirectoryError:
        script = False
    except OSError as error:
        raise StrataError("%s: %s" % (path, error.strerror))
    if script:
        return _from_stream_script(path, store_dir)
    return _from_source(imagesources.open_source(path), wanted, store_dir)


def scan_layer(stream, where, store_dir=STORE_DIR, media_type=None):
    """The Layer whose blob `stream` reads (gzip, zstd or plain tar)."""
    blob = HashingReader(stream)
    tar = UncompressedReader(blob, where)
    prefix = normal_name(store_dir, where) + "/"
    store_paths, other_files = set(), 0
    try:
        with tarfile.open(fileobj=tar, mode="r|") as archive:
            for member in archive:
                name = normal_name(member.name, where)
                inside = name[len(prefix):].split("/", 1)[0] if name.startswith(prefix) else ""
                if inside and not inside.startswith(".wh."):
                    store_paths.add("/" + prefix + inside)
                elif not member.isdir():
                    other_files += 1
        tar.drain()
        blob.drain()
    except imagesources.UNREADABLE as error:
        raise StrataError("%s: not a layer's tar (%s)" % (where, error))
    return Layer(blob.seen.digest(), tar.digest(), blob.seen.size, tar.seen.size, tuple(sorted(store_paths)),
                 other_files, media_type)


def _from_source(source, wanted, store_dir):
    try:
        selected = imagesources.select_image(source, wanted)
        config = imagesources.parse_json(selected.config, source, "the config")
        diff_ids = config_diff_ids(config, len(selected.layer_names), source.where)
        layers = []
        for number, (name, expected, diff_id) in enumerate(
                zip(selected.layer_names, selected.layer_digests, diff_ids), 1):
            where = "%s: layer %d (%s)" % (source.where, number, name)
            with source.open(name) as stream:
                layer = scan_layer(stream, where, store_dir)
            check_layer(layer, expected, diff_id, where)
            layers.append(layer)
    finally:
        source.close()
    name, tag = split_repo_tag(selected.repo_tags[0] if selected.repo_tags else "")
    return Contents(name, tag, config, digest_of(selected.config), len(selected.config), selected.manifest_digest,
                    layers)


def config_diff_ids(config, count, where):
    """The diff_ids of the parsed `config`, which must be `count`, the manifest's layers."""
    diff_ids = ((config.get("rootfs") or {}).get("diff_ids") if isinstance(config, dict) else None) or []
    if len(diff_ids) != count:
        raise StrataError("%s: the config lists %d layers, the manifest %d" % (where, len(diff_ids), count))
    return diff_ids


def check_layer(layer, expected_digest, diff_id, where):
    if expected_digest is not None and layer.digest != expected_digest:
        raise StrataError("%s: the blob's digest is %s, the manifest says %s" % (where, layer.digest, expected_digest))
    if layer.diff_id != diff_id:
        raise StrataError("%s: its uncompressed digest is %s, the config's diff_id is %s" % (where, layer.diff_id, diff_id))


def _from_stream_script(path, store_dir):
    """A stream script's image from its document: blobs it copies are read, layers it
    writes from the store are known by their recorded store paths (they hold nothing else)."""
    try:
        text = subprocess.run([path, "--strata-document"], capture_output=True, check=True).stdout
        document = json.loads(text)
        config_text = document["config"]
        entries = document["layers"]
    except (OSError, subprocess.CalledProcessError, ValueError, KeyError, TypeError) as error:
        raise StrataError("%s: not a stream script strata wrote (%s)" % (path, error))
    layers = []
    for number, entry in enumerate(entries, 1):
        recorded = entry["layer"]
        where = "%s: layer %d (%s)" % (path, number, entry.get("name"))
        if entry.get("blob"):
            with open(entry["blob"], "rb") as stream:
                layer = scan_layer(stream, where, store_dir, recorded["media_type"])
            check_layer(layer, recorded["digest"], recorded["diff_id"], where)
        else:
            layer = Layer(recorded["digest"], recorded["diff_id"], recorded["size"], recorded["size"],
                          tuple(sorted(entry["storePaths"])), 0, recorded["media_type"])
        layers.append(layer)
    config = config_text.encode("utf-8")
    name, tag = split_repo_tag(document.get("repoTag") or "")
    return Contents(name, tag, json.loads(config_text), digest_of(config), len(config),
                    digest_of(oci_manifest(config, layers)), layers)


def split_repo_tag(repo_tag):
    """(name, tag) of ``name:tag``; the tag is after the last colon past the last slash."""
    name, colon, tag = repo_tag.rpartition(":")
    if not colon or "/" in tag:
        return repo_tag, ""
    return name, tag
