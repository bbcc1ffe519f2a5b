"""buildImage: one layer holding copyToRoot at ``/`` and, under the store directory, the
closure of what it (and the config) refers to."""

import contextlib

from . import fstree, graph, imageformats
from .imageconfig import History, image_config
from .layer import write_layer
from .layerbuild import layer_root, load_graph
from .output import output_file
from .tarwriter import Owner


def build_image(image, spec):
    """The ``build-image`` command: `image` a spec.ImageSpec, `spec` the layer's LayerSpec."""
    carriers = spec.copy_to_root + ([image.config_refs] if image.config_refs else [])
    store_paths = graph.referenced_closure(load_graph(image.closure), carriers)
    with contextlib.ExitStack() as cleanup:
        entries = fstree.entries(layer_root(spec, store_paths, cleanup))
        owner = Owner(spec.uid, spec.gid, spec.uname, spec.gname)
        with output_file(image.out) as stream:
            target = imageformats.TarTarget(stream, spec.mtime)
            layer = target.add_streamed_blob(
                lambda blob: write_layer(entries, blob, spec.mtime, owner, spec.compressor))
            history = History("strata buildImage", "copyToRoot and %d store paths it refers to" % len(store_paths))
            config = image_config(image, [layer.diff_id], [history])
            imageformats.finish(target, config, [layer], "%s:%s" % (image.name, image.tag))
