from builder.tree import symlinks


def resolver(links):
    return lambda parts: links.get("/".join(parts) if parts and isinstance(parts[0], str) else b"/".join(parts))


def test_relative_absolute_and_dot_dot_at_the_root():
    links = {"bin": "usr/bin", "up": "../../..", "abs": "/opt/x"}
    assert symlinks.resolve("bin/sh".split("/"), resolver(links)) == ["usr", "bin", "sh"]
    assert symlinks.resolve("up/etc".split("/"), resolver(links)) == ["etc"]
    assert symlinks.resolve("abs/y".split("/"), resolver(links)) == ["opt", "x", "y"]
    assert symlinks.resolve("a/../abs".split("/"), resolver(links)) == ["opt", "x"]


def test_bytes_alike():
    assert symlinks.resolve([b"bin", b"sh"], resolver({b"bin": b"usr/bin"})) == [b"usr", b"bin", b"sh"]


def test_a_loop_stops_after_forty_links():
    links = {"a": "b", "b": "a"}
    assert symlinks.resolve(["a"], resolver(links)) in (["a"], ["b"])
