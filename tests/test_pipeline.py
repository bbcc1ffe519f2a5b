"""dockerTools' layeringPipeline steps on a small graph:

    app -> lib -> libc        tool -> libc        python -> libc, zlib        extra
"""

import pytest

from builder.nix import graph, pipeline
from builder.core.errors import StrataError

S = "/nix/store/"
PATHS = {name: S + "%032d-%s" % (index, name)
         for index, name in enumerate(["app", "lib", "libc", "tool", "python", "zlib", "extra"])}
REFERENCES = {"app": ["lib"], "lib": ["libc"], "tool": ["libc"], "python": ["libc", "zlib"]}
GRAPH = graph.from_structured([{"path": path, "references": [PATHS[r] for r in REFERENCES.get(name, [])] + [path]}
                               for name, path in PATHS.items()], "closure")


def names(layers):
    by_path = {path: name for name, path in PATHS.items()}
    return [sorted(by_path[path] for path in layer) for layer in layers]


def plan(*steps):
    return names(pipeline.plan(GRAPH, set(PATHS.values()), list(steps)))


def test_subcomponent_out_then_popularity_in_the_rest():
    assert plan(["subcomponent_out", [PATHS["python"]]],
                ["over", "rest", ["pipe", [["popularity_contest"], ["limit_layers", 3]]]]) == [
        ["libc", "python", "zlib"], ["lib"], ["app"], ["extra", "tool"]]


def test_subcomponent_in_takes_what_refers_to_the_paths():
    assert plan(["subcomponent_in", [PATHS["lib"]]], ["flatten"]) == [
        ["app", "lib"], ["extra", "libc", "python", "tool", "zlib"]]


def test_split_paths_tells_own_from_shared_dependencies():
    assert plan(["split_paths", [PATHS["python"]]]) == [["python", "zlib"], ["libc"], ["app", "extra", "lib", "tool"]]


def test_popularity_reverse_split_every_and_map():
    # libc is the most referred to (by 4), then lib and zlib (1 each), ties by name.
    assert plan(["popularity_contest"], ["limit_layers", 3]) == [["libc"], ["lib"], ["app", "extra", "python",
                                                                                      "tool", "zlib"]]
    assert plan(["popularity_contest"], ["reverse"], ["limit_layers", 2]) == [
        ["extra"], ["app", "lib", "libc", "python", "tool", "zlib"]]
    # split_every takes the paths in byte order: here app, lib, libc, tool, python, zlib, extra.
    assert plan(["split_every", 3]) == [["app", "lib", "libc"], ["python", "tool", "zlib"], ["extra"]]
    assert plan(["subcomponent_out", [PATHS["app"]]], ["flatten"], ["map", ["split_every", 2]]) == [
        ["app", "lib"], ["libc"], ["python", "tool"], ["extra", "zlib"]]


def test_paths_the_pipeline_leaves_out_get_a_layer_of_their_own():
    assert plan(["remove_paths", [PATHS["extra"], PATHS["zlib"]]], ["split_every", 10]) == [
        ["app", "lib", "libc", "python", "tool"], ["extra", "zlib"]]


@pytest.mark.parametrize("steps, message", [
    ([["shuffle"]], "layeringPipeline: 'shuffle' is not a step strata knows (known: flatten,"),
    ([["limit_layers"]], "layeringPipeline: step limit_layers takes 1 argument, got []"),
    ([["subcomponent_out", [S + "x" * 32 + "-gone"]]], "step subcomponent_out names /nix/store/xxxx"),
    ([["popularity_contest"], ["popularity_contest"]], "step popularity_contest applies to a graph, not to a list"),
    ([["over", "main", ["reverse"]]], "step over 'main' applies to a split with 'main', not to a graph"),
    (["flatten"], "layeringPipeline: 'flatten' is not a step ([name, arguments...])"),
])
def test_a_step_strata_cannot_apply_is_named(steps, message):
    with pytest.raises(StrataError) as error:
        pipeline.plan(GRAPH, set(PATHS.values()), steps)
    assert message in str(error.value)
