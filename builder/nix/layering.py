"""Layering: which store paths go into which layer, within a budget of layers.

What a release costs is the layers whose digests the registry and the nodes do not have yet:
every layer that holds a path whose hash changed. A path's hash changes when it changes and
whenever anything it refers to changes, so its *change set* is itself and everything it
reaches: two paths with the same change set always change together.

Putting path p into a layer L costs later releases p's bytes on every change that rebuilds L
but not p, and L's bytes on every change that rebuilds p but not L. Every path is taken as
equally likely to change, except the paths that a tenth of the closure or more depends on
(glibc, openssl, zlib: where security updates land), which count POPULAR_WEIGHT times, and
the image's roots (``contents``), which a release changes every time: they count as much as
all other paths together. Paths are taken dependencies
first (ties by name without the hash, which survives a rebuild), and each joins the layer of
a related path (one it refers to, or a sibling: referred to by one path with it, or
referring to one path with it) where that costs at most a threshold, else starts a layer.
The threshold is the least power of two for which the layers fit the budget; layers left
over give the largest paths that share a layer one of their own. So:

- a root keeps a layer of its own: a release that changes only the app re-sends it alone;
- paths that change together share a layer (an app and its private helpers, apps built on
  the same libraries), and a widely used library's users stay apart from paths that do not
  use it, so a change to it re-sends little besides what it rebuilds;
- each path's layer depends on the paths below it and on the threshold only: a new path
  joins or starts one layer, and the others stay as they were unless it moves the threshold.

The plan is a function of the graph (references, NAR sizes, names), never of the order the
paths are listed in. To keep even the threshold from moving, give the plan of the previous
release (``previous``): every path whose name (without hash and version) it holds keeps that
layer, and a new path joins the layer of a path that refers to it, which changes with it.

Layers are ordered dependencies first: a layer comes before the layers of the paths that
refer to its paths, so the most shared layers sit at the bottom.
"""

import os
import re

from ..core.errors import StrataError

SIBLINGS = 8
"""Each path weighs joining this many of its siblings (the references of one path, or the
referrers of one, in order of size): enough to find the cheap ones, few enough that a path
with thousands of references does not make millions of pairs."""
POPULAR_SHARE = 0.1
POPULAR_WEIGHT = 16
"""A path that this share of the closure is or depends on counts this many times as likely to
change as another (measured in bench/churn.py: it keeps a widely used library's users apart
from other paths even when few layers are left)."""
STEPS = 160
"""Thresholds tried: 2**0 to 2**(STEPS - 1) bytes times changes."""


def plan(graph, paths, budget, roots=(), previous=None):
    """A list of layers (each a sorted list of store paths) holding all of `paths` (a subset
    of `graph` closed under references, or any subset whose outside references are ignored),
    in at most `budget` layers; `roots` the image's roots among them; `previous` the layers
    (lists of store paths) of an earlier release's plan, to keep."""
    if budget < 1:
        raise StrataError("maxLayers: leaves no layer for the store paths (budget %d)" % budget)
    paths = sorted(paths)
    if not paths:
        return []
    if previous is not None:
        return _ordered(graph, _kept(graph, paths, budget, previous))
    if len(paths) <= budget:
        return _ordered(graph, [[path] for path in paths])
    order = _dependencies_first(graph, paths, key=name_key)
    costs = _Costs(graph, order, roots)
    low, high = 0, STEPS - 1
    while low < high:  # the least threshold whose layers fit
        middle = (low + high) // 2
        if len(costs.joined(order, 2 ** middle)) <= budget:
            high = middle
        else:
            low = middle + 1
    layers = _fitted(costs.joined(order, 2 ** low), budget)
    return _ordered(graph, _with_largest_alone(costs, layers, budget))


class _Costs:
    """Change sets, sizes and related paths, and what putting a path into a layer costs."""

    def __init__(self, graph, order, roots):
        """`order`: the paths, each after the paths it refers to."""
        bit = {path: 1 << index for index, path in enumerate(order)}
        self.changes = {}  # path -> its change set, a bit mask over `order`
        for path in order:  # what a path refers to comes first (but in a cycle, which Nix has none of)
            mask = bit[path]
            for reference in graph[path].references:
                if reference != path and reference in bit:
                    mask |= self.changes.get(reference, bit[reference])
            self.changes[path] = mask
        above = {path: 0 for path in order}  # the paths that depend on a path, a bit mask
        for path in reversed(order):  # referrers first
            for reference in graph[path].references:
                if reference != path and reference in bit:
                    above[reference] |= above[path] | bit[path]
        self.popular_mask = sum(bit[path] for path in order
                                if _popcount(above[path] | bit[path]) >= POPULAR_SHARE * len(order))
        self.root_mask = sum(bit[path] for path in set(roots) if path in bit)
        self.root_weight = len(order) + (POPULAR_WEIGHT - 1) * _popcount(self.popular_mask)
        self.size = {path: graph[path].nar_size or 0 for path in order}
        self.related = _related(graph, order, self.size)

    def weight(self, mask):
        """How likely a change rebuilds something in `mask`: the weights of its paths."""
        return (_popcount(mask) + (POPULAR_WEIGHT - 1) * _popcount(mask & self.popular_mask)
                + (self.root_weight - 1) * _popcount(mask & self.root_mask))

    def joined(self, order, threshold):
        """The layers (each [paths, change set, size]) of the paths taken in `order`, each
        joining the cheapest layer of a related path where that costs at most `threshold`."""
        layers, layer_of = [], {}
        for path in order:
            changes, size = self.changes[path], self.size[path]
            best = None
            for other in self.related[path]:
                if other in layer_of:
                    members, layer_changes, layer_size = layers[layer_of[other]]
                    cost = (self.weight(layer_changes & ~changes) * size
                            + self.weight(changes & ~layer_changes) * layer_size)
                    if best is None or (cost, members[0]) < best[:2]:
                        best = (cost, members[0], layer_of[other])
            if best is not None and best[0] <= threshold:
                layer = layers[best[2]]
                layer[0].append(path)
                layer[1] |= changes
                layer[2] += size
                layer_of[path] = best[2]
            else:
                layer_of[path] = len(layers)
                layers.append([[path], changes, size])
        return layers


