"""Base images: reading an image that another tool made, and trusting none of it.

``read-base-image`` takes a Docker archive (a tar, plain or compressed as a whole, as
dockerTools and ``docker save`` write it), an OCI archive or an OCI layout directory, picks
one image from it, and writes a directory that later builds read instead::

    base.json     {"layers": [{"digest", "diffId", "size", "mediaType"}] bottom first, in
                   the manifest's order, "repoTags": the image's names}
    config.json   the image config, its bytes as they were
    blobs/<hex>   each layer blob, its bytes as they were (copied once, never repacked)
    tree.json     the file tree the layers make: [path, kind, mode, uid, gid, size,
                   content sha256, symlink target, layer] rows, sorted
    nix-db.sqlite the image's Nix database, where it has one (to merge with)
    etc/NAME      the text of the image's /etc/passwd, group, shadow, gshadow and
                  nsswitch.conf, where it has them, read through symlinks inside the image
                  (dockerTools' fakeNss links them into the store): declared users are
                  merged with them

Every layer is read through once: its blob digest computed, its uncompressed digest
checked against the config's diff_id, its entries parsed. An entry whose name climbs out of
the root (also through a PAX or GNU long name), a hard link to anything but an earlier entry
of its layer, a truncated or corrupt layer, a missing file, a layer whose digest does not
match: each is an error naming the archive, the layer and the entry. Nothing of a base image
is ever unpacked on disk, so device nodes and the like pass through as tar entries.
"""

import hashlib
import json
import os
import tarfile

from ..core.errors import StrataError
from ..core.output import output_directory
from ..layers.layer import MEDIA_TYPES, Layer
from ..tar.filedata import CHUNK
from ..tar.streams import HashingReader, UncompressedReader
from ..tree.accounts import FILES
from ..tree.imagetree import ImageTree, Node, normal_name
from .imagesources import UNREADABLE, open_source, parse_json, select_image

BASE_RECORD = "base.json"
CONFIG_RECORD = "config.json"
NIX_DB = "nix-db.sqlite"
NIX_DB_PATH = "nix/var/nix/db/db.sqlite"
TREE_RECORD = "tree.json"
BLOB_DIR = "blobs"
ETC_DIR = "etc"
ACCOUNT_FILES = tuple(FILES)
_ACCOUNT_FILE_SIZE = 1 << 20
"""The largest account file kept: any a system has is far smaller."""

class BaseImage:
    """A base image read back from a ``read-base-image`` output directory."""

    def __init__(self, directory):
        self.directory = directory
        try:
            with open(os.path.join(directory, BASE_RECORD)) as stream:
                record = json.load(stream)
            with open(os.path.join(directory, TREE_RECORD)) as stream:
                rows = json.load(stream)
        except (OSError, ValueError) as error:
            raise StrataError("%s: not a base image read by strata (%s)" % (directory, error))
        with open(os.path.join(directory, CONFIG_RECORD), "rb") as stream:
            self.config_bytes = stream.read()
        self.config = json.loads(self.config_bytes)
        self.repo_tags = record["repoTags"]
        self.layers = [Layer(entry["diffId"], entry["digest"], entry["size"], entry["mediaType"])
                       for entry in record["layers"]]
        self.blobs = [os.path.join(directory, BLOB_DIR, entry["digest"].split(":", 1)[1]) for entry in record["layers"]]
        self.tree = ImageTree()
        for path, kind, mode, uid, gid, size, digest, target, layer in rows:
            self.tree.nodes[path] = Node(kind, mode, uid, gid, size, digest, target, layer)
        nix_db = os.path.join(directory, NIX_DB)
        self.nix_db = nix_db if os.path.exists(nix_db) else None

    def etc_text(self, name):
        """The text of /etc/NAME (one of ACCOUNT_FILES) in the image, else None."""
        try:
            with open(os.path.join(self.directory, ETC_DIR, name), "rb") as stream:
                return stream.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return None

    def history(self):
        return list(self.config.get("history") or [])

    def add_to(self, target):
        """Copy the base's layer blobs, as they are, into an imageformats target; its layers."""
        for blob, layer in zip(self.blobs, self.layers):
            target.add_blob_file(blob, layer)
        return list(self.layers)


