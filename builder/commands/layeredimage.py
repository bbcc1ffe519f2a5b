"""Layered images: buildLayeredImage writes them, streamLayeredImage writes a script that
streams them.

An image's layers, bottom first: the prebuilt layers it is given (``layers``: explicit
buildLayer layers, then the planned layer derivations), the layers it plans and writes
itself when it is given the closure instead (where import-from-derivation is not allowed),
and the customisation layer on top (``customisationLayer``: contents and extraCommands).
"""

import functools
import json
import os

from ..core import progress
from ..core.errors import StrataError
from ..core.output import output_directory, output_file
from ..image import imageformats
from ..image.imageconfig import History, image_config
from ..layers import storetar
from ..layers.layer import TarPlan, write_layer
from ..tar.tarwriter import Owner
from ..tree import perms
from .layerbuild import base_image, planned_groups, read_record, store_layer_entries


EMPTY_TAR = "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef"
"""The diff_id of a layer without entries: 1024 zero bytes, a tar's end."""


class _Planned:
    """A layer the image derivation writes itself, from a group of store paths, owned by
    the spec's uid, gid, uname and gname, which the Nix side gives the layer derivations of
    the same paths too."""

    def __init__(self, name, store_paths, image, spec):
        self.name = name
        self.store_paths = store_paths
        self.store_dir = spec.store_dir
        self.mtime = spec.mtime
        self.owner = Owner(spec.uid, spec.gid, spec.uname, spec.gname)
        self.perms = image.perms
        self.history = None

    def plan(self):
        entries = store_layer_entries(self.store_dir, self.store_paths, self.owner, self.perms)
        return TarPlan(entries, self.mtime, self.owner)

    def write(self, stream, compressor):
        return write_layer(self.plan(), stream, compressor)


def _in_turn(planned):
    """(source, plan, frames) of the _Planned layers `planned`, to be written one after
    another: the jobs of all their store paths go to the workers as one stream."""
    plans = [source.plan() for source in planned]
    return zip(planned, plans, storetar.frames_of_layers([plan.jobs for plan in plans]))


def image_layers(image, spec):
    """The base image (a BaseImage, or None) and the image's own layers bottom first:
    LayerRecords and _Planned layers."""
    base = base_image(image.base)
    lower = [read_record(directory) for directory in image.layers]
    planned = [] if image.closure is None else [
        _Planned(name, paths, image, spec) for name, paths in planned_groups(image, lower, spec.store_dir)]
    top = [read_record(directory) for directory in (image.nix_db_layer, image.customisation_layer) if directory]
    if image.own_layers is not None:  # nix2container's images have no empty layer
        top = [record for record in top if record.layer.diff_id != EMPTY_TAR]
    perms.check_applied(image.perms, [rule.document for record in lower + top for rule in record.perms],
                        {path for source in planned for path in source.store_paths}, spec.store_dir)
    return base, lower + planned + top


def build_layered_image(image, spec):
    """The ``build-layered-image`` command: the image as a tar, or an OCI layout directory."""
    base, sources = image_layers(image, spec)
    if image.format == "oci":
        with output_directory(image.out) as path:
            _write(imageformats.DirTarget(path), image, spec, base, sources)
    else:
        with output_file(image.out) as stream:
            _write(imageformats.TarTarget(stream, spec.mtime), image, spec, base, sources)


def _write(target, image, spec, base, sources):
    layers = base.add_to(target) if base else []
    planned = [source for source in sources if isinstance(source, _Planned)]
    if isinstance(target, imageformats.DirTarget):  # blobs written side by side, a process each
        writers = [functools.partial(source.write, compressor=spec.compressor) for source in planned]
    else:
        writers = [functools.partial(write_layer, plan, compressor=spec.compressor, frames=frames)
                   for _, plan, frames in _in_turn(planned)]
    written = dict(zip(planned, target.add_streamed_blobs(writers)))
    total = len(layers) + len(sources)
    for number, source in enumerate(sources, len(layers) + 1):
        if source in written:
            layers.append(written[source])
        elif source.blob is None:
            raise StrataError("%s: this layer was built without its blob (for streaming)" % source.directory)
        else:
            target.add_blob_file(source.blob, source.layer)
            layers.append(source.layer)
        progress.layer(source.name, len(source.store_paths), layers[-1].size, (number, total))
    config = image_config(image, [layer.diff_id for layer in layers], [_history(source) for source in sources], base)
    imageformats.finish(target, config, layers, "%s:%s" % (image.name, image.tag))


def write_stream_script(image, spec):
    """The ``write-stream-script`` command: an executable that writes the image to stdout.

    Layer digests are known now (layers this derivation plans are hashed here, without
    writing them), so the script writes every layer exactly once, straight from the store,
    checking each store path against what was recorded."""
    base, sources = image_layers(image, spec)
    layers = [{"name": "base", "layer": layer._asdict(), "blob": blob}
              for blob, layer in zip(base.blobs, base.layers)] if base else []
    in_turn = {source: (plan, frames) for source, plan, frames in
               _in_turn([source for source in sources if isinstance(source, _Planned)])}
    for source in sources:
        if source in in_turn:
            segments = {}
            plan, frames = in_turn[source]
            layer = write_layer(plan, None, "none", segments, frames)
            layers.append(_stream_entry(source.name, layer, None, source, segments))
        else:
            layers.append(_stream_entry(source.name, source.layer, source.blob, source, source.segments))
    config = image_config(image, [entry["layer"]["diff_id"] for entry in layers],
                          [_history(source) for source in sources], base)
    document = {"repoTag": "%s:%s" % (image.name, image.tag), "mtime": spec.mtime,
                "config": config.decode("utf-8"), "layers": layers}
    source_dir = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    script = "\n".join([
        "#!%s -IS" % image.interpreter,
        "# Writes the image %s:%s to stdout as a Docker archive: run it | podman load" % (image.name, image.tag),
        "import sys",
        "sys.path.insert(0, %r)" % source_dir,
        "from builder.commands.streaming import main",
        "sys.exit(main(%r, sys.argv[1:]))" % json.dumps(document, sort_keys=True),
        "",
    ])
    with output_file(image.out) as stream:
        stream.write(script.encode("utf-8"))
    os.chmod(image.out, 0o555)


def _history(source):
    """A layer's entry in the image history: its record's, else strata's and its name."""
    return source.history or History("strata", source.name)


def _stream_entry(name, layer, blob, source, segments):
    return {"name": name, "layer": layer._asdict(), "blob": blob, "storePaths": sorted(source.store_paths),
            "storeDir": source.store_dir, "mtime": source.mtime, "owner": source.owner._asdict(),
            "segments": segments, "perms": [rule.document for rule in source.perms]}
