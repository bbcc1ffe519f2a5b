"""What a streamLayeredImage script runs: the image written to stdout as a Docker archive.

Every header states its entry's size before the entry's bytes, and stdout cannot seek, so
each layer's size and digest come recorded from the build. A layer kept as a blob is
copied; a layer of store paths is written again from the store, and each store path's
bytes are checked against the digest recorded for it when its entries end: a path changed
since the build stops the stream with an error that names it. The archive then ends early,
which every loader refuses, so a broken image is never loaded.
"""

import json
import sys

from ..core import progress
from ..core.errors import StrataError
from ..image import imageformats, naming
from ..layers import storetar
from ..layers.layer import Layer, TarPlan, write_tar
from ..tar import workers
from ..tar.tarwriter import Owner
from ..tree import perms
from .layerbuild import store_layer_entries


USAGE = """usage: %s [-t NAME:TAG | --repo_tag NAME:TAG]
Writes the image to stdout as a Docker archive (pipe it to podman load or docker load);
-t / --repo_tag loads it under another name and tag, as dockerTools' stream script does."""


def main(document_text, argv=()):
    document = json.loads(document_text)
    if list(argv) == ["--strata-document"]:  # for strata's registry client (see registry.sources)
        print(document_text)
        return 0
    try:
        repo_tag = _repo_tag(list(argv), document["repoTag"])
        if repo_tag is None:
            print(USAGE % sys.argv[0])
            return 0
        if sys.stdout.isatty():
            raise StrataError("stdout is a terminal; pipe the image to podman load or docker load")
        stream_image(dict(document, repoTag=repo_tag), sys.stdout.buffer)
    except StrataError as error:
        print("strata: error: %s" % error, file=sys.stderr)
        return 1
    except BrokenPipeError:
        print("strata: error: the reader of the image stream went away", file=sys.stderr)
        return 1
    finally:
        workers.close_shared_pool()
    return 0


def _repo_tag(argv, default):
    """The NAME:TAG the command line asks for (`default` if none), or None for --help."""
    if not argv:
        return default
    if argv[0] in ("-h", "--help"):
        return None
    if len(argv) == 1 and argv[0].startswith("--repo_tag="):
        argv = ["--repo_tag", argv[0].split("=", 1)[1]]
    if len(argv) != 2 or argv[0] not in ("-t", "--repo_tag"):
        raise StrataError("the command line: %r is not understood; see --help" % " ".join(argv))
    name, colon, tag = argv[1].rpartition(":")
    if not colon or "/" in tag:
        raise StrataError("--repo_tag: %r is not NAME:TAG" % argv[1])
    return "%s:%s" % (naming.image_name(name), naming.image_tag(tag))


def stream_image(document, stream):
    target = imageformats.TarTarget(stream, document["mtime"])
    regenerated = [entry for entry in document["layers"] if not entry["blob"]]
    plans = [_store_plan(entry) for entry in regenerated]
    writers = iter([_regenerate(entry, plan, frames) for entry, plan, frames
                     in zip(regenerated, plans, storetar.frames_of_layers([plan.jobs for plan in plans]))])
    layers = []
    for number, entry in enumerate(document["layers"], 1):
        layer = Layer(**entry["layer"])
        progress.layer(entry["name"], len(entry.get("storePaths", [])), layer.size, (number, len(document["layers"])))
        if entry["blob"]:
            target.add_blob_file(entry["blob"], layer)
        else:
            target.add_known_blob(layer, next(writers))
        layers.append(layer)
    imageformats.finish(target, document["config"].encode("utf-8"), layers, document["repoTag"])
    stream.flush()


def _store_plan(entry):
    """The TarPlan of a layer of store paths, from its entry in the document."""
    owner = Owner(**entry["owner"])
    entries = store_layer_entries(entry["storeDir"], entry["storePaths"], owner, perms.rules(entry.get("perms")))
    return TarPlan(entries, entry["mtime"], owner)


def _regenerate(entry, plan, frames):
    """A writer of the layer from the store (its TarPlan and the frames of its jobs) that
    checks each store path as it ends."""
    recorded = entry["segments"]

    def check(store_path, digest):
        if recorded.get(store_path) != digest:
            raise StrataError("%s: differs from when the image was built (its tar entries hash to %s, %s was"
                              " recorded); rebuild the image" % (store_path, digest, recorded.get(store_path)))

    def write(sink):
        write_tar(plan, sink, frames, check=check)
    return write


def regenerated_chunks(entry, size):
    """A function giving the bytes of the layer of store paths of `entry` (a layer of a
    stream's document that has no blob) in pieces of about `size`, written again from the
    store (checked path by path) by a thread while the pieces are taken."""
    def regenerate():
        import queue
        import threading
        plan = _store_plan(entry)
        frames = storetar.frames_of_layers([plan.jobs])[0]  # workers forked before the thread starts
        pieces = queue.Queue(maxsize=8)
        failure = []

        def produce():
            try:
                sink = _QueueSink(pieces, size)
                _regenerate(entry, plan, frames)(sink)
                sink.flush()
            except BaseException as error:  # handed to the reader, below
                failure.append(error)
            pieces.put(None)
        threading.Thread(target=produce, daemon=True).start()
        for piece in iter(pieces.get, None):
            yield piece
        if failure:
            raise failure[0]
    return regenerate


class _QueueSink:
    """A sink that hands the bytes on in pieces of about `size`, into a queue."""

    def __init__(self, pieces, size):
        self.pieces = pieces
        self.size = size
        self.pending = []
        self.pending_size = 0

    def write(self, data):
        self.pending.append(bytes(data))
        self.pending_size += len(data)
        if self.pending_size >= self.size:
            self.flush()

    def flush(self):
        if self.pending:
            self.pieces.put(b"".join(self.pending))
            self.pending, self.pending_size = [], 0