def read_base_image(spec):
    """The ``read-base-image`` command: `spec` a spec.BaseSpec."""
    source = open_source(spec.from_image)
    try:
        with output_directory(spec.out):
            _read_into(source, spec)
    finally:
        source.close()


def _read_into(source, spec):
    """Check the chosen image of `source` and write its record into ``spec.out``."""
    config_bytes, repo_tags, layer_names, layer_digests, _ = select_image(source, spec)
    config = parse_json(config_bytes, source, "the config")
    diff_ids = (config.get("rootfs") or {}).get("diff_ids")
    if not isinstance(diff_ids, list) or len(diff_ids) != len(layer_names):
        raise StrataError("%s: the config lists %s diff_ids for %d layers"
                          % (spec.from_image, "no" if not isinstance(diff_ids, list) else len(diff_ids),
                             len(layer_names)))
    os.mkdir(os.path.join(spec.out, BLOB_DIR))
    tree = ImageTree()
    layers = []
    kept = {}
    for index, (name, expected_digest, diff_id) in enumerate(zip(layer_names, layer_digests, diff_ids)):
        where = "%s: layer %d (%s)" % (spec.from_image, index + 1, name)
        layers.append(_read_layer(source, name, expected_digest, diff_id, index, tree, spec.out, where, kept))
    _write_account_files(tree, kept, spec.out)
    with open(os.path.join(spec.out, BASE_RECORD), "w") as stream:
        json.dump({"layers": layers, "repoTags": repo_tags}, stream, sort_keys=True, indent=1)
    with open(os.path.join(spec.out, CONFIG_RECORD), "wb") as stream:
        stream.write(config_bytes)
    with open(os.path.join(spec.out, TREE_RECORD), "w") as stream:
        json.dump([[path] + list(tree.nodes[path]) for path in sorted(tree.nodes)], stream)
    nix_db = os.path.join(spec.out, NIX_DB)
    if os.path.exists(nix_db) and tree.nodes.get(NIX_DB_PATH, Node(*[None] * 8)).kind != "file":
        os.unlink(nix_db)


def _read_layer(source, name, expected_digest, diff_id, index, tree, out, where, kept):
    """Read the blob once: copy it into `out`, check its digests, apply its entries to
    `tree`, keep what may be account files in `kept` (see _apply_entries); its record."""
    partial = os.path.join(out, BLOB_DIR, "partial")
    with source.open(name) as stream, open(partial, "wb") as copy:
        blob = HashingReader(stream, copy)
        reader = UncompressedReader(blob, where)
        limit = source.size(name) * _MOST_EXPANDED[reader.compressor] + (1 << 20)
        try:
            _apply_entries(reader, index, tree, where, os.path.join(out, NIX_DB), limit, kept)
            reader.drain()
        except StrataError:
            blob.drain()  # a blob that is not the one named is the error to report
            _checked_digest(blob, expected_digest, where)
            raise
    digest = _checked_digest(blob, expected_digest, where)
    os.replace(partial, os.path.join(out, BLOB_DIR, digest.split(":", 1)[1]))
    if reader.digest() != diff_id:
        raise StrataError("%s: its uncompressed digest is %s, the config's diff_id is %s" % (where, reader.digest(), diff_id))
    return {"digest": digest, "diffId": diff_id, "size": blob.seen.size,
            "mediaType": MEDIA_TYPES[reader.compressor]}


def _link_target(member, where):
    """A hard link's target in normal form; one that leaves the root names the link too."""
    try:
        return normal_name(member.linkname, where)
    except StrataError:
        raise StrataError("%s: entry %r is a hard link to %r, which leaves the image root"
                          % (where, member.name, member.linkname))


def _checked_digest(blob, expected_digest, where):
    """The digest of what `blob` (a HashingReader) has read, which must be `expected_digest`
    where the manifest gives one."""
    digest = blob.seen.digest()
    if expected_digest is not None and digest != expected_digest:
        raise StrataError("%s: the blob's digest is %s, the manifest says %s" % (where, digest, expected_digest))
    return digest


