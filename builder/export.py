"""exportImage and mergeImages: operations on whole images read as base images.

exportImage flattens an image into the one root file system its layers make, as a tar:
every layer is read again in order, each entry is placed where the runtime would place it
(through the symlinks of the tree so far, whiteouts applied), and only the entries that
are still there at the end are written, with their own attributes. Nothing is unpacked on
disk but one layer's uncompressed tar at a time, read back by offset; a hard link whose
target did not survive is written as a copy of the target's bytes.

mergeImages writes one archive holding several images, each under its own tags.
"""

import copy
import os
import shutil
import tarfile
import tempfile

from . import imageformats
from .baseimage import BaseImage, UncompressedReader
from .errors import StrataError
from .filedata import CHUNK
from .imagetree import ImageTree, Node, normal_name
from .output import output_file


def export_image(spec):
    """The ``export-image`` command: `spec` a spec.ExportSpec."""
    base = BaseImage(spec.base)
    final = base.tree.nodes
    replay = ImageTree()
    with output_file(spec.out) as stream, tarfile.open(fileobj=stream, mode="w|", format=tarfile.PAX_FORMAT) as out:
        for index, blob in enumerate(base.blobs):
            with tempfile.TemporaryFile(dir=os.environ.get("NIX_BUILD_TOP")) as plain:
                with open(blob, "rb") as source:
                    shutil.copyfileobj(UncompressedReader(source, blob), plain, CHUNK)
                plain.seek(0)
                _export_layer(tarfile.open(fileobj=plain, mode="r:"), index, replay, final, out, blob)


def _export_layer(layer, index, replay, final, out, where):
    written = {}
    members = {}
    for member in layer:
        path = normal_name(member.name, where)
        if not path or replay.whiteout(path, index):
            continue
        kind = "dir" if member.isdir() else "symlink" if member.issym() else (
            "file" if member.isreg() or member.islnk() else "other")
        path = replay.put(path, Node(kind, member.mode, member.uid, member.gid, 0, None, member.linkname, index))
        members[normal_name(member.name, where)] = member
        winner = final.get(path)
        if winner is None or winner.layer != index or winner.kind != kind:
            continue
        entry = _renamed(member, path)
        if member.islnk():
            target = normal_name(member.linkname, where)
            if target in written:
                entry.linkname = written[target]
            else:
                original = members.get(target)
                if original is None:
                    raise StrataError("%s: entry %r links to %r, not an earlier entry" % (where, member.name, target))
                entry.type = tarfile.REGTYPE
                entry.linkname = ""
                entry.size = original.size
                out.addfile(entry, layer.extractfile(original))
                written[normal_name(member.name, where)] = path
                continue
        out.addfile(entry, layer.extractfile(member) if member.isreg() else None)
        written[normal_name(member.name, where)] = path


def _renamed(member, name):
    """A copy of `member` named `name`, without the PAX records that named it before."""
    entry = copy.copy(member)
    entry.name = name
    entry.pax_headers = {key: value for key, value in member.pax_headers.items()
                         if key not in ("path", "linkpath", "size")}
    return entry


def merge_images(spec):
    """The ``merge-images`` command: one archive holding every image of `spec.images`."""
    images = [BaseImage(directory) for directory in spec.images]
    with output_file(spec.out) as stream:
        target = imageformats.TarTarget(stream, spec.mtime)
        for image in images:
            for blob, layer in zip(image.blobs, image.layers):
                target.add_blob_file(blob, layer)
        imageformats.finish_images(target, [(image.config_bytes, image.layers, image.repo_tags) for image in images])
