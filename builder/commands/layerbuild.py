"""Layers built apart: the layer derivations, their plan, and the record each leaves.

A layer derivation's output is a directory holding ``layer.json`` (its record) and, when
the image format needs the bytes, ``blob``. The record says what the layer is made of and
how it was written, so that an image can copy the blob, or a stream can write the layer
again from the store and check it path by path::

    {"diffId", "digest", "size", "mediaType",     the layer.Layer
     "name", "storePaths", "storeDir",             what it holds
     "references",                                 the store paths its other files need
     "mtime", "uid", "gid", "uname", "gname",      how its entries were written
     "perms",                                      the rules it applied (see perms)
     "history",                                    its entry in the image history, or null
     "blob": true | false, "segments": {path: sha256 of that path's tar bytes} | null}

``references`` is the closure of what the files outside the store name (see layer_root):
an image that takes the layer takes those paths too, as dockerTools takes the closure of
its customisation layer. The record names them, so Nix makes them the derivation's
references, and an image that lists the layer in its exportReferencesGraph gets their
graph.

Only layers made of whole store paths (no copied root, no extraCommands) may leave out the
blob, since only they can be written again from the store alone.
"""

import contextlib
import json
import os

from ..core import progress
from ..core.errors import StrataError
from ..core.fields import Fields
from ..core.output import output_directory, output_file
from ..image.imageconfig import History
from ..layers.layer import MEDIA_TYPES, Layer, TarPlan, owners, write_layer
from ..nix import graph, layering
from ..tar.tarwriter import Owner, numeric_owner
from ..tree import extracommands, fstree, perms
from ..tree.overbase import not_in_base, over_base

RECORD = "layer.json"
BLOB = "blob"


class LayerRecord:
    """A layer read back from its derivation's output directory, every field checked (an
    image may be handed any directory as a layer)."""

    def __init__(self, directory, document):
        fields = Fields(document)
        self.directory = directory
        self.layer = Layer(fields.digest("diffId"), fields.digest("digest"), fields.size("size"),
                           fields.choice("mediaType", MEDIA_TYPES.values()))
        self.name = fields.get("name", str)
        self.store_paths = fields.string_list("storePaths")
        self.references = fields.string_list("references")
        self.store_dir = fields.get("storeDir", str)
        self.mtime = fields.get("mtime", int)
        self.owner = Owner(fields.owner_id("uid"), fields.owner_id("gid"), fields.get("uname", str),
                           fields.get("gname", str))
        self.perms = perms.rules(fields.get("perms", list, []))
        entry = fields.get("history", dict, None)
        self.history = None if entry is None else History(
            entry.get("created_by"), entry.get("comment"), entry.get("author"))
        self.blob = os.path.join(directory, BLOB) if fields.get("blob", bool) else None
        segments = fields.get("segments", dict, None)
        if segments is not None and not all(isinstance(value, str) for value in segments.values()):
            raise StrataError("segments: expected an object of digests")
        self.segments = segments


def read_record(directory):
    path = os.path.join(directory, RECORD)
    try:
        with open(path, "rb") as stream:
            return LayerRecord(directory, json.load(stream))
    except (OSError, ValueError, RecursionError) as error:
        raise StrataError("%s: not a strata layer (%s)" % (directory, error))
    except StrataError as error:
        raise StrataError("%s: not a strata layer (%s in %s)" % (directory, error, RECORD))


