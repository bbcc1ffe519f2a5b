"""The image configuration JSON (Docker image spec v1.2, OCI image config).

Serialised with sorted keys and no spaces: its sha256 is the image ID and the config's
blob name, so the bytes must depend on nothing but the inputs. It holds no layer sizes, no
blob digests and no layer ids, only the diff_ids: compressing the layers differently gives
the same config.
"""

import collections
import json

History = collections.namedtuple("History", "created_by comment")


def image_config(spec, diff_ids, history, base=None):
    """The config bytes for the layers with `diff_ids`, one History a layer of ours, after
    the layers of the `base` image (a baseimage.BaseImage) if there is one."""
    if len(diff_ids) != len(history) + (len(base.layers) if base else 0):
        raise ValueError("one history entry a layer")
    document = {
        "architecture": spec.architecture,
        "os": spec.os,
        "config": inherited(base.config.get("config") or {}, spec.config) if base else spec.config,
        "created": spec.created,
        "history": (base_history(base) if base else []) + [
            {"created": spec.created, "created_by": entry.created_by, "comment": entry.comment}
            for entry in history
        ],
        "rootfs": {"type": "layers", "diff_ids": list(diff_ids)},
    }
    if spec.variant:
        document["variant"] = spec.variant
    return canonical_json(document)


def inherited(base, config):
    """The container config of an image over a base with `base` as its config: every field
    from the base unless `config` sets it, and Env merged: the base's first, one entry a
    name, the later value of a name winning."""
    merged = dict(base)
    merged.update(config)
    env = {}
    for entry in list(base.get("Env") or []) + list(config.get("Env") or []):
        name, _, value = entry.partition("=")
        env[name] = value
    if env:
        merged["Env"] = ["%s=%s" % item for item in env.items()]
    return merged


def base_history(base):
    """The base's history, or, where it does not have one entry a layer (some tools write
    none), one plain entry a layer instead, as registries want."""
    history = [entry for entry in base.history() if isinstance(entry, dict)]
    if sum(1 for entry in history if not entry.get("empty_layer")) == len(base.layers):
        return history
    return [{"created_by": "base image layer %d" % (index + 1)} for index in range(len(base.layers))]


def canonical_json(document):
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
