"""The Nix database of an image: what makes ``nix-store`` work inside it.

Written straight with sqlite3 in the schema Nix 2.x reads (schema version 10): every store
path of the image in ValidPaths with its NAR hash (base16, as Nix stores it), NAR size and
the image's mtime as registration time, its references in Refs. Rows go in sorted by path,
and the file is written once with a rollback journal that is gone when it closes, so a
rebuild with the same SQLite gives the same bytes. (Nix switches the database to WAL the
first time it opens it for writing, inside the container.)

Beside it: ``schema`` holding ``10`` with no newline (Nix parses it strictly), and a GC
root under ``gcroots/docker/`` for each root of the image.
"""

import os
import sqlite3

from . import fstree, nar

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


def write_database(filename, graph, paths, registration_time):
    """Register `paths` (all in `graph`, closed under references) in a new database."""
    rows = [(path,) + _nar_info(graph[path]) + (graph[path],) for path in sorted(paths)]
    connection = sqlite3.connect(filename, isolation_level=None)
    try:
        connection.execute("pragma journal_mode = delete")
        connection.executescript(SCHEMA)
        connection.execute("begin")
        ids = {}
        for path, hash_hex, size, info in rows:
            cursor = connection.execute(
                "insert into ValidPaths (path, hash, registrationTime, narSize, ca) values (?, ?, ?, ?, ?)",
                (path, "sha256:" + hash_hex, registration_time, size, info.ca))
            ids[path] = cursor.lastrowid
        for path, _, _, info in rows:
            for reference in sorted(set(info.references)):
                connection.execute("insert into Refs (referrer, reference) values (?, ?)", (ids[path], ids[reference]))
        connection.execute("commit")
    finally:
        connection.close()


def database_root(directory, graph, paths, roots, registration_time, store_dir):
    """Make the database, its schema file and GC roots under `directory` (a scratch
    directory), and return it read as an fstree root."""
    db_dir = os.path.join(directory, DB_DIR)
    gcroots = os.path.join(directory, GCROOTS_DIR)
    os.makedirs(db_dir)
    os.makedirs(gcroots)
    write_database(os.path.join(db_dir, "db.sqlite"), graph, paths, registration_time)
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
        return nar.hash_hex(info.nar_hash), info.nar_size
    digest, size = nar.nar_hash(info.path)
    return digest.hex(), size
