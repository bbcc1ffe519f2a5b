"""The builder's commands, one module each, over the JSON spec (the one seam between Nix
and Python, parsed once in spec).

    spec          the JSON documents the Nix functions hand over, checked
    times         RFC 3339 times, and the files' time from mtime, SOURCE_DATE_EPOCH, created
    cli           ``python3 -m builder COMMAND``
    imagebuild    buildImage
    layerbuild    layer derivations, their records, plans, the Nix database layer
    layeredimage  buildLayeredImage and the stream scripts
    streaming     what a stream script runs
    runasroot     runAsRoot in the image's unpacked root, its change made a layer
    export        exportImage and mergeImages
    pull          pullImage
    multiarch     buildMultiArchImage
    sbombuild     an image's SBOM, as SPDX and CycloneDX documents
"""
