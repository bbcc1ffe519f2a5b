"""Layering: which store paths go into which layer, within a budget of layers.

The aim is that a change to one package rebuilds and re-uploads little. Large store paths
are what cost to move, so they are the "primaries": each gets a layer of its own. Every
other path is keyed by the set of primaries whose closure holds it:

- a path only one primary needs joins that primary's layer;
- paths shared by the same set of primaries form one layer;
- paths no primary needs (small roots and what only they need) form the last layer.

Adding a primary only ever splits groups, so the number of layers grows with the number of
primaries, and the largest number of primaries that fits the budget is found by bisection.
No path is ever dropped: every path has a key, and every key a layer. The plan depends only
on the graph (references and NAR sizes), never on the order it was listed in.

Layers are ordered dependencies first: a layer comes before the layers of the paths that
refer to its paths, so the most shared layers sit at the bottom.
"""

from .errors import StrataError


def plan(graph, paths, budget):
    """A list of layers (each a sorted list of store paths) holding all of `paths` (a subset
    of `graph` closed under references, or any subset whose outside references are ignored),
    in at most `budget` layers."""
    if budget < 1:
        raise StrataError("maxLayers: leaves no layer for the store paths (budget %d)" % budget)
    paths = sorted(paths)
    if not paths:
        return []
    if len(paths) <= budget:
        return _ordered(graph, [[path] for path in paths])
    by_size = sorted(paths, key=lambda path: (-(graph[path].nar_size or 0), path))
    order = _dependencies_first(graph, paths)
    low, high = 0, min(len(paths), budget)
    while low < high:
        middle = (low + high + 1) // 2
        if len(_groups(graph, order, by_size[:middle])) <= budget:
            low = middle
        else:
            high = middle - 1
    return _ordered(graph, _groups(graph, order, by_size[:low]))


def _groups(graph, order, primaries):
    """Paths grouped by the set of primaries that reach them (as a bit mask)."""
    bit = {path: 1 << index for index, path in enumerate(primaries)}
    inside = set(order)
    mask = {}
    for path in reversed(order):  # referrers before what they refer to
        mask[path] = mask.get(path, 0) | bit.get(path, 0)
        for reference in graph[path].references:
            if reference != path and reference in inside:
                mask[reference] = mask.get(reference, 0) | mask[path]
    groups = {}
    for path in order:
        groups.setdefault(mask[path], []).append(path)
    return [sorted(group) for group in groups.values()]


def _dependencies_first(graph, paths):
    """`paths` in an order where every path comes after the paths it refers to; ties in
    byte order of the paths, so the order is the same whatever the input order."""
    inside = set(paths)
    order = []
    state = {}
    for start in paths:
        if start in state:
            continue
        stack = [(start, iter(sorted(graph[start].references)))]
        state[start] = "open"
        while stack:
            path, references = stack[-1]
            for reference in references:
                if reference in inside and reference not in state:
                    state[reference] = "open"
                    stack.append((reference, iter(sorted(graph[reference].references))))
                    break
            else:
                stack.pop()
                state[path] = "done"
                order.append(path)
    return order


def _ordered(graph, groups):
    position = {path: index for index, path in enumerate(_dependencies_first(graph, sorted(p for g in groups for p in g)))}
    return sorted(groups, key=lambda group: (min(position[path] for path in group), group))
