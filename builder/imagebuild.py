"""buildImage: one layer holding copyToRoot at ``/`` and, under the store directory, the
closure of what it (and the config) refers to; written as a Docker archive."""

import contextlib
import os

from . import extracommands, fstree, graph, imageformats
from .errors import StrataError
from .imageconfig import History, image_config
from .layer import write_layer
from .tarwriter import Owner


def build_image(spec):
    """Write the image that `spec` (a spec.ImageSpec) describes to ``spec.out``."""
    closure = load_graph(spec.closure)
    carriers = spec.copy_to_root + ([spec.config_refs] if spec.config_refs else [])
    store_paths = sorted(graph.referenced_closure(closure, carriers))
    with contextlib.ExitStack() as cleanup:
        root = fstree.merged_root(spec.copy_to_root, spec.keep_dirlinks)
        if spec.extra_commands:
            scratch = cleanup.enter_context(extracommands.scratch_directory())
            root = extracommands.run(root, spec.extra_commands, spec.shell, spec.tools_path, scratch)
        fstree.add_store_paths(root, spec.store_dir, store_paths)
        entries = fstree.entries(root)
        owner = Owner(spec.uid, spec.gid, spec.uname, spec.gname)
        with _output(spec.out) as stream:
            target = imageformats.TarTarget(stream, spec.mtime)
            layer = target.add_streamed_blob(lambda blob: write_layer(entries, blob, spec.mtime, owner, spec.compressor))
            history = History("strata buildImage",
                              "copyToRoot and %d store paths it refers to" % len(store_paths))
            config = image_config(spec, [layer.diff_id], [history])
            for name, data in imageformats.metadata_files(config, [layer], "%s:%s" % (spec.name, spec.tag)):
                target.add_file(name, data)
            target.close()


def load_graph(closure):
    """The graph from the spec's ``closure``: a structured-attrs list or a file's path."""
    if isinstance(closure, str):
        return graph.read_registration(closure)
    return graph.from_structured(closure, "closure")


@contextlib.contextmanager
def _output(path):
    """The output file, removed again if writing it fails: an error leaves no output."""
    if os.path.lexists(path):
        raise StrataError("%s: the output exists already" % path)
    stream = open(path, "wb")
    try:
        with stream:
            yield stream
    except BaseException:
        os.unlink(path)
        raise