def build_layer(spec):
    """The ``build-layer`` command: write one layer derivation's output (a spec.LayerSpec)."""
    if not spec.keep_blob and (spec.copy_to_root or spec.contents or extracommands.wanted(spec)
                               or spec.compressor != "none"):
        raise StrataError("keepBlob: only a layer of store paths alone, uncompressed, can go without its blob")
    closure = load_graph(spec.closure) if spec.closure is not None else {}
    store_paths = set(spec.store_paths or _deps_paths(spec, closure)) - set(spec.ignore)
    with contextlib.ExitStack() as cleanup:
        root, named = layer_root(spec, closure, cleanup)
        references = graph.closure(closure, named)
        fstree.add_store_paths(root, spec.store_dir, sorted(store_paths))
        owner = Owner(spec.uid, spec.gid, spec.uname, spec.gname)
        store_owner = numeric_owner(*spec.store_owner) if spec.store_owner else None
        base = base_image(spec.base)
        entries, applied = with_perms(fstree.entries(root), spec, owner, store_owner, base=base)
        if base:
            entries = over_base(entries, base.tree, owners(entries, owner, store_owner), spec.store_dir)
        _write_output(spec, entries, owner, store_paths, spec.keep_blob, references, applied, store_owner)


def with_perms(entries, spec, owner, store_owner=None, base=None):
    """`entries` with the spec's perms applied (see perms.apply), and the rules applied.
    Over a `base` (a BaseImage), the store paths it holds are left out first: a rule for
    one of them is a rule for a base's files, which the layer does not write."""
    if not spec.perms:
        return entries, []
    if base:
        entries = not_in_base(entries, base.tree, spec.store_dir)
    return perms.apply(entries, spec.perms, owners(entries, owner, store_owner), spec.copy_to_root,
                       spec.keep_dirlinks, alone=not spec.perms_of_image)


def build_nix_db_layer(image, spec):
    """The ``build-nix-db-layer`` command: a layer with the Nix database of a layered image's
    store paths (those of ``deps``' closure and what ``configRefs`` refers to), its GC
    roots those paths, owned by ``nixUid``/``nixGid``."""
    closure = load_graph(spec.closure)
    roots = set(spec.deps)
    if image.config_refs:
        roots |= graph.referenced(closure, [image.config_refs])
    for record in _customisation(image):
        roots |= graph.tops(closure, set(record.references) - graph.closure(closure, roots))
    paths = graph.closure(closure, roots)
    owner = numeric_owner(image.nix_uid, image.nix_gid)
    from ..nix import nixdb  # here, not above: sqlite3's import would cost every layer's start
    base_db = base_image(image.base).nix_db if image.base else None
    with extracommands.scratch_directory("nix-db") as scratch:
        entries = fstree.entries(nixdb.database_root(scratch, closure, paths, roots, spec.mtime, spec.store_dir,
                                                     base_db))
        _write_output(spec, entries, owner, [], keep_blob=True, references=set(), applied=[])


def _write_output(spec, entries, owner, store_paths, keep_blob, references, applied, store_owner=None):
    """A layer derivation's output: the blob (or, without it, each store path's digest)
    and the record."""
    segments = None if keep_blob else {}
    plan = TarPlan(entries, spec.mtime, owner, store_owner)
    with output_directory(spec.out):
        if keep_blob:
            with open(os.path.join(spec.out, BLOB), "wb") as stream:
                layer = write_layer(plan, stream, spec.compressor)
        else:
            layer = write_layer(plan, None, spec.compressor, segments)
        _write_record(spec.out, layer, spec.layer_name, store_paths, spec, segments, references, applied)
    progress.layer(spec.layer_name, len(store_paths), layer.size)


def _write_record(directory, layer, name, store_paths, spec, segments, references, applied):
    record = {
        "diffId": layer.diff_id, "digest": layer.digest, "size": layer.size, "mediaType": layer.media_type,
        "name": name, "storePaths": sorted(store_paths), "storeDir": spec.store_dir, "references": sorted(references),
        "mtime": spec.mtime, "uid": spec.uid, "gid": spec.gid, "uname": spec.uname, "gname": spec.gname,
        "blob": segments is None, "segments": segments, "perms": [rule.document for rule in applied],
        "history": spec.history,
    }
    with open(os.path.join(directory, RECORD), "w") as stream:
        json.dump(record, stream, sort_keys=True, indent=1)


