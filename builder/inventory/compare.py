"""Two images compared, as a release sees them: the store paths the new one adds and
drops, those it changes (one path of a name replaced by one other of the same name, as
``builtins.parseDrvName`` names it: libfoo-1.0 by libfoo-1.1), its layers shared with the
old one and new, and the bytes a push of it uploads to a registry that holds the old one:
its blobs (layers and config) the old one lacks."""

from .names import parse_drv_name, store_name


def compare(old, new):
    """The comparison of two contents.Contents, as the JSON ``strata diff --json`` prints."""
    old_paths = {path for layer in old.layers for path in layer.store_paths}
    new_paths = {path for layer in new.layers for path in layer.store_paths}
    added, removed = sorted(new_paths - old_paths), sorted(old_paths - new_paths)
    changed = []
    for name in sorted({_name(path) for path in added} & {_name(path) for path in removed}):
        before = [path for path in removed if _name(path) == name]
        after = [path for path in added if _name(path) == name]
        if len(before) == len(after) == 1:
            changed.append({"name": name, "old": before[0], "new": after[0]})
            removed.remove(before[0])
            added.remove(after[0])
    had = {layer.digest for layer in old.layers} | {old.config_digest}
    fresh = [layer for layer in _distinct(new.layers) if layer.digest not in had]
    upload = sum(layer.size for layer in fresh) + (new.config_size if new.config_digest not in had else 0)
    new_count = sum(1 for layer in new.layers if layer.digest not in had)
    return {
        "added": added,
        "removed": removed,
        "changed": changed,
        "layers": {"shared": len(new.layers) - new_count, "new": new_count},
        "newLayers": [{"digest": layer.digest, "size": layer.size, "storePaths": list(layer.store_paths)}
                      for layer in fresh],
        "uploadBytes": upload,
    }


def _name(path):
    return parse_drv_name(store_name(path))[0]


def _distinct(layers):
    seen, result = set(), []
    for layer in layers:
        if layer.digest not in seen:
            seen.add(layer.digest)
            result.append(layer)
    return result
