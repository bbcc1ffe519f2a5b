"""strata's image builder: Nix store closures to container images, standard library only.

The packages, from the bytes up; each imports only packages below it (and ``core``):

    core/      errors, typed fields, outputs, progress lines, the interpreter
    tar/       bytes: tar headers, files read once, hashing and compressing sinks, workers
    tree/      a layer's file tree: listing, symlinks, merging over a base, accounts,
               perms, extraCommands and fakeRootCommands
    nix/       Nix's formats and decisions: graphs, NAR, references, the Nix database,
               layering, layeringPipeline, Nix shell files
    layers/    a layer written once: a tree as tar bytes, with its digests
    image/     names, config, Docker archive and OCI layout, base images
    inventory/ what an image holds, read back from it; its SBOM (SPDX, CycloneDX)
    commands/  the JSON spec (the one seam) and one module a builder command; cli
    registry/  shipping: the registry client, push, load, the copyTo* scripts' commands,
               SBOMs attached as OCI artifacts
    inspection/ the ``strata`` command: inspect, diff, sbom, local and in registries

``python3 -m builder COMMAND`` runs commands/cli; ``python3 -m builder.registry`` the
shipping commands; ``python3 -m builder.inspection`` (``bin/strata``) the strata command.
Each package's ``__init__`` lists its modules.
"""
