"""The image configuration JSON (Docker image spec v1.2, OCI image config).

Serialised with sorted keys and no spaces: its sha256 is the image ID and the config's
blob name, so the bytes must depend on nothing but the inputs. It holds no layer sizes, no
blob digests and no layer ids, only the diff_ids: compressing the layers differently gives
the same config.
"""

import collections
import json

History = collections.namedtuple("History", "created_by comment")


def image_config(spec, diff_ids, history):
    """The config bytes for the layers with `diff_ids`, one History a layer."""
    if len(diff_ids) != len(history):
        raise ValueError("one history entry a layer")
    document = {
        "architecture": spec.architecture,
        "os": spec.os,
        "config": spec.config,
        "created": spec.created,
        "history": [
            {"created": spec.created, "created_by": entry.created_by, "comment": entry.comment}
            for entry in history
        ],
        "rootfs": {"type": "layers", "diff_ids": list(diff_ids)},
    }
    if spec.variant:
        document["variant"] = spec.variant
    return canonical_json(document)


def canonical_json(document):
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
