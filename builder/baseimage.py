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
import zlib

from .accounts import FILES
from .errors import StrataError
from .filedata import CHUNK
from .imagetree import ImageTree, Node, normal_name
from .layer import MEDIA_TYPES, Layer
from .output import output_directory
from .streams import HashingSink, ZstdReader

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

_UNREADABLE = (OSError, EOFError, zlib.error, tarfile.TarError, ValueError, OverflowError)
"""What tarfile raises for a corrupt or lying archive: ValueError and OverflowError where a
size or offset is too large for a file position (found by fuzzing)."""

_GZIP_MAGIC = b"\x1f\x8b"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


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
    config_bytes, repo_tags, layer_names, layer_digests = _select(source, spec)
    config = _parse_json(config_bytes, source, "the config")
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


def open_source(path):
    """An image archive or layout directory, to read files from by name."""
    if os.path.isdir(path):
        return _Directory(path)
    return _Archive(path)


class _Directory:
    def __init__(self, path):
        self.path = path
        self.where = path

    def exists(self, name):
        return os.path.isfile(os.path.join(self.path, normal_name(name, self.where)))

    def size(self, name):
        return os.path.getsize(os.path.join(self.path, normal_name(name, self.where)))

    def open(self, name):
        try:
            return open(os.path.join(self.path, normal_name(name, self.where)), "rb")
        except OSError as error:
            raise StrataError("%s: %s: %s" % (self.where, name, error.strerror))

    def close(self):
        pass


class _Archive:
    """A tar, compressed as a whole or not, read without unpacking it."""

    def __init__(self, path):
        self.where = path
        try:
            with open(path, "rb") as stream:
                if stream.read(2) == b"#!":
                    raise StrataError("%s: a script, not an image archive (a streamLayeredImage? pass a"
                                      " buildLayeredImage, or the stream's output saved to a file)" % path)
            self.tar = tarfile.open(path, "r:*")
            self.members = {}
            for member in self.tar.getmembers():
                self.members[normal_name(member.name, path)] = member
        except _UNREADABLE as error:
            raise StrataError("%s: not a readable image archive (%s)" % (path, error))

    def _member(self, name):
        path = normal_name(name, self.where)
        member = self.members.get(path)
        if member is not None and member.issym():
            # One level of symlink, as loaders follow for layers that repeat a blob.
            parent = path.rpartition("/")[0]
            member = self.members.get(normal_name(parent + "/" + member.linkname, self.where))
        return member if member is not None and member.isfile() else None

    def exists(self, name):
        return self._member(name) is not None

    def size(self, name):
        return self._member(name).size

    def open(self, name):
        member = self._member(name)
        if member is None:
            raise StrataError("%s: the archive has no file %s" % (self.where, name))
        return self.tar.extractfile(member)

    def close(self):
        self.tar.close()


def _read(source, name):
    with source.open(name) as stream:
        try:
            return stream.read()
        except _UNREADABLE as error:
            raise StrataError("%s: cannot read %s (%s)" % (source.where, name, error))


def _parse_json(data, source, what):
    try:
        document = json.loads(data)
    except (ValueError, RecursionError) as error:  # RecursionError: nested past Python's stack
        raise StrataError("%s: %s is not valid JSON (%s)" % (source.where, what, error))
    if not isinstance(document, (dict, list)):
        raise StrataError("%s: %s is not a JSON object" % (source.where, what))
    return document


def _read_json(source, name):
    return _parse_json(_read(source, name), source, name)


def _select(source, spec):
    """(config bytes, repo tags, layer file names, expected blob digests or None) of the
    chosen image."""
    wanted = None
    if spec.from_image_name is not None:
        wanted = spec.from_image_name + (":" + spec.from_image_tag if spec.from_image_tag is not None else "")
    if source.exists("manifest.json"):
        manifest = _read_json(source, "manifest.json")
        if not isinstance(manifest, list) or not manifest:
            raise StrataError("%s: manifest.json lists no image" % source.where)
        entry = manifest[0] if wanted is None else next(
            (item for item in manifest if any(_matches(tag, wanted) for tag in item.get("RepoTags") or [])), None)
        if entry is None:
            raise StrataError("%s: no image %s in it (it holds %s)" % (
                source.where, wanted, ", ".join(tag for item in manifest for tag in item.get("RepoTags") or []) or "none tagged"))
        names = entry.get("Layers")
        if not isinstance(names, list) or not isinstance(entry.get("Config"), str):
            raise StrataError("%s: manifest.json: an image without Config or Layers" % source.where)
        for name in [entry["Config"]] + names:
            if not source.exists(name):
                raise StrataError("%s: manifest.json names %s, which the archive does not hold" % (source.where, name))
        return _read(source, entry["Config"]), list(entry.get("RepoTags") or []), names, [None] * len(names)
    if source.exists("index.json"):
        index = _read_json(source, "index.json")
        manifests = index.get("manifests") if isinstance(index, dict) else None
        if not manifests:
            raise StrataError("%s: index.json lists no image" % source.where)
        descriptor = manifests[0] if wanted is None else next(
            (item for item in manifests if _matches((item.get("annotations") or {}).get(
                "org.opencontainers.image.ref.name", ""), wanted)), None)
        if descriptor is None:
            raise StrataError("%s: no image %s in index.json" % (source.where, wanted))
        manifest = _parse_json(_read_blob(source, descriptor), source, "the manifest")
        layers = manifest.get("layers") or []
        name = (descriptor.get("annotations") or {}).get("org.opencontainers.image.ref.name")
        return (_read_blob(source, manifest.get("config") or {}), [name] if name and ":" in name else [],
                [_blob_path(source, d) for d in layers], [d.get("digest") for d in layers])
    raise StrataError("%s: neither a Docker archive (manifest.json) nor an OCI layout (index.json)" % source.where)


