import hashlib
import io

import pytest

from builder.image import imageformats
from builder.core.errors import StrataError
from builder.layers.layer import Layer


def known_blob(recorded, written):
    """Write `written` as the blob whose recorded bytes are `recorded` into a tar target."""
    layer = Layer("sha256:" + "0" * 64, "sha256:" + hashlib.sha256(recorded).hexdigest(), len(recorded),
                  "application/vnd.oci.image.layer.v1.tar")
    out = io.BytesIO()
    imageformats.TarTarget(out, 1).add_known_blob(layer, lambda sink: sink.write(written))
    return out.getvalue()


def test_a_known_blob_is_written_when_its_bytes_are_the_recorded_ones():
    assert b"abc" in known_blob(b"abc", b"abc")


@pytest.mark.parametrize("written, problem", [
    (b"abcd", "more bytes than the 3 recorded"),
    (b"ab", r"not the one recorded \(2 bytes, sha256:"),
    (b"abd", r"not the one recorded \(3 bytes, sha256:"),
])
def test_a_known_blob_that_differs_from_its_record_is_an_error(written, problem):
    with pytest.raises(StrataError, match=problem):
        known_blob(b"abc", written)