def layer_root(spec, closure, cleanup):
    """The tree of a layer outside the store (copyToRoot copied and contents linked at /,
    extraCommands run on them), and the store paths it names: what the copied items refer
    to and the linked items themselves, or, where commands ran, the paths of `closure` (the
    spec's graph: their input closure) that the files they left name."""
    root = fstree.merged_root(spec.copy_to_root, spec.keep_dirlinks, linked_items=spec.contents)
    if not extracommands.wanted(spec):
        named = (graph.referenced(closure, spec.copy_to_root) | set(spec.contents)) if closure else set()
    else:
        scratch = cleanup.enter_context(extracommands.scratch_directory("root"))
        root = extracommands.run(root, spec, scratch)
        from ..nix.references import named_paths  # here, not above: most layers run no commands
        named = named_paths(root, closure)
    if spec.users or spec.groups:
        from ..tree import accounts
        scratch = cleanup.enter_context(extracommands.scratch_directory("accounts"))
        accounts.add(root, spec.users, spec.groups, base_image(spec.base), scratch)
    return root, named


def store_layer_entries(store_dir, store_paths, owner, rules):
    """The entries of a layer of store paths alone, owned by `owner`, with those of the
    perms `rules` whose paths it holds applied."""
    root = fstree.Dir(fstree.COPIED_DIR_MODE)
    fstree.add_store_paths(root, store_dir, sorted(store_paths))
    entries = fstree.entries(root)
    return perms.apply(entries, rules, owners(entries, owner), alone=False)[0]


def plan_layers(image, spec):
    """The ``plan-layers`` command: the store paths of a layered image, grouped into layers,
    as JSON: [{"name", "storePaths"}] bottom first."""
    groups = planned_groups(image, [read_record(directory) for directory in spec.lower_layers], spec.store_dir)
    with output_file(spec.out) as stream:
        stream.write(json.dumps([{"name": name, "storePaths": paths} for name, paths in groups], indent=1).encode())


def planned_groups(image, lower, store_dir):
    """(name, store paths) of the layers that hold the image's store paths (the closure of
    ``contents``, of what ``config`` refers to, and the references of the layers in `lower`
    (LayerRecords) and of the customisation layer) which no layer in `lower` holds, nor the
    base image, within what ``maxLayers`` leaves for them beside the base's layers, `lower`,
    the Nix database and the top layer."""
    if not image.include_store_paths:
        return []
    closure = load_graph(image.closure)
    wanted = graph.closure(closure, image.contents)
    if image.config_refs:
        wanted |= graph.referenced_closure(closure, [image.config_refs])
    for record in lower + _customisation(image):
        missing = [path for path in record.references if path not in closure]
        if missing:
            raise StrataError("%s: the layer's files need %s, which is not in the image's closure graph (give the"
                              " layer to exportReferencesGraph)" % (record.directory, missing[0]))
        wanted.update(record.references)
    for record in lower:
        wanted.difference_update(record.store_paths)
    wanted.difference_update(image.ignore)
    base = base_image(image.base)
    if base:
        store_prefix = store_dir.strip("/") + "/"
        wanted = {path for path in wanted if store_prefix + os.path.basename(path) not in base.tree.nodes}
    if image.layer_split is not None:
        return [(_group_name(closure, group), group) for group in _exact_split(image.layer_split, wanted)]
    max_layers = 100 if image.max_layers is None else image.max_layers
    others = len(lower) + 1 + image.include_nix_db + (len(base.layers) if base else 0)
    budget = max_layers - others if image.own_layers is None else image.own_layers - bool(image.customisation_layer)
    if wanted and budget < 1:
        raise StrataError("maxLayers: %d leaves no layer for the store paths beside %d other layers (base and"
                          " lower layers, the Nix database, the top layer)" % (max_layers, others))
    if image.layering_pipeline is None:
        roots = [path for path in image.contents if path in wanted]
        groups = layering.plan(closure, wanted, budget, roots, read_layer_plan(image.layer_plan))
    else:
        from ..nix.pipeline import plan  # here, not above: few images take a pipeline
        groups = plan(closure, wanted, image.layering_pipeline)
        if len(groups) > budget:
            raise StrataError("layeringPipeline: makes %d layers, and maxLayers = %d leaves %d for the store paths;"
                              " end it with [\"limit_layers\", %d]" % (len(groups), max_layers, budget, budget))
    return [(_group_name(closure, group), group) for group in groups]


