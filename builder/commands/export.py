"""exportImage and mergeImages: operations on whole images read as base images.

exportImage flattens an image into the one root file system its layers make, as a tar:
every layer is read again in order, each entry is placed where the runtime would place it
(through the symlinks of the tree so far, whiteouts applied), and only the entries that
are still there at the end are written, with their own attributes, in name order. Nothing
is unpacked on disk: the layers' uncompressed tars are kept until the end and read back
by offset; a hard link is written as a copy of its target's bytes.

mergeImages writes one archive holding several images, each under its own tags.
"""

import contextlib
import copy
import os
import shutil
import tarfile
import tempfile

from ..core.errors import StrataError
from ..core.output import output_file
from ..image import imageformats
from ..image.baseimage import BaseImage
from ..tar.filedata import CHUNK
from ..tar.streams import UncompressedReader
from ..tree.imagetree import ImageTree, Node, normal_name


def export_image(spec):
    """The ``export-image`` command: `spec` a spec.ExportSpec. The root file system as
    dockerTools' exportImage writes it (``tar --sort=name --hard-dereference`` of the mounted
    image): names under ``./``, the root first, every directory before what it holds (one
    the layers only imply is written 0755, root's), hard links as copies."""
    base = BaseImage(spec.base)
    with contextlib.ExitStack() as stack, output_file(spec.out) as stream, \
            tarfile.open(fileobj=stream, mode="w|", format=tarfile.PAX_FORMAT) as out:
        out.addfile(_directory("./", spec.mtime))
        for path, member, data in final_entries(base, stack):
            if member is None:
                out.addfile(_directory("./" + path, spec.mtime))
                continue
            entry = _renamed(member, "./" + path)
            if member.islnk():
                entry.type, entry.linkname, entry.size = tarfile.REGTYPE, "", member.size
            out.addfile(entry, data)


def final_entries(base, stack):
    """(path, tarfile member, its bytes as a file or None) of what the image `base` (a
    BaseImage) holds at the end, in name order, every directory before what it holds; a
    directory only the entries imply has no member; a hard link's member has the size of,
    and its bytes are those of, what it links to. The layers' uncompressed tars are kept
    in temporary files that `stack` (a contextlib.ExitStack) removes."""
    survivors = {}
    replay = ImageTree()
    for index, blob in enumerate(base.blobs):
        plain = stack.enter_context(tempfile.TemporaryFile(dir=os.environ.get("NIX_BUILD_TOP")))
        with open(blob, "rb") as source:
            shutil.copyfileobj(UncompressedReader(source, blob), plain, CHUNK)
        plain.seek(0)
        _replay_layer(tarfile.open(fileobj=plain, mode="r:"), index, replay, base.tree.nodes, survivors, blob)
    for path in sorted(_with_parents(survivors), key=lambda path: path.split("/")):
        if path not in survivors:
            yield path, None, None
            continue
        layer, member, data = survivors[path]
        if member.islnk():
            member = copy.copy(member)
            member.size = data.size
        yield path, member, layer.extractfile(data) if data.isreg() or data.islnk() else None


def _replay_layer(layer, index, replay, final, survivors, where):
    """Put the entries of one layer in the tree, as a runtime does, and keep in `survivors`
    (path: (layer, member, the member holding its bytes)) those the final tree holds."""
    members = {}
    for member in layer:
        name = normal_name(member.name, where)
        if not name or replay.whiteout(name, index):
            continue
        kind = "dir" if member.isdir() else "symlink" if member.issym() else (
            "file" if member.isreg() or member.islnk() else "other")
        path = replay.put(name, Node(kind, member.mode, member.uid, member.gid, 0, None, member.linkname, index))
        members[name] = member
        winner = final.get(path)
        if winner is None or winner.layer != index or winner.kind != kind:
            continue
        data = member
        if member.islnk():
            data = members.get(normal_name(member.linkname, where))
            if data is None:
                raise StrataError("%s: entry %r links to %r, not an earlier entry" % (where, member.name,
                                                                                      member.linkname))
        survivors[path] = (layer, member, data)


def _with_parents(paths):
    every = set(paths)
    for path in paths:
        parts = path.split("/")
        every.update("/".join(parts[:length]) for length in range(1, len(parts)))
    return every


def _directory(name, mtime):
    entry = tarfile.TarInfo(name)
    entry.type, entry.mode, entry.mtime, entry.uname, entry.gname = tarfile.DIRTYPE, 0o755, mtime, "root", "root"
    return entry


def _renamed(member, name):
    """A copy of `member` named `name`, without the PAX records that named it before."""
    entry = copy.copy(member)
    entry.name = name
    entry.pax_headers = {key: value for key, value in member.pax_headers.items()
                         if key not in ("path", "linkpath", "size")}
    return entry


def merge_images(spec):
    """The ``merge-images`` command: one archive holding every image of `spec.images`. An
    image given twice is written once; two different images under one name and tag are an
    error, since a loader would keep whichever came last."""
    images = []
    tagged = {}
    for number, directory in enumerate(spec.images, 1):
        image = BaseImage(directory)
        if any(image.config_bytes == other.config_bytes and image.repo_tags == other.repo_tags for other in images):
            continue
        for repo_tag in image.repo_tags:
            if repo_tag in tagged:
                other_number, other = tagged[repo_tag]
                raise StrataError("images: image %d (%s) and image %d (%s) are both %s, but they are different images"
                                  % (other_number, other.directory, number, directory, repo_tag))
            tagged[repo_tag] = (number, image)
        images.append(image)
    with output_file(spec.out) as stream:
        target = imageformats.TarTarget(stream, spec.mtime)
        for image in images:
            for blob, layer in zip(image.blobs, image.layers):
                target.add_blob_file(blob, layer)
        imageformats.finish_images(target, [(image.config_bytes, image.layers, image.repo_tags) for image in images])
