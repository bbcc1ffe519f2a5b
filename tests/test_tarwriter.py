import io
import subprocess
import tarfile

import pytest
from hypothesis import given, settings, strategies as st

from builder.tar import tarwriter

OWNER = tarwriter.Owner(0, 0, "root", "root")


def archive(*entries):
    """A tar of (name, kind, data or linkname) made with the header functions."""
    out = io.BytesIO()
    for name, kind, payload in entries:
        if kind == "file":
            out.write(tarwriter.header(name, "file", 0o444, 7, OWNER, size=len(payload)))
            out.write(payload + tarwriter.padding(len(payload)))
        elif kind == "dir":
            out.write(tarwriter.header(name, "dir", 0o755, 7, OWNER))
        else:
            out.write(tarwriter.header(name, kind, 0o777, 7, OWNER, linkname=payload))
    out.write(tarwriter.END_OF_ARCHIVE)
    return out.getvalue()


def test_python_and_gnu_tar_read_what_is_written(tmp_path):
    long_dir = b"d" * 120
    data = archive((b"etc", "dir", None), (b"etc/motd", "file", b"hello\n"),
                   (b"etc/link", "symlink", b"motd"), (b"etc/hard", "hardlink", b"etc/motd"),
                   (long_dir, "dir", None), (long_dir + b"/" + b"f" * 120, "file", b"x"))
    members = tarfile.open(fileobj=io.BytesIO(data)).getmembers()
    assert [m.name for m in members] == ["etc", "etc/motd", "etc/link", "etc/hard", "d" * 120, "d" * 120 + "/" + "f" * 120]
    assert members[1].mode == 0o444 and members[1].mtime == 7 and members[1].uname == "root"
    assert members[2].linkname == "motd" and members[3].islnk()
    path = tmp_path / "x.tar"
    path.write_bytes(data)
    listing = subprocess.run(["tar", "tvf", str(path)], capture_output=True, text=True, check=True).stdout
    assert "d" * 120 + "/" + "f" * 120 in listing and "etc/link -> motd" in listing


def test_non_utf8_names_are_carried_raw(tmp_path):
    name = b"caf\xe9"
    data = archive((name, "file", b"x"))
    member = tarfile.open(fileobj=io.BytesIO(data), encoding="utf-8", errors="surrogateescape").getmembers()[0]
    assert member.name.encode("utf-8", "surrogateescape") == name
    path = tmp_path / "x.tar"
    path.write_bytes(data)
    subprocess.run(["tar", "xf", str(path), "-C", str(tmp_path)], check=True)
    assert (tmp_path / name.decode("utf-8", "surrogateescape")).read_bytes() == b"x"


def test_sizes_of_8_gib_and_more():
    size = 8 << 30
    header = tarwriter.header(b"big", "file", 0o444, 0, OWNER, size=size)
    assert len(header) == 3 * tarwriter.BLOCK and b"size=%d\n" % size in header
    one_block = tarwriter.big_header(b"big", 0o444, 0, OWNER, size)
    assert len(one_block) == tarwriter.BLOCK
    assert tarfile.TarInfo.frombuf(one_block, "utf-8", "strict").size == size


def test_small_entries_are_one_ustar_block_with_no_host_fields():
    header = tarwriter.header(b"nix/store", "dir", 0o755, 1, OWNER)
    assert len(header) == tarwriter.BLOCK
    info = tarfile.TarInfo.frombuf(header, "utf-8", "strict")
    assert info.name == "nix/store" and info.isdir() and (info.uid, info.gid, info.mtime) == (0, 0, 1)
    assert header[257:265] == b"ustar\x0000"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(min_size=1, max_size=300).filter(lambda n: b"\0" not in n and b"/" not in n),
                min_size=1, max_size=5, unique=True))
def test_any_name_round_trips(names):
    data = archive(*[(name, "file", name) for name in names])
    read = tarfile.open(fileobj=io.BytesIO(data), encoding="utf-8", errors="surrogateescape")
    assert [m.name.encode("utf-8", "surrogateescape") for m in read.getmembers()] == names


def gnu_tar_lists(tmp_path, data):
    """GNU tar's verbose listing of `data`; a warning (a bad checksum, say) fails the test."""
    path = tmp_path / "check.tar"
    path.write_bytes(data)
    listed = subprocess.run(["tar", "tvf", str(path), "--full-time"], capture_output=True, text=True)
    assert listed.returncode == 0 and listed.stderr == "", listed.stderr
    return listed.stdout


@pytest.mark.parametrize("kind", ["symlink", "hardlink"])
def test_links_whose_names_ustar_splits_have_a_valid_checksum(tmp_path, kind):
    name = b"nix/store/" + b"p" * 60 + b"/share/" + b"n" * 100
    assert 100 < len(name) <= 256
    data = archive((b"target", "file", b"x"), (name, kind, b"target"))
    member = tarfile.TarInfo.frombuf(data[1024:1536], "utf-8", "strict")  # checks the checksum
    assert member.name == name.decode() and member.linkname == "target"
    assert name.decode() in gnu_tar_lists(tmp_path, data)


@pytest.mark.parametrize("mtime, shown", [
    (10 ** 10, "2286-11-20 17:46:40"),
    (8 ** 11, "2242-03-16 12:56:32"),
    (-86400, "1969-12-31 00:00:00"),
])
def test_times_ustar_cannot_hold_go_in_a_pax_record(tmp_path, mtime, shown):
    headers = tarwriter.Headers(mtime, OWNER)
    data = (tarwriter.header(b"d", "dir", 0o755, mtime, OWNER) + headers.file(b"d/f", 0o444, 0)
            + tarwriter.header(b"d/l", "symlink", 0o777, mtime, OWNER, linkname=b"f")
            + tarwriter.header(b"next", "file", 0o444, 1, OWNER) + tarwriter.END_OF_ARCHIVE)
    members = tarfile.open(fileobj=io.BytesIO(data)).getmembers()
    assert [(m.name, m.mtime) for m in members] == [("d", mtime), ("d/f", mtime), ("d/l", mtime), ("next", 1)]
    listing = gnu_tar_lists(tmp_path, data)
    assert listing.count(shown) == 3
    assert tarwriter.big_header(b"late", 0o444, mtime, OWNER, 0)[:100].rstrip(b"\0") == b"late"
    one_block = tarfile.TarInfo.frombuf(tarwriter.big_header(b"late", 0o444, mtime, OWNER, 0), "utf-8", "strict")
    assert one_block.mtime == mtime
