"""dockerTools' ``layeringPipeline``: the user's own rules for grouping store paths into layers.

A pipeline is a list of steps, each ``[name, arguments...]``, applied in turn to a value
that starts as the graph of the image's store paths. Values are graphs (sets of store
paths, their references taken from the closure graph), lists of values, and splits
``{"main", "common", "rest"}``. The steps, as nixpkgs' flatten_references_graph defines them:

======================================  ==============================================
``["subcomponent_out", [paths]]``       graph -> split: main, the paths and what they
                                        refer to (transitively); rest, the others
``["subcomponent_in", [paths]]``        graph -> split: main, the paths and what refers
                                        to them (transitively); rest, the others
``["split_paths", [paths]]``            graph -> split: with the edges into the paths cut,
                                        main is what only the paths reach (themselves
                                        included), common what they and other roots reach,
                                        rest what they do not reach
``["popularity_contest"]``              graph -> list of one-path graphs, the paths most
                                        referred to (transitively) first, ties by name
``["split_every", n]``                  graph -> list of graphs of n paths, by name
``["remove_paths", [paths]]``           graph -> graph without the paths
``["limit_layers", n]``                 list -> list of at most n: the rest merged into the last
``["reverse"]``                         list -> reversed
``["flatten"]``                         nested lists and splits (main, common, rest) -> flat list
``["over", key, step]``                 split -> the split with ``step`` applied to its key
``["map", step]``                       list -> ``step`` applied to each item
``["pipe", [steps]]``                   the steps in turn
======================================  ==============================================

The result, flattened, bottom layer first, is the image's store layers (empty ones left
out). Where dockerTools would leave a path out of every layer (``remove_paths``), strata
puts it in one more layer, on top: an image never lacks a path its closure needs. A step
strata does not know, or arguments of the wrong kind, is an error naming the step.
"""

from ..core.errors import StrataError

_SPLIT_KEYS = ("main", "common", "rest")


def plan(graph, paths, pipeline):
    """The layers (sorted lists of store paths) that `pipeline` makes of `paths` (a set of
    store paths of `graph`)."""
    result = _apply(["pipe", pipeline], frozenset(paths), graph)
    layers = [sorted(layer) for layer in _flat(result) if layer]
    left = set(paths).difference(*layers) if layers else set(paths)
    if left:
        layers.append(sorted(left))
    return layers


def _apply(step, value, graph):
    if not isinstance(step, list) or not step or not isinstance(step[0], str):
        raise StrataError("layeringPipeline: %r is not a step ([name, arguments...])" % (step,))
    name, arguments = step[0], step[1:]
    function = _STEPS.get(name)
    if function is None:
        raise StrataError("layeringPipeline: %r is not a step strata knows (known: %s)"
                          % (name, ", ".join(sorted(_STEPS))))
    wanted = function.__code__.co_argcount - 2
    if len(arguments) != wanted:
        raise StrataError("layeringPipeline: step %s takes %d argument%s, got %r"
                          % (name, wanted, "" if wanted == 1 else "s", arguments))
    return function(value, graph, *arguments)


def _kind(value):
    return "a graph" if isinstance(value, frozenset) else "a split" if isinstance(value, dict) else "a list"


def _graph(value, name):
    if not isinstance(value, frozenset):
        raise StrataError("layeringPipeline: step %s applies to a graph, not to %s" % (name, _kind(value)))
    return value


def _paths(paths, graph, name):
    if not isinstance(paths, list) or not all(isinstance(path, str) for path in paths):
        raise StrataError("layeringPipeline: step %s takes a list of store paths, got %r" % (name, paths))
    missing = [path for path in paths if path not in graph]
    if missing:
        raise StrataError("layeringPipeline: step %s names %s, which is not in the image's closure"
                          % (name, missing[0]))
    return set(paths)


def _reachable(starts, edges, inside):
    seen, stack = set(), [path for path in starts if path in inside]
    while stack:
        path = stack.pop()
        if path not in seen:
            seen.add(path)
            stack.extend(other for other in edges(path) if other in inside and other not in seen)
    return seen


