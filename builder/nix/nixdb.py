"""The Nix database of an image: what makes ``nix-store`` work inside it.

Written straight with sqlite3 in the schema Nix 2.x reads (schema version 10): every store
path of the image in ValidPaths with its NAR hash (base16, as Nix stores it), NAR size and
the image's mtime as registration time, its references in Refs. Rows go in sorted by path,
and the file is written once with a rollback journal that is gone when it closes, so a
rebuild with the same SQLite gives the same bytes. (Nix switches the database to WAL the
first time it opens it for writing, inside the container.)

On a base image that has a database, the new one holds the base's rows as they were and
ours beside them; a path both register with different hashes is an error.

Beside it: ``schema`` holding ``10`` with no newline (Nix parses it strictly), and a GC
root under ``gcroots/docker/`` for each root of the image.
"""

import os
import sqlite3

from . import nar
from ..core.errors import StrataError
from ..tree import fstree

SCHEMA_VERSION = "10"

# The tables, indexes and trigger of Nix's schema.sql (unchanged from Nix 2.3 to 2.28).
SCHEMA = """
create table if not exists ValidPaths (
    id               integer primary key autoincrement not null,
    path             text unique not null,
    hash             text not null,
    registrationTime integer not null,
    deriver          text,
    narSize          integer,
    ultimate         integer,
    sigs             text,
    ca               text
);
create table if not exists Refs (
    referrer  integer not null,
    reference integer not null,
    primary key (referrer, reference),
    foreign key (referrer) references ValidPaths(id) on delete cascade,
    foreign key (reference) references ValidPaths(id) on delete restrict
);
create index if not exists IndexReferrer on Refs(referrer);
create index if not exists IndexReference on Refs(reference);
create trigger if not exists DeleteSelfRefs before delete on ValidPaths
  begin
    delete from Refs where referrer = old.id and reference = old.id;
  end;
create table if not exists DerivationOutputs (
    drv  integer not null,
    id   text not null,
    path text not null,
    primary key (drv, id),
    foreign key (drv) references ValidPaths(id) on delete cascade
);
create index if not exists IndexDerivationOutputs on DerivationOutputs(path);
"""

DB_DIR = "nix/var/nix/db"
GCROOTS_DIR = "nix/var/nix/gcroots/docker"


_COLUMNS = ("path", "hash", "registrationTime", "deriver", "narSize", "ultimate", "sigs", "ca")


def write_database(filename, graph, paths, registration_time, base_db=None):
    """Register `paths` (all in `graph`, closed under references) in a new database, with
    every path the `base_db` (a base image's database file) registers kept as it was."""
    rows, references, outputs = _base_rows(base_db) if base_db else ({}, {}, [])
    for path in paths:
        hash_hex, size = _nar_info(graph[path])
        row = (path, "sha256:" + hash_hex, registration_time, None, size, None, None, graph[path].ca)
        if path in rows:
            if _hex_of(rows[path][1]) != hash_hex:
                raise StrataError("Nix database: %s is registered in the base image with hash %s, and is %s here"
                                  % (path, rows[path][1], row[1]))
            continue
        rows[path] = row
        references[path] = set(graph[path].references)
    connection = sqlite3.connect(filename, isolation_level=None)
    try:
        connection.execute("pragma journal_mode = delete")
        connection.executescript(SCHEMA)
        connection.execute("begin")
        ids = {}
        for path in sorted(rows):
            cursor = connection.execute("insert into ValidPaths (%s) values (?, ?, ?, ?, ?, ?, ?, ?)"
                                        % ", ".join(_COLUMNS), rows[path])
            ids[path] = cursor.lastrowid
        for path in sorted(rows):
            for reference in sorted(references.get(path, ())):
                connection.execute("insert into Refs (referrer, reference) values (?, ?)", (ids[path], ids[reference]))
        for drv, name, output in sorted(outputs):
            connection.execute("insert into DerivationOutputs (drv, id, path) values (?, ?, ?)", (ids[drv], name, output))
        connection.execute("commit")
    finally:
        connection.close()


def _base_rows(filename):
    """The rows of a base image's database: {path: row}, {path: referenced paths}, and
    (drv path, output name, output path) rows."""
    try:
        connection = sqlite3.connect("file:%s?mode=ro&immutable=1" % filename, uri=True)
        try:
            rows = {row[0]: row for row in connection.execute("select %s from ValidPaths" % ", ".join(_COLUMNS))}
            references = {}
            for referrer, reference in connection.execute(
                    "select a.path, b.path from Refs join ValidPaths a on a.id = referrer"
                    " join ValidPaths b on b.id = reference"):
                references.setdefault(referrer, set()).add(reference)
            outputs = list(connection.execute(
                "select v.path, d.id, d.path from DerivationOutputs d join ValidPaths v on v.id = d.drv"))
        finally:
            connection.close()
    except sqlite3.Error as error:
        raise StrataError("the base image's Nix database: cannot read it (%s)" % error)
    return rows, references, outputs


def _hex_of(hash_text):
    return nar.hash_hex(hash_text, "the base image's Nix database")


def database_root(directory, graph, paths, roots, registration_time, store_dir, base_db=None):
    """Make the database (merged with `base_db`, if given), its schema file and GC roots
    under `directory` (a scratch directory), and return it read as an fstree root."""
    db_dir = os.path.join(directory, DB_DIR)
    gcroots = os.path.join(directory, GCROOTS_DIR)
    os.makedirs(db_dir)
    os.makedirs(gcroots)
    write_database(os.path.join(db_dir, "db.sqlite"), graph, paths, registration_time, base_db)
    with open(os.path.join(db_dir, "schema"), "w") as stream:
        stream.write(SCHEMA_VERSION)
    for root in sorted(roots):
        os.symlink(os.path.join(store_dir, os.path.basename(root)), os.path.join(gcroots, os.path.basename(root)))
    for folder, directories, files in os.walk(directory):
        os.chmod(folder, 0o755)
        for name in files:
            if not os.path.islink(os.path.join(folder, name)):
                os.chmod(os.path.join(folder, name), 0o644)
    return fstree.read_node(os.fsencode(directory))


def _nar_info(info):
    """(base16 NAR hash, NAR size): Nix's where it gave them, else serialised here."""
    if info.nar_hash is not None and info.nar_size is not None:
        return nar.hash_hex(info.nar_hash, info.path), info.nar_size
    digest, size = nar.nar_hash(info.path)
    return digest.hex(), size
