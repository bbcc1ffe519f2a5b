"""buildImage: one layer holding copyToRoot at ``/`` and, under the store directory, the
closure of what it (and the config) refers to, or what runAsRoot changed in the image's
root (see runasroot); with includeNixDB, a second small layer holding the Nix database of
those store paths."""

import contextlib

from ..core import progress
from ..core.output import output_file
from ..image import imageformats
from ..image.imageconfig import History, image_config
from ..layers.layer import TarPlan, owners, write_layer
from ..nix import graph, nixdb
from ..tar.tarwriter import Owner, numeric_owner
from ..tree import extracommands, fstree
from ..tree.overbase import over_base
from .layerbuild import base_image, layer_root, load_graph, with_perms


def build_image(image, spec):
    """The ``build-image`` command: `image` a spec.ImageSpec, `spec` the layer's LayerSpec."""
    closure = load_graph(image.closure)
    owner = Owner(spec.uid, spec.gid, spec.uname, spec.gname)
    nix_owner = numeric_owner(image.nix_uid, image.nix_gid)
    base = base_image(image.base)
    with contextlib.ExitStack() as cleanup:
        root, roots, whiteouts = (_run_as_root(spec, base, closure, cleanup) if spec.run_as_root
                                  else layer_root(spec, closure, cleanup) + ([],))
        if image.config_refs:
            roots |= graph.referenced(closure, [image.config_refs])
        store_paths = graph.closure(closure, roots)
        fstree.add_store_paths(root, spec.store_dir, sorted(store_paths))
        entries = with_perms(fstree.entries(root), spec, owner, nix_owner, base)[0]
        if base:
            entries = over_base(entries, base.tree, owners(entries, owner, nix_owner), spec.store_dir)
        entries = sorted(entries + whiteouts, key=lambda entry: entry.name.split(b"/"))
        plan = TarPlan(entries, spec.mtime, owner, store_owner=nix_owner)
        sources = [(lambda blob: write_layer(plan, blob, spec.compressor),
                    History("strata buildImage", "copyToRoot and %d store paths it refers to" % len(store_paths)))]
        if image.include_nix_db:
            scratch = cleanup.enter_context(extracommands.scratch_directory("nix-db"))
            db_entries = fstree.entries(nixdb.database_root(scratch, closure, store_paths, roots, spec.mtime,
                                                            spec.store_dir, base.nix_db if base else None))
            db_plan = TarPlan(db_entries, spec.mtime, nix_owner)
            sources.append((lambda blob: write_layer(db_plan, blob, spec.compressor),
                            History("strata buildImage", "the Nix database of %d store paths" % len(store_paths))))
        with output_file(image.out) as stream:
            target = imageformats.TarTarget(stream, spec.mtime)
            layers = base.add_to(target) if base else []
            total = len(layers) + len(sources)
            for write, history in sources:
                layers.append(target.add_streamed_blob(write))
                progress.layer(history.comment, 0, layers[-1].size, (len(layers), total))
            config = image_config(image, [layer.diff_id for layer in layers], [history for _, history in sources], base)
            imageformats.finish(target, config, layers, "%s:%s" % (image.name, image.tag))


def _run_as_root(spec, base, closure, cleanup):
    """The root after runAsRoot (see runasroot), the store paths its files name, and the
    whiteouts of what it deleted from the base."""
    from . import runasroot
    from ..nix.references import named_paths
    root = fstree.merged_root(spec.copy_to_root, spec.keep_dirlinks)
    scratch = cleanup.enter_context(extracommands.scratch_directory("root"))
    tree, whiteouts = runasroot.run(root, spec, base, scratch, cleanup)
    return tree, named_paths(tree, closure), whiteouts
