"""Nix's own formats and decisions: closure graphs, NAR hashes, references, the Nix
database, the grouping of store paths into layers, and Nix shell files.

    graph        closure graphs from exportReferencesGraph and registration files
    nar          NAR serialisation and hashes, in every encoding Nix writes
    references   the store paths files name, found as Nix finds references
    nixdb        the Nix database of an image
    layering     strata's grouping of store paths into layers, by what a release re-sends
    pipeline     dockerTools' layeringPipeline: the user's own grouping
    nixshell     the files that recreate a derivation's build environment
"""
