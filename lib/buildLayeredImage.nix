# buildLayeredImage: a layered image as one file (or an OCI layout directory) in the store.
#
# Arguments, with their defaults (dockerTools' names):
#   name, tag (null: the output's hash), contents ([ ]: linked at / in the top layer, their
#   closure in the store layers), config (null; its closure is included), architecture,
#   variant, created, extraCommands, passthru, meta: as for buildImage;
#   uid gid uname gname   0 0 "root" "root": owner of the store layers, as in dockerTools
#                         (the top layer is root's, save what fakeRootCommands chown)
#   mtime                 "1970-01-01T00:00:01Z": the time of every file in every layer
#   maxLayers             100: every layer counts, the explicit ones and the top layer too
#   includeStorePaths     true; false leaves the store paths out (the top layer only)
#   fakeRootCommands      "": shell run under fakeroot in the top layer's root after
#                         extraCommands; the owners it sets are kept (needs fakeroot)
#   enableFakechroot      false; true runs fakeRootCommands with the top layer's root as / (proot)
#   layeringPipeline      null; dockerTools' layering steps (see builder/nix/pipeline.py) instead of
#                         strata's grouping
# and strata's own:
#   copyToRoot            [ ]: packages copied to / in the top layer (buildImage's meaning),
#                         their references' closure in the store layers
#   layers                [ ]: explicit layers, bottom first: buildLayer results, or lists of
#                         store paths (each a layer of their closure less what the layers
#                         below hold); the rest of the closure is planned into the layers left
#   layerPlan             null; the plan of an earlier release (a copy of its image's `plan`:
#                         `cp $(nix-build -A img.plan) layers.json`, then layerPlan = ./layers.json):
#                         every store path keeps the layer a path of its name (without hash and
#                         version) had, and a new one joins the layer of a path that refers to
#                         it, so a release re-sends only what changed (see builder/nix/layering.py)
#   importFromDerivation  true: the plan is read back at evaluation and every planned layer
#                         is a derivation of its own (rebuilding one layer after a change);
#                         false: for evaluators that forbid import-from-derivation (Hydra's
#                         restricted mode, some flake checks), the image derivation plans
#                         and writes the layers itself
#   format                "docker-archive" (a tar that is also an OCI archive), "oci-archive"
#                         (the same tar), or "oci" (an OCI layout directory whose blobs link
#                         to the layer derivations)
#   compressor            "gz" (layer blobs), "none", or "zstd" (Python >= 3.14, or strata's
#                         `zstd` program)
#   includeNixDB          false; true adds a small layer (below the top one) with the Nix
#                         database of every store path in the image, the config's included
#                         (`initializeNixDatabase` is accepted too)
#   nixUid nixGid         null null: set the owner of /nix, the store layers and the
#                         database apart from uid/gid
#   users groups          { }: declared accounts in the top layer, as for buildImage
#   perms                 [ ]: modes and owners of chosen files, as for buildImage: each rule
#                         applies in the layer that holds its path (a store path's layer, the
#                         top layer for a path in the root), and one no layer holds is an error
#   debug                 accepted; strata's builders always say what they write, on stderr
# passthru: imageName, imageTag, layers, customisationLayer, plan, buildArgs, `sbom` (see
# docs/sbom.md), copyTo*, and `stream`,
# the streamLayeredImage of the same arguments.
plumbing:
let
  build = import ./mkLayeredImage.nix plumbing {
    command = "build-layered-image";
    stream = false;
    derivationName = baseName: format:
      if format == "oci" then "oci-image-${baseName}" else "docker-image-${baseName}.tar";
  };
  streamLayeredImage = import ./streamLayeredImage.nix plumbing;
in
args: build args // { stream = streamLayeredImage (builtins.removeAttrs args [ "format" "compressor" ]); }
