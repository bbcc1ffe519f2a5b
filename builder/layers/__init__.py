"""A layer written: its tree (tree) as tar bytes (tar), once, with its digests computed on
the way; store paths packed by the worker processes.

    storetar     store paths listed and packed into tar frames, by the workers
    layer        one layer written once, its diff_id, digest and size
"""