def _exact_split(path, wanted):
    """The layers (lists of store paths) the file `path` gives (``layerSplit``), which must
    hold each path of `wanted` once and nothing else; empty lists are no layers."""
    document = _json_file(path, "layersFile", "JSON")
    if not isinstance(document, list) or not all(
            isinstance(group, list) and all(isinstance(item, str) for item in group) for group in document):
        raise StrataError("layersFile: %s: expected a list of lists of store paths" % path)
    seen = set()
    for group in document:
        for item in group:
            if item in seen:
                raise StrataError("layersFile: %s is in two layers" % item)
            if item not in wanted:
                raise StrataError("layersFile: %s is not in the layer's closure" % item)
            seen.add(item)
    missing = sorted(wanted - seen)
    if missing:
        raise StrataError("layersFile: %s (and %d more paths of the closure) is in no layer" % (missing[0], len(missing) - 1))
    return [sorted(group) for group in document if group]


def read_layer_plan(path):
    """The layers (lists of store paths) of the plan file `path` (plan-layers' JSON, of an
    earlier release), or None for none."""
    if path is None:
        return None
    document = _json_file(path, "layerPlan", "a plan strata wrote")
    if not isinstance(document, list) or not all(
            isinstance(layer, dict) and isinstance(layer.get("storePaths"), list)
            and all(isinstance(store_path, str) for store_path in layer["storePaths"]) for layer in document):
        raise StrataError("layerPlan: %s: expected the JSON a layered image's `plan` holds: a list of"
                          " {\"name\", \"storePaths\"}" % path)
    return [layer["storePaths"] for layer in document]


def _json_file(path, argument, what):
    """The JSON document in the file `path` that `argument` names; an error saying it is not
    `what` where it cannot be read."""
    try:
        with open(path, "rb") as stream:
            return json.load(stream)
    except (OSError, ValueError, RecursionError) as error:  # RecursionError: nested past Python's stack
        raise StrataError("%s: %s: not %s (%s)" % (argument, path, what, error))


def _customisation(image):
    """The image's customisation layer's record, in a list (empty without one)."""
    return [read_record(image.customisation_layer)] if image.customisation_layer else []


def load_graph(closure):
    """The graph from a spec's ``closure``: a structured-attrs list or a file's path."""
    if closure is None:
        raise StrataError("closure: missing (the exportReferencesGraph of the image's roots)")
    if isinstance(closure, str):
        return graph.read_registration(closure)
    return graph.from_structured(closure, "closure")


def _deps_paths(spec, closure):
    """The closure of ``deps`` and of what ``referencesOf`` refer to, less what the
    ``lowerLayers`` hold (explicit layers)."""
    if not spec.deps and not spec.references_of:
        return []
    paths = graph.closure(closure, spec.deps) | graph.referenced_closure(closure, spec.references_of)
    for directory in spec.lower_layers:
        paths.difference_update(read_record(directory).store_paths)
    return paths


def _group_name(closure, group):
    """A layer's name: its largest path's name, and how many more it holds."""
    largest = min(group, key=lambda path: (-(closure[path].nar_size or 0), path))
    name = "layer-" + os.path.basename(largest).split("-", 1)[-1][:80]
    return name if len(group) == 1 else "%s-and-%d-more" % (name, len(group) - 1)


def base_image(path):
    """The BaseImage read at `path` (a read-base-image output), or None without one.
    baseimage is imported here, not above: most layers have no base, and tarfile's import
    would cost every layer derivation's start."""
    if not path:
        return None
    from ..image.baseimage import BaseImage
    return BaseImage(path)
