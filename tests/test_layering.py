import pytest
from hypothesis import given, settings, strategies as st

from builder import graph, layering
from builder.errors import StrataError


def make_graph(sizes, edges):
    """A graph of paths /nix/store/<name> with NAR sizes and references."""
    items = [{"path": "/nix/store/" + name, "narSize": size,
              "references": ["/nix/store/" + ref for ref in edges.get(name, [])]} for name, size in sizes.items()]
    return graph.from_structured(items, "closure")


# app -> tool-a -> lib-a -> base ; app -> tool-b -> lib-b -> base ; app -> sh
SIZES = {"app": 10, "tool-a": 60, "tool-b": 30, "lib-a": 250, "lib-b": 120, "base": 500, "sh": 900}
EDGES = {"app": ["tool-a", "tool-b", "sh"], "tool-a": ["lib-a"], "tool-b": ["lib-b"], "lib-a": ["base"], "lib-b": ["base"]}


def short(layers):
    return [[path.rsplit("/", 1)[1] for path in layer] for layer in layers]


def test_within_budget_every_path_has_its_own_layer_dependencies_first():
    closure = make_graph(SIZES, EDGES)
    layers = short(layering.plan(closure, list(closure), 100))
    assert sorted(layers) == sorted([[name] for name in SIZES])
    position = {layer[0]: index for index, layer in enumerate(layers)}
    for referrer, references in EDGES.items():
        assert all(position[reference] < position[referrer] for reference in references)


def test_over_budget_large_paths_lead_and_nothing_is_lost():
    closure = make_graph(SIZES, EDGES)
    layers = short(layering.plan(closure, list(closure), 3))
    assert len(layers) <= 3
    assert sorted(name for layer in layers for name in layer) == sorted(SIZES)
    assert ["sh"] in layers, "the largest path gets a layer of its own"


def test_a_dependency_used_by_one_large_path_joins_it():
    closure = make_graph({"big": 1000, "dep": 1, "small": 2}, {"big": ["dep"]})
    assert short(layering.plan(closure, list(closure), 2)) == [["big", "dep"], ["small"]]


def test_budget_of_zero_is_an_error():
    with pytest.raises(StrataError, match="maxLayers"):
        layering.plan(make_graph(SIZES, EDGES), ["/nix/store/app"], 0)


@st.composite
def dags(draw):
    count = draw(st.integers(1, 40))
    names = ["p%02d" % index for index in range(count)]
    sizes = {name: draw(st.integers(0, 1000)) for name in names}
    edges = {name: sorted(set(draw(st.lists(st.sampled_from(names[:index]), max_size=4)))) if index else []
             for index, name in enumerate(names)}
    return sizes, edges


@settings(max_examples=150, deadline=None)
@given(dags(), st.integers(1, 12), st.randoms())
def test_every_path_in_exactly_one_layer_within_budget_whatever_the_input_order(dag, budget, rng):
    sizes, edges = dag
    closure = make_graph(sizes, edges)
    layers = layering.plan(closure, list(closure), budget)
    flat = [path for layer in layers for path in layer]
    assert sorted(flat) == sorted(closure) and len(flat) == len(set(flat))
    assert len(layers) <= budget
    shuffled = list(closure.items())
    rng.shuffle(shuffled)
    assert layering.plan(dict(shuffled), list(reversed(list(closure))), budget) == layers