def _referrers(value, graph):
    referrers = {path: set() for path in value}
    for path in value:
        for reference in graph[path].references:
            if reference in referrers and reference != path:
                referrers[reference].add(path)
    return referrers


def _subcomponent_out(value, graph, paths):
    value = _graph(value, "subcomponent_out")
    main = _reachable(_paths(paths, graph, "subcomponent_out"), lambda path: graph[path].references, value)
    return {"main": frozenset(main), "rest": value - main}


def _subcomponent_in(value, graph, paths):
    value = _graph(value, "subcomponent_in")
    referrers = _referrers(value, graph)
    main = _reachable(_paths(paths, graph, "subcomponent_in"), lambda path: referrers[path], value)
    return {"main": frozenset(main), "rest": value - main}


def _split_paths(value, graph, paths):
    value = _graph(value, "split_paths")
    chosen = _paths(paths, graph, "split_paths") & value
    references = lambda path: graph[path].references  # noqa: E731
    reached = _reachable(chosen, references, value)
    referrers = _referrers(value, graph)
    roots = [path for path in value - chosen if not referrers[path]]
    others = _reachable(roots, lambda path: [ref for ref in references(path) if ref not in chosen], value)
    main = reached - others
    return {"main": frozenset(main), "common": frozenset(reached & others), "rest": value - reached}


def _popularity_contest(value, graph):
    value = _graph(value, "popularity_contest")
    referrers = _referrers(value, graph)
    popularity = {path: len(_reachable([path], lambda other: referrers[other], value)) for path in value}
    return [frozenset([path]) for path in sorted(value, key=lambda path: (-popularity[path], path))]


def _split_every(value, graph, count):
    value = _graph(value, "split_every")
    if not isinstance(count, int) or count < 1:
        raise StrataError("layeringPipeline: step split_every takes a positive number, got %r" % (count,))
    ordered = sorted(value)
    return [frozenset(ordered[start:start + count]) for start in range(0, len(ordered), count)]


def _remove_paths(value, graph, paths):
    return _graph(value, "remove_paths") - _paths(paths, graph, "remove_paths")


def _limit_layers(value, graph, count):
    if not isinstance(count, int) or count < 1:
        raise StrataError("layeringPipeline: step limit_layers takes a positive number, got %r" % (count,))
    items = _list(value, "limit_layers")
    if len(items) <= count:
        return items
    return items[:count - 1] + [frozenset().union(*_flat(items[count - 1:]))]


def _reverse(value, graph):
    return list(reversed(_list(value, "reverse")))


def _flatten(value, graph):
    return _flat(value)


def _over(value, graph, key, step):
    if not isinstance(value, dict) or key not in value:
        raise StrataError("layeringPipeline: step over %r applies to a split with %r, not to %s"
                          % (key, key, _kind(value)))
    return dict(value, **{key: _apply(step, value[key], graph)})


def _map(value, graph, step):
    return [_apply(step, item, graph) for item in _list(value, "map")]


def _pipe(value, graph, steps):
    if not isinstance(steps, list):
        raise StrataError("layeringPipeline: step pipe takes a list of steps, got %r" % (steps,))
    for step in steps:
        value = _apply(step, value, graph)
    return value


def _list(value, name):
    if not isinstance(value, list):
        raise StrataError("layeringPipeline: step %s applies to a list, not to %s" % (name, _kind(value)))
    return value


def _flat(value):
    """Graphs of nested lists and splits, in order (a split main, common, rest)."""
    if isinstance(value, frozenset):
        return [value]
    if isinstance(value, dict):
        return [graph for key in _SPLIT_KEYS if key in value for graph in _flat(value[key])]
    return [graph for item in value for graph in _flat(item)]


_STEPS = {
    "subcomponent_out": _subcomponent_out, "subcomponent_in": _subcomponent_in, "split_paths": _split_paths,
    "popularity_contest": _popularity_contest, "split_every": _split_every, "remove_paths": _remove_paths,
    "limit_layers": _limit_layers, "reverse": _reverse, "flatten": _flatten, "over": _over, "map": _map,
    "pipe": _pipe,
}
