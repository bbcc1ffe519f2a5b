import gzip
import hashlib
import io
import sys

import pytest

from builder import streams
from builder.errors import StrataError


def test_gzip_header_has_no_time_no_name_and_decompresses():
    out = io.BytesIO()
    sink = streams.GzipSink(streams.FileSink(out))
    data = b"strata " * 10000
    sink.write(data[:5])
    sink.write(data[5:])
    sink.close()
    compressed = out.getvalue()
    assert compressed[:10] == bytes([0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 255])
    assert gzip.decompress(compressed) == data


def test_hashing_sink_counts_hashes_and_forwards():
    out = io.BytesIO()
    sink = streams.HashingSink(streams.FileSink(out))
    sink.write(b"abc")
    sink.write(b"def")
    assert sink.size == 6 and out.getvalue() == b"abcdef"
    assert sink.digest() == "sha256:" + hashlib.sha256(b"abcdef").hexdigest()


@pytest.mark.skipif(sys.version_info >= (3, 14), reason="this interpreter has compression.zstd")
def test_zstd_without_the_standard_library_module_is_a_clear_error():
    with pytest.raises(StrataError, match="compressor: zstd needs Python 3.14"):
        streams.compressing("zstd", streams.FileSink(io.BytesIO()))
