import gzip
import hashlib
import io
import os
import random
import subprocess
import sys

import pytest

from builder.tar import streams
from builder.core.errors import StrataError


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


def compressed(data, cores, monkeypatch, pieces=7):
    monkeypatch.setenv("NIX_BUILD_CORES", str(cores))
    out = io.BytesIO()
    sink = streams.GzipSink(streams.FileSink(out))
    step = len(data) // pieces + 1
    for start in range(0, len(data), step):
        sink.write(data[start:start + step])
    sink.close()
    return out.getvalue()


def test_parallel_gzip_gives_the_same_bytes_whatever_the_threads(monkeypatch, tmp_path):
    data = (random.Random(3).randbytes(300000) + b"strata layers " * 50000) * 3
    one = compressed(data, 1, monkeypatch)
    assert one == compressed(data, 4, monkeypatch) == compressed(data, 2, monkeypatch, pieces=1)
    assert gzip.decompress(one) == data
    (tmp_path / "x.gz").write_bytes(one)
    assert subprocess.run(["gzip", "-dc", str(tmp_path / "x.gz")], capture_output=True, check=True).stdout == data
    assert len(one) < len(data) * 0.6
    assert gzip.decompress(compressed(b"", 2, monkeypatch)) == b""


def test_hashing_sink_counts_hashes_and_forwards():
    out = io.BytesIO()
    sink = streams.HashingSink(streams.FileSink(out))
    sink.write(b"abc")
    sink.write(b"def")
    sink.close()
    assert sink.size == 6 and out.getvalue() == b"abcdef"
    assert sink.digest() == "sha256:" + hashlib.sha256(b"abcdef").hexdigest()


@pytest.mark.skipif(sys.version_info >= (3, 14), reason="this interpreter has compression.zstd")
def test_zstd_without_the_standard_library_module_is_a_clear_error():
    with pytest.raises(StrataError, match="compressor: zstd needs Python 3.14"):
        streams.compressing("zstd", streams.FileSink(io.BytesIO()))


def test_zstd_through_the_program_where_the_standard_library_has_none(monkeypatch):
    monkeypatch.setattr(streams, "_stdlib_zstd", lambda: None)
    monkeypatch.setitem(streams.ZSTD_BINARY, "path", "/usr/bin/zstd")
    data = os.urandom(3000) * 700
    out = io.BytesIO()
    sink = streams.compressing("zstd", streams.HashingSink(streams.FileSink(out)))
    for start in range(0, len(data), 100000):
        sink.write(data[start:start + 100000])
    sink.close()
    compressed = out.getvalue()
    assert subprocess.run(["zstd", "-d", "-c"], input=compressed, capture_output=True, check=True).stdout == data
    reader = streams.ZstdReader(io.BytesIO(compressed[4:]), compressed[:4], "layer")
    assert b"".join(iter(lambda: reader.read(65536), b"")) == data
    broken = streams.ZstdReader(io.BytesIO(compressed[4:len(compressed) // 2]), compressed[:4], "layer 2")
    with pytest.raises(StrataError, match="layer 2: corrupt zstd data"):
        while broken.read(65536):
            pass


def test_zstd_without_the_program_names_what_to_pass(monkeypatch):
    monkeypatch.setattr(streams, "_stdlib_zstd", lambda: None)
    monkeypatch.setitem(streams.ZSTD_BINARY, "path", None)
    with pytest.raises(StrataError, match="pass `zstd` \\(a path, such as /usr/bin/zstd\\) or `pkgs` to strata"):
        streams.compressing("zstd", streams.HashingSink(None))