def _fitted(layers, budget):
    """`layers` as at most `budget` paths lists: where unrelated parts of the graph are more
    than the budget (no threshold joins them), the smallest layers merge."""
    groups = sorted((size, sorted(members)) for members, _, size in layers)
    while len(groups) > budget:
        (size_a, a), (size_b, b) = groups.pop(0), groups.pop(0)
        groups.append((size_a + size_b, sorted(a + b)))
        groups.sort()
    return [members for _, members in groups]


def _with_largest_alone(costs, layers, budget):
    """Layers left in the budget give the largest paths that share a layer one of their own."""
    spare = budget - len(layers)
    layer_of = {path: layer for layer in layers for path in layer}
    for path in sorted(costs.size, key=lambda path: (-costs.size[path], name_key(path))):
        if spare <= 0:
            break
        if len(layer_of[path]) > 1:
            layer_of[path].remove(path)
            layers.append([path])
            spare -= 1
    return layers


def _kept(graph, paths, budget, previous):
    """The layers of `previous` (lists of store paths), each path of `paths` in the layer
    that held a path of its name; a new one in the smallest layer of the paths that refer to
    it (which change with it), else in a layer of its own while the budget allows, else in
    the smallest layer."""
    slot = {}
    for index, layer in enumerate(previous):
        for path in layer:
            slot.setdefault(stable_name(path), index)
    layers = [[] for _ in previous]
    new = []
    for path in paths:
        index = slot.get(stable_name(path))
        (new if index is None else layers[index]).append(path)
    used = sum(1 for layer in layers if layer)
    layer_of = {path: layer for layer in layers for path in layer}
    referrers = {path: [] for path in paths}
    for path in paths:
        for reference in graph[path].references:
            if reference in referrers and reference != path:
                referrers[reference].append(path)
    size = {path: graph[path].nar_size or 0 for path in paths}
    for path in reversed(_dependencies_first(graph, new, key=name_key)):  # referrers first
        homes = [layer_of[referrer] for referrer in referrers[path] if referrer in layer_of]
        if not homes and used < budget:
            home = []
            layers.append(home)
            used += 1
        else:
            candidates = homes or [layer for layer in layers if layer]
            home = min(candidates, key=lambda layer: (sum(size[member] for member in layer), sorted(layer)[0]))
        home.append(path)
        layer_of[path] = home
    kept = [sorted(layer) for layer in layers if layer]
    if len(kept) > budget:
        raise StrataError("layerPlan: keeps %d layers, and maxLayers leaves %d for the store paths; plan anew"
                          " (leave layerPlan out once) or raise maxLayers" % (len(kept), budget))
    return kept


def name_key(path):
    """A path's name without its hash, then the path: an order a rebuild does not change."""
    return (os.path.basename(path).split("-", 1)[-1], path)


_VERSION = re.compile(r"-[0-9]")


def stable_name(path):
    """What survives a new release of a store path: its name without the hash and the
    version (as builtins.parseDrvName splits it), with an output's name kept (``-dev``)."""
    name = os.path.basename(path).split("-", 1)[-1]
    match = _VERSION.search(name)
    if not match:
        return name
    outputs = [part for part in name[match.start() + 1:].split("-")[1:] if part.isalpha()]
    return "-".join([name[:match.start()]] + outputs[-1:])


def _related(graph, paths, size):
    """For each path, the paths it may join: its references and referrers, and siblings —
    paths referred to by one path with it, or referring to one path with it — the SIBLINGS
    nearest in size on either side."""
    inside = set(paths)
    related = {path: set() for path in paths}
    referrers = {path: [] for path in paths}
    for path in paths:
        for reference in graph[path].references:
            if reference != path and reference in inside:
                referrers[reference].append(path)
                related[path].add(reference)
                related[reference].add(path)
    families = [[reference for reference in graph[path].references if reference in inside and reference != path]
                for path in paths] + list(referrers.values())
    for family in families:
        family = sorted(set(family), key=lambda path: (size[path], name_key(path)))
        for index, path in enumerate(family):
            for sibling in family[index + 1:index + 1 + SIBLINGS]:
                related[path].add(sibling)
                related[sibling].add(path)
    return {path: sorted(others, key=name_key) for path, others in related.items()}


def _popcount(mask):
    return bin(mask).count("1")


_popcount = getattr(int, "bit_count", _popcount)  # Python 3.10 and newer count faster


def _dependencies_first(graph, paths, key=None):
    """`paths` in an order where every path comes after the paths it refers to; ties in
    byte order of the paths (or by `key`), so the order is the same whatever the input
    order."""
    inside = set(paths)
    order = []
    state = {}
    for start in sorted(paths, key=key):
        if start in state:
            continue
        stack = [(start, iter(sorted(graph[start].references, key=key)))]
        state[start] = "open"
        while stack:
            path, references = stack[-1]
            for reference in references:
                if reference in inside and reference not in state:
                    state[reference] = "open"
                    stack.append((reference, iter(sorted(graph[reference].references, key=key))))
                    break
            else:
                stack.pop()
                state[path] = "done"
                order.append(path)
    return order


def _ordered(graph, groups):
    position = {path: index for index, path in enumerate(_dependencies_first(graph, sorted(p for g in groups for p in g)))}
    return sorted(groups, key=lambda group: (min(position[path] for path in group), group))
