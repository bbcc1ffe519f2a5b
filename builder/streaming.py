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

from . import imageformats, storetar, workers
from .errors import StrataError
from .layer import Layer, TarPlan, write_tar
from .layerbuild import store_layer_entries
from .tarwriter import Owner


def main(document_text):
    document = json.loads(document_text)
    try:
        stream_image(document, sys.stdout.buffer)
    except StrataError as error:
        print("strata: error: %s" % error, file=sys.stderr)
        return 1
    except BrokenPipeError:
        print("strata: error: the reader of the image stream went away", file=sys.stderr)
        return 1
    finally:
        workers.close_shared_pool()
    return 0


def stream_image(document, stream):
    target = imageformats.TarTarget(stream, document["mtime"])
    regenerated = [entry for entry in document["layers"] if not entry["blob"]]
    plans = [TarPlan(store_layer_entries(entry["storeDir"], entry["storePaths"]), entry["mtime"],
                     Owner(**entry["owner"])) for entry in regenerated]
    writers = iter([_regenerate(entry, plan, frames) for entry, plan, frames
                     in zip(regenerated, plans, storetar.frames_of_layers([plan.jobs for plan in plans]))])
    layers = []
    for entry in document["layers"]:
        layer = Layer(**entry["layer"])
        if entry["blob"]:
            target.add_blob_file(entry["blob"], layer)
        else:
            target.add_known_blob(layer, next(writers))
        layers.append(layer)
    imageformats.finish(target, document["config"].encode("utf-8"), layers, document["repoTag"])
    stream.flush()


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