_MOST_EXPANDED = {"none": 1, "gz": 1100, "zstd": 33000}
"""How many times its size a blob's uncompressed tar can be at most: deflate expands at
most 1032 times, zstd (run-length blocks) about 32,768 times."""


def _write_account_files(tree, kept, out):
    """etc/NAME in `out` for each account file the final `tree` has, from `kept`."""
    for name in ACCOUNT_FILES:
        path = tree.resolve(ETC_DIR + "/" + name)
        node, data = tree.nodes.get(path), kept.get(path)
        if node is None or node.kind != "file" or data is None or hashlib.sha256(data).hexdigest() != node.digest:
            continue
        os.makedirs(os.path.join(out, ETC_DIR), exist_ok=True)
        with open(os.path.join(out, ETC_DIR, name), "wb") as stream:
            stream.write(data)


def _may_be_account_file(path, size):
    """Whether the file at `path` may be what /etc/passwd (or another of ACCOUNT_FILES)
    is, or leads to through symlinks: a small file of that name in a directory etc."""
    parent, _, name = path.rpartition("/")
    return name in ACCOUNT_FILES and (parent == ETC_DIR or parent.endswith("/" + ETC_DIR)) \
        and size <= _ACCOUNT_FILE_SIZE


def _file_node(layer, member, path, index, where, nix_db):
    """The Node of a regular file `member` at `path`, its bytes read once and hashed; with
    its bytes where it may be an account file (else None). A Nix database is copied to
    `nix_db`."""
    content = hashlib.sha256()
    data = layer.extractfile(member)
    keep = open(nix_db, "wb") if path == NIX_DB_PATH else None
    chunks = [] if _may_be_account_file(path, member.size) else None
    remaining = member.size
    while remaining:
        chunk = data.read(min(CHUNK, remaining))
        if not chunk:
            raise StrataError("%s: entry %r: the layer ends inside its data" % (where, member.name))
        content.update(chunk)
        if keep:
            keep.write(chunk)
        if chunks is not None:
            chunks.append(chunk)
        remaining -= len(chunk)
    if keep:
        keep.close()
    node = Node("file", member.mode, member.uid, member.gid, member.size, content.hexdigest(), None, index)
    return node, (b"".join(chunks) if chunks is not None else None)


def _apply_entries(reader, index, tree, where, nix_db, limit, kept):
    """Apply the layer's entries to `tree`; a Nix database among them is kept at `nix_db`,
    the bytes of files that may be account files in `kept` (path: bytes).
    An entry that says it holds more than `limit` bytes, more than the blob can hold, is
    refused before tarfile skips over it (which would read for ever)."""
    seen, seen_accounts = {}, {}
    try:
        with tarfile.open(fileobj=reader, mode="r|", errorlevel=2) as layer:
            for member in layer:
                account = None
                if member.size > limit:
                    raise StrataError("%s: entry %r says it holds %d bytes, more than the layer can hold"
                                      % (where, member.name, member.size))
                path = normal_name(member.name, where)
                if not path or tree.whiteout(path, index):
                    continue
                if member.islnk():
                    target = _link_target(member, where)
                    if target not in seen:
                        raise StrataError("%s: entry %r is a hard link to %r, which is not an earlier entry of"
                                          " the layer" % (where, member.name, member.linkname))
                    node = seen[target]._replace(mode=member.mode, layer=index)
                    account = seen_accounts.get(target)
                elif member.isreg():
                    node, account = _file_node(layer, member, path, index, where, nix_db)
                elif member.isdir():
                    node = Node("dir", member.mode, member.uid, member.gid, 0, None, None, index)
                elif member.issym():
                    node = Node("symlink", 0o777, member.uid, member.gid, 0, None, member.linkname, index)
                else:
                    node = Node("other", member.mode, member.uid, member.gid, 0, None, None, index)
                seen[path] = node
                placed = tree.put(path, node)
                if account is not None:
                    kept[placed] = seen_accounts[path] = account
    except UNREADABLE as error:
        raise StrataError("%s: truncated or corrupt layer (%s)" % (where, error))
