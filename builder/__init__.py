"""strata's image builder: Nix store closures to container images, standard library only.

The pipeline, one module a stage, each importing only the stages before it:

    errors, output  the one user-facing error; outputs that are all or nothing
    progress        the lines the builders print on stderr
    naming          image references: lowercasing and the reference grammar
    streams         sinks that hash, count, compress (in parallel) and write what passes
    spec            the JSON documents the Nix functions hand over (the one seam), checked
    filedata        a listed file's bytes, read once and checked against its listed size
    graph, nar      closure graphs from exportReferencesGraph; NAR hashes and Nix base-32
    symlinks        paths resolved through symlinks as a runtime resolves them
    fstree          the file tree of a layer: store paths and a merged root, in tar order
    tarwriter       deterministic tar headers
    workers         forked worker processes, their results streamed back in job order
    storetar        store paths listed and packed into tar frames, by the workers
    layer           one layer written once, its digests computed on the way
    layering        store paths grouped into layers within a budget
    pipeline        dockerTools' layeringPipeline: the user's own grouping
    imagetree       the tree an image's layers make, as a runtime resolves it
    baseimage       base images read and checked: any archive or layout
    overbase        a new layer over a base: nothing twice, through the base's symlinks
    extracommands   extraCommands and fakeRootCommands in a copy of the root
    accounts        declared users and groups: /etc files, homes and /tmp in the tree
    references      the store paths files name, found as Nix finds references
    nixdb           the Nix database of an image
    imageconfig     the image configuration JSON
    imageformats    the Docker archive and OCI layout, as a tar or a directory
    layerbuild      layer derivations, their records, plans, the Nix database layer
    runasroot       runAsRoot in the image's unpacked root, its change made a layer
    imagebuild      buildImage
    layeredimage    buildLayeredImage and the stream scripts; streaming: what they run
    export, pull    exportImage and mergeImages; pullImage
    multiarch       buildMultiArchImage: images of several platforms in one image index
    registry/       shipping: the registry client, push, load (copyToRegistry, ...)
    cli             ``python3 -m builder``
"""
