# buildLayer: one layer as a derivation of its own, for `layers` of the layered images.
#
# A layer holds the closure of `deps`, less every store path that the layers in `layers`
# (those below it) hold, so no path is in two layers. Building a layer writes its blob and a
# record of its digests; an unchanged layer is never rebuilt and can come from a cache.
# Arguments, with their defaults:
#   deps                  [ ]: store paths whose closure the layer holds
#   layers                [ ]: the layers below this one
#   contents              [ ]: directories whose files are linked at / (as symlinkJoin does)
#   copyToRoot            [ ]: directories whose files are copied to /
#   keepContentsDirlinks  false, as for buildImage
#   extraCommands         "": shell run in the layer's root before it is written
#   fakeRootCommands      "": shell run next under fakeroot; the owners it sets (chown) are
#                         the owners in the layer (needs `fakeroot` or `pkgs` given to strata)
#   users groups          { }: declared accounts, as for buildImage
#   perms                 [ ]: modes and owners of chosen files, as for buildImage; a rule
#                         whose path the layer does not hold is an error
#   enableFakechroot      false; true runs fakeRootCommands with the layer's root as / (through
#                         proot, as dockerTools; needs `proot` or `pkgs` given to strata)
#   mtime                 "1970-01-01T00:00:01Z": the time of every file
#   uid gid uname gname   0 0 "root" "root": the owner of every file
#   compressor            "gz", "none" or "zstd" (Python >= 3.14, or strata's `zstd`)
#   name                  "layer": the derivation is named strata-NAME
#   ignore                [ ]: a store path (or a list) the layer leaves out, whatever holds it
#   metadata              null: the layer's entry in the image history, { created_by; author;
#                         comment; } (nix2container's name; any may be left out)
#   nixUid nixGid         null null: the owner of the store paths and /nix, apart from uid/gid
# Used by strata itself with `storePaths` (the exact store paths, no closure),
# `keepBlob = false` (record only: for layers a stream writes again from the store),
# `base` (a base image read by readBaseImage, which the layer is written over),
# `referencesOf` (store paths whose references' closure the layer holds, not the paths) and
# `permsOfImage = true` (the perms are the image's: a rule whose path the layer lacks is
# left to the image, which checks that some layer applied it).
plumbing:
let
  inherit (plumbing) runBuilder;
  check = plumbing.packages "buildLayer";
in
{ deps ? [ ]
, layers ? [ ]
, contents ? [ ]
, copyToRoot ? [ ]
, keepContentsDirlinks ? false
, extraCommands ? ""
, fakeRootCommands ? ""
, enableFakechroot ? false
, users ? { }
, groups ? { }
, perms ? [ ]
, permsOfImage ? false
, mtime ? "1970-01-01T00:00:01Z"
, uid ? 0
, gid ? 0
, uname ? "root"
, gname ? "root"
, compressor ? "gz"
, name ? "layer"
, storePaths ? [ ]
, keepBlob ? true
, base ? null
, ignore ? [ ]
, referencesOf ? [ ]
, metadata ? null
, nixUid ? null
, nixGid ? null
}:
runBuilder {
  name = "strata-${name}";
  command = "build-layer";
  attrs = {
    inherit keepContentsDirlinks extraCommands fakeRootCommands enableFakechroot mtime uname gname compressor storePaths
      keepBlob base users groups permsOfImage;
    perms = plumbing.perms "buildLayer" perms;
    inherit (plumbing) shell toolsPath fakeroot proot prootBinds;
    layerName = name;
    deps = check "deps" deps;
    lowerLayers = layers;
    contents = check "contents" contents;
    copyToRoot = check "copyToRoot" copyToRoot;
    uid = plumbing.id "buildLayer" "uid" uid;
    gid = plumbing.id "buildLayer" "gid" gid;
    storeDir = builtins.storeDir;
    ignore = map toString (check "ignore" ignore);
    referencesOf = check "referencesOf" referencesOf;
    nixUid = if nixUid == null then null else plumbing.id "buildLayer" "nixUid" nixUid;
    nixGid = if nixGid == null then null else plumbing.id "buildLayer" "nixGid" nixGid;
    history = if metadata == null || builtins.isAttrs metadata && !(plumbing.isPackage metadata) then metadata
      else throw "strata.buildLayer: `metadata` must be an attribute set { created_by; author; comment; }, got ${plumbing.describe metadata}";
    # deps' closure, and what copyToRoot, contents and the commands may name: the store paths
    # the layer's files need (its record's references, which an image takes too).
    exportReferencesGraph.closure = check "deps" deps ++ check "copyToRoot" copyToRoot ++ check "contents" contents
      ++ check "referencesOf" referencesOf ++ plumbing.commandsReferences name (extraCommands + fakeRootCommands);
  };
}
