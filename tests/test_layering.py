import hashlib
import random

import pytest
from hypothesis import given, settings, strategies as st

from builder.nix import graph, layering
from builder.core.errors import StrataError


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


def releases_of(seed=3):
    """A closure shaped like nixpkgs' (base libraries, one that a fifth of the closure uses,
    mid-level libraries, apps, env-like bundles of apps, a top app over the bundles), as a
    function of what changed: {name: (version, size, references)} to a graph whose hashes
    change with a path and with anything below it, as Nix's do."""
    rng = random.Random(seed)
    packages = {"glibc": (30 << 20, [])}
    base = ["base%d" % index for index in range(12)]
    for name in base:
        packages[name] = (rng.randrange(100 << 10, 3 << 20), ["glibc"])
    packages["wide"] = (1 << 20, ["glibc"])
    mids = ["mid%d" % index for index in range(40)]
    for index, name in enumerate(mids):
        packages[name] = (rng.randrange(50 << 10, 2 << 20), rng.sample(base, 2) + rng.sample(mids[:index], min(index, 1))
                          + (["wide"] if index % 5 == 0 else []))
    apps = ["app%d" % index for index in range(80)]
    for name in apps:
        packages[name] = (rng.randrange(20 << 10, 1 << 20), ["glibc"] + rng.sample(mids, 2))
    bundles = ["env%d" % index for index in range(4)]
    for index, name in enumerate(bundles):
        packages[name] = (40 << 10, apps[index * 20:(index + 1) * 20])
    packages["top"] = (200 << 10, bundles)

    def release(changed=(), added=None):
        items, hashes = {}, {}
        everything = dict(packages, **(added or {}))

        def path(name):
            if name not in hashes:
                size, references = everything[name]
                key = "%s %d %s" % (name, changed.count(name), " ".join(path(reference) for reference in references))
                hashes[name] = "/nix/store/%s-%s-1.0" % (hashlib.sha256(key.encode()).hexdigest()[:32], name)
                items[name] = {"path": hashes[name], "narSize": size,
                               "references": sorted(path(reference) for reference in references)}
            return hashes[name]
        path("top")
        return graph.from_structured(sorted(items.values(), key=lambda item: item["path"]), "closure"), hashes["top"]
    return release


def resent(before, after):
    """The store layers of the plan `after` that the plan `before` has not."""
    return [layer for layer in after if layer not in before]


@pytest.mark.parametrize("budget", [12, 30, 60])
def test_a_release_that_changes_only_the_top_app_resends_its_layer_alone(budget):
    release = releases_of()
    closure, top = release()
    assert len(closure) > budget
    before = layering.plan(closure, list(closure), budget, [top])
    changed, new_top = release(changed=["top"])
    after = layering.plan(changed, list(changed), budget, [new_top])
    layers = resent(before, after)
    assert len(after) <= budget and len(layers) == 1 and new_top in layers[0], "one store layer, the top app's"
    assert budget < 60 or layers == [[new_top]], "alone, where the budget allows"


def test_a_kept_plan_keeps_every_layer_but_those_that_hold_what_changed():
    release = releases_of()
    closure, top = release()
    before = layering.plan(closure, list(closure), 30, [top])
    # The top app gains a dependency: it joins the top app's layer, which is re-sent anyway.
    added, new_top = release(changed=["top"], added={"top": (200 << 10, ["env%d" % n for n in range(4)] + ["extra"]),
                                                     "extra": (300 << 10, ["glibc", "mid3"])})
    after = layering.plan(added, list(added), 30, [new_top], previous=before)
    extra = next(path for path in added if path.endswith("-extra-1.0"))
    layers = resent(before, after)
    assert len(layers) == 1 and {new_top, extra} <= set(layers[0])
    assert len(after) == len(before)
    # A library a fifth of the closure uses: only layers holding what it rebuilt are re-sent.
    wide, new_top = release(changed=["wide"])
    after = layering.plan(wide, list(wide), 30, [new_top], previous=before)
    rebuilt = set(wide) - set(closure)
    assert all(set(layer) & rebuilt for layer in resent(before, after))
    assert sorted(path for layer in after for path in layer) == sorted(wide)


def test_a_kept_plan_that_no_longer_fits_is_an_error_naming_it():
    release = releases_of()
    closure, top = release()
    before = layering.plan(closure, list(closure), 30, [top])
    with pytest.raises(StrataError, match="layerPlan: keeps 30 layers, and maxLayers leaves 10"):
        layering.plan(closure, list(closure), 10, [top], previous=before)


@pytest.mark.parametrize("path, name", [
    ("/nix/store/00000000000000000000000000000000-openssl-3.0.13", "openssl"),
    ("/nix/store/00000000000000000000000000000000-openssl-3.0.13-dev", "openssl-dev"),
    ("/nix/store/00000000000000000000000000000000-python3.11-requests-2.31.0", "python3.11-requests"),
    ("/nix/store/00000000000000000000000000000000-glibc-2.38-44-bin", "glibc-bin"),
    ("/nix/store/00000000000000000000000000000000-hello", "hello"),
])
def test_the_name_a_path_keeps_across_releases(path, name):
    assert layering.stable_name(path) == name
