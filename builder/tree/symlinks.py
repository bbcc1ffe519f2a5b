"""A path resolved through symlinks the way a container runtime resolves it: inside the
image root. A symlink on the way is followed, an absolute target starts again at the root,
and ``..`` at the root stays there; after 40 links no more are followed.

Paths are lists of components, str or bytes alike; the tree is asked through a function,
so that the layer trees (fstree) and the trees base images make (imagetree) share this one
walk.
"""

MAX_SYMLINK_HOPS = 40


def resolve(parts, target_of):
    """The components of `parts` with every symlink on the way followed; `target_of(parts)`
    gives the target of the symlink at those components, or None where there is none."""
    pending = list(parts)
    resolved = []
    hops = 0
    while pending:
        part = pending.pop(0)
        if part in ("", ".", b"", b"."):
            continue
        if part in ("..", b".."):
            if resolved:
                resolved.pop()
            continue
        target = target_of(resolved + [part]) if hops < MAX_SYMLINK_HOPS else None
        if target is None:
            resolved.append(part)
            continue
        hops += 1
        slash = "/" if isinstance(target, str) else b"/"
        if target.startswith(slash):
            resolved = []
        pending = target.split(slash) + pending
    return resolved
