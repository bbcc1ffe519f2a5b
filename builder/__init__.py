"""strata's image builder: Nix store closures to container images, standard library only.

The pipeline, one module a stage, each importing only the stages before it:

    spec        the JSON document a Nix function hands over (the one seam), validated
    naming      image references: lowercasing and the reference grammar
    graph       closure graphs from ``exportReferencesGraph`` and closure computation
    fstree      the file tree of a layer: store paths and a merged root, in tar order
    tarwriter   deterministic tar headers and entries
    streams     byte sinks that hash, count and compress what passes through them
    layer       one layer tar written once, its digests computed on the way
    imageconfig the image configuration JSON
    imageformats   the Docker archive and OCI layout, as a tar or a directory
    cli         ``python3 -m builder``
"""
