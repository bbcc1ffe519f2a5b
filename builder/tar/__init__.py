"""Bytes: deterministic tar headers, files read once and checked, sinks that hash, count and
compress, and the worker processes that write in parallel.

    tarwriter    deterministic tar headers (ustar, PAX where needed)
    filedata     a listed file's bytes, read once and checked against its size
    streams      sinks that hash, count, compress (gzip, zstd) and write what passes, and
                 a blob's tar bytes read back (gzip, zstd or plain)
    workers      forked worker processes, their results streamed back in job order
"""
