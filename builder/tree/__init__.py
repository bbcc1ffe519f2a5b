"""A layer's file tree: what is listed, merged and changed before it is written as a tar.

    symlinks      paths resolved through symlinks as a runtime resolves them
    fstree        the tree of a layer: store paths and a merged root, in tar order
    imagetree     the tree an image's layers make, as a runtime resolves it
    overbase      a new layer over a base: nothing twice, through the base's symlinks
    accounts      declared users and groups: /etc files, homes and /tmp
    perms         modes and owners of chosen entries
    extracommands extraCommands and fakeRootCommands in a copy of the root
"""