def _matches(reference, wanted):
    """A tag in an archive names `wanted` ("name" or "name:tag"), docker.io's prefixes aside."""
    for prefix in ("", "docker.io/", "docker.io/library/", "localhost/"):
        if reference == prefix + wanted or (":" not in wanted and reference.startswith(prefix + wanted + ":")):
            return True
    return False


def _blob_path(source, descriptor):
    digest = descriptor.get("digest", "")
    algorithm, _, encoded = digest.partition(":")
    if algorithm != "sha256" or len(encoded) != 64 or not all(c in "0123456789abcdef" for c in encoded):
        raise StrataError("%s: %r is not a sha256 digest" % (source.where, digest))
    path = "blobs/sha256/" + encoded
    if not source.exists(path):
        raise StrataError("%s: blob %s is missing" % (source.where, digest))
    return path


def _read_blob(source, descriptor):
    data = _read(source, _blob_path(source, descriptor))
    if "sha256:" + hashlib.sha256(data).hexdigest() != descriptor["digest"]:
        raise StrataError("%s: blob %s does not match its digest" % (source.where, descriptor["digest"]))
    return data


def _read_layer(source, name, expected_digest, diff_id, index, tree, out, where, kept):
    """Read the blob once: copy it into `out`, check its digests, apply its entries to
    `tree`, keep what may be account files in `kept` (see _apply_entries); its record."""
    partial = os.path.join(out, BLOB_DIR, "partial")
    with source.open(name) as stream, open(partial, "wb") as copy:
        blob = _CopyingReader(stream, copy)
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
    return {"digest": digest, "diffId": diff_id, "size": blob.copied.size,
            "mediaType": MEDIA_TYPES[reader.compressor]}


def _link_target(member, where):
    """A hard link's target in normal form; one that leaves the root names the link too."""
    try:
        return normal_name(member.linkname, where)
    except StrataError:
        raise StrataError("%s: entry %r is a hard link to %r, which leaves the image root"
                          % (where, member.name, member.linkname))


def _checked_digest(blob, expected_digest, where):
    """The digest of what `blob` (a _CopyingReader) has read, which must be `expected_digest`
    where the manifest gives one."""
    digest = blob.copied.digest()
    if expected_digest is not None and digest != expected_digest:
        raise StrataError("%s: the blob's digest is %s, the manifest says %s" % (where, digest, expected_digest))
    return digest


class _CopyingReader:
    """Reads a blob, copying to `copy` what it reads, hashed and counted (`copied`)."""

    def __init__(self, stream, copy):
        self.stream = stream
        self.copied = HashingSink(copy)

    def read(self, size):
        data = self.stream.read(size)
        self.copied.write(data)
        return data

    def drain(self):
        while self.read(CHUNK):
            pass


class UncompressedReader:
    """The layer's tar bytes from its blob (gzip or plain, told by the magic bytes), hashed."""

    def __init__(self, blob, where):
        self.blob = blob
        self.where = where
        self.hash = hashlib.sha256()
        head = blob.read(4)
        self.zstd = ZstdReader(blob, head, where) if head.startswith(_ZSTD_MAGIC) else None
        self.compressor = "zstd" if self.zstd else "gz" if head.startswith(_GZIP_MAGIC) else "none"
        self.decompressor = zlib.decompressobj(zlib.MAX_WBITS | 16) if self.compressor == "gz" else None
        self.pending = b"" if self.zstd else self._decompress(head)

    def _decompress(self, data):
        if self.decompressor is None:
            return data
        out = []
        try:
            while data:
                out.append(self.decompressor.decompress(data))
                data = self.decompressor.unused_data
                if data:  # another gzip member follows
                    self.decompressor = zlib.decompressobj(zlib.MAX_WBITS | 16)
        except zlib.error as error:
            raise StrataError("%s: corrupt gzip data (%s)" % (self.where, error))
        return b"".join(out)

    def read(self, size=-1):
        while size < 0 or len(self.pending) < size:
            if self.zstd:
                chunk = self.zstd.read(CHUNK)
                if not chunk:
                    break
                self.pending += chunk
                continue
            chunk = self.blob.read(CHUNK)
            if not chunk:
                if self.decompressor is not None and not self.decompressor.eof:
                    raise StrataError("%s: the gzip data ends early" % self.where)
                break
            self.pending += self._decompress(chunk)
        data, self.pending = (self.pending, b"") if size < 0 else (self.pending[:size], self.pending[size:])
        self.hash.update(data)
        return data

    def drain(self):
        while self.read(CHUNK):
            pass

    def digest(self):
        return "sha256:" + self.hash.hexdigest()


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
    except _UNREADABLE as error:
        raise StrataError("%s: truncated or corrupt layer (%s)" % (where, error))
