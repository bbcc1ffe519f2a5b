import json

from builder.commands import spec
from builder.image import imageconfig


def test_config_is_canonical_and_carries_only_diff_ids():
    parsed = spec.image_spec({"imageName": "x", "outputs": {"out": "/o"}, "architecture": "arm64", "variant": "v8",
                              "config": {"Env": ["A=1"], "Cmd": ["/a"]}})
    data = imageconfig.image_config(parsed, ["sha256:aa"], [imageconfig.History("by", "why")])
    assert data == imageconfig.canonical_json(json.loads(data)) and b" " not in data
    document = json.loads(data)
    assert document["variant"] == "v8" and document["architecture"] == "arm64" and document["os"] == "linux"
    assert document["rootfs"] == {"type": "layers", "diff_ids": ["sha256:aa"]}
    assert document["history"] == [{"created": "1970-01-01T00:00:01Z", "created_by": "by", "comment": "why"}]


def test_no_variant_when_none_applies():
    parsed = spec.image_spec({"imageName": "x", "outputs": {"out": "/o"}})
    assert "variant" not in json.loads(imageconfig.image_config(parsed, [], []))
