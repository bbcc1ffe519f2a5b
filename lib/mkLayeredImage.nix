# What buildLayeredImage, streamLayeredImage and nix2container.buildImage share: their
# arguments, the layers and the final derivation. Not part of the API; see those files for
# the arguments. `function` names the caller in errors; `ownLayers` makes maxLayers the
# budget of the image's own layers alone (nix2container's meaning: not the base's, not
# `layers`), where 1 is one layer holding the store paths and the top layer's files;
# `baseConfig` says what the config takes of a base's ("inherit", "env" or "none").
plumbing:
let
  inherit (plumbing) runBuilder toLower baseName hashPart readBaseImage configReferences storePathInput;
  buildLayer = import ./buildLayer.nix plumbing;
in
{ command, derivationName, stream, function ? (if stream then "streamLayeredImage" else "buildLayeredImage")
, ownLayers ? false, baseConfig ? "inherit" }:
args@{ name
, tag ? null
, contents ? [ ]
, copyToRoot ? [ ]
, config ? null
, architecture ? plumbing.defaultArchitecture
, variant ? plumbing.variantFor architecture
, created ? "1970-01-01T00:00:01Z"
, mtime ? "1970-01-01T00:00:01Z"
, uid ? 0
, gid ? 0
, uname ? "root"
, gname ? "root"
, maxLayers ? 100
, layers ? [ ]
, importFromDerivation ? true
, extraCommands ? ""
, fakeRootCommands ? ""
, enableFakechroot ? false
, includeStorePaths ? true
, compressor ? (if stream then "none" else "gz")
, includeNixDB ? false
, initializeNixDatabase ? includeNixDB
, nixUid ? null
, nixGid ? null
, format ? "docker-archive"
, fromImage ? null
, fromImageName ? null
, fromImageTag ? null
, passthru ? { }
, meta ? { }
, debug ? false
, layeringPipeline ? null
, layerPlan ? null
, users ? { }
, groups ? { }
, perms ? [ ]
}:
let
  imageName = toLower name;
  contentsList = plumbing.packages function "contents" contents;
  copyToRootList = plumbing.packages function "copyToRoot" copyToRoot;
  # nix2container's maxLayers = 1: the top layer holds the store paths too, and no plan is made.
  single = ownLayers && maxLayers == 1;
  base = if fromImage == null then null else readBaseImage { inherit fromImage fromImageName fromImageTag function; };
  configRefs = configReferences imageName config;

  # The perms rules, checked; those of store paths go to the store layers (a planned layer
  # gets those of the paths it holds, so a changed rule rebuilds one layer), the others to
  # the top layer. The image checks that each rule was applied by some layer.
  rules = plumbing.perms function perms;
  # (A rule for a copyToRoot package is for its files at /: the top layer's.)
  inRoot = plumbing.permsInRoot copyToRootList;
  storeRules = builtins.filter (rule: !(inRoot rule)) rules;
  rootRules = builtins.filter inRoot rules;
  rulesOf = storePaths: builtins.filter (rule: builtins.elem (plumbing.permsStorePath rule) storePaths) storeRules;

  # Streamed layers are written uncompressed, and store-path layers again from the store.
  layerCompressor = if stream then "none" else compressor;
  # The store layers (and the Nix database) belong to uid:gid, as in dockerTools, unless
  # nixUid/nixGid set their owner apart; the top layer belongs to root, as dockerTools'
  # fakeroot makes it, save what fakeRootCommands chown.
  storeOwner = {
    uid = if nixUid != null then plumbing.id function "nixUid" nixUid else plumbing.id function "uid" uid;
    gid = if nixGid != null then plumbing.id function "nixGid" nixGid else plumbing.id function "gid" gid;
    uname = if nixUid == null then uname else if nixUid == 0 then "root" else "";
    gname = if nixGid == null then gname else if nixGid == 0 then "root" else "";
  };
  storeLayer = group: buildLayer (storeOwner // {
    inherit (group) name;
    inherit mtime;
    storePaths = map storePathInput group.storePaths;
    compressor = layerCompressor;
    keepBlob = !stream;
    perms = rulesOf group.storePaths;
    permsOfImage = true;
  });

  # Explicit layers, bottom first: buildLayer results as they are, and each list of store
  # paths made a layer of their closure less what the layers below it hold.
  explicitLayers = builtins.foldl'
    (below: layer: below ++ [
      (if builtins.isList layer then
        buildLayer (storeOwner // {
          name = "${baseName imageName}-explicit-${toString (builtins.length below + 1)}";
          deps = layer;
          layers = below;
          inherit mtime;
          compressor = layerCompressor;
          perms = storeRules;
          permsOfImage = true;
        })
      else layer)
    ])
    [ ]
    layers;

  # The roots whose closure the image holds: contents and the explicit layers' deps.
  roots = contentsList ++ builtins.concatLists (map (layer: layer.deps or [ ]) explicitLayers);

  nixDbLayer = runBuilder {
    name = "strata-${baseName imageName}-nix-db";
    command = "build-nix-db-layer";
    attrs = {
      imageName = name;
      inherit configRefs mtime base;
      customisationLayer = topLayer;
      nixUid = storeOwner.uid;
      nixGid = storeOwner.gid;
      compressor = layerCompressor;
      layerName = "nix-db";
      storeDir = builtins.storeDir;
      deps = roots;
      exportReferencesGraph.closure = roots ++ [ configRefs ] ++ topLayers;
    };
  };

  # What the image holds, for planning: contents, what config refers to, what the layers'
  # other files need (their records' references), less what the explicit layers hold.
  planAttrs = {
    imageName = name;
    inherit configRefs maxLayers includeStorePaths layeringPipeline layerPlan;
    customisationLayer = topLayer;
    includeNixDB = initializeNixDatabase;
    inherit base;
    contents = contentsList;
    exportReferencesGraph.closure = contentsList ++ [ configRefs ] ++ topLayers ++ explicitLayers;
  };

  plan = runBuilder {
    name = "${baseName imageName}-layer-plan.json";
    command = "plan-layers";
    attrs = planAttrs // { lowerLayers = explicitLayers; } // (if ownLayers then { ownLayers = maxLayers; } else { });
  };

  plannedLayers = map storeLayer (builtins.fromJSON (builtins.unsafeDiscardStringContext (builtins.readFile plan)));

  storeLayers = explicitLayers ++ (if importFromDerivation && !single then plannedLayers else [ ]);

  # nix2container's images have no top layer where it would be empty (no copyToRoot, no
  # rules for it, and the store paths in layers of their own).
  topLayers = if ownLayers && !single && copyToRootList == [ ] && rootRules == [ ] then [ ] else [ customisationLayer ];
  topLayer = if topLayers == [ ] then null else customisationLayer;

  customisationLayer = buildLayer ({
    name = "${baseName imageName}-customisation";
    inherit extraCommands fakeRootCommands enableFakechroot mtime base users groups;
    contents = contentsList;
    copyToRoot = copyToRootList;
    compressor = layerCompressor;
    perms = if single then rules else rootRules;
    permsOfImage = true;
  } // (if single then {
    referencesOf = contentsList ++ copyToRootList ++ [ configRefs ];
    layers = explicitLayers;
    nixUid = storeOwner.uid;
    nixGid = storeOwner.gid;
  } else { }));

  image = runBuilder {
    name = derivationName (baseName imageName) format;
    inherit command;
    attrs = {
      inherit tag config configRefs architecture variant created mtime format base;
      customisationLayer = topLayer;
      imageName = name;
      compressor = layerCompressor;
      layers = storeLayers;
      nixDbLayer = if initializeNixDatabase then nixDbLayer else null;
      # The owner of the layers the image writes itself (without import-from-derivation).
      inherit (storeOwner) uid gid uname gname;
      storeDir = builtins.storeDir;
      perms = rules;
      inherit (plumbing) interpreter;
      inherit baseConfig;
    } // (if ownLayers then { ownLayers = maxLayers; } else { })
      // (if importFromDerivation || single then { } else planAttrs);
  };

  sbom = plumbing.sbom {
    inherit image imageName base;
    roots = planAttrs.exportReferencesGraph.closure ++ copyToRootList;
    named = roots ++ copyToRootList ++ plumbing.configPackages config;
    copyToRoot = copyToRootList;
  };

  unsupported = argument: why: throw "strata.${function}: `${argument}` ${why}";
  # Arguments checked before anything is planned from them, so their errors come first.
  checked = builtins.all (value: builtins.seq value true)
    [ contentsList copyToRootList storeOwner.uid storeOwner.gid (plumbing.integer function "maxLayers" maxLayers) ];
in
if !checked || maxLayers < 1 || (!ownLayers && maxLayers < 2) then
  unsupported "maxLayers" (if ownLayers then "must be at least 1" else "must be at least 2: one layer of store paths and the top layer")
else if stream && args ? format then
  unsupported "format" "is buildLayeredImage's: a stream is a Docker archive (pipe it to skopeo for another format)"
else if stream && args ? compressor then
  unsupported "compressor" "is buildLayeredImage's: a stream's layers are uncompressed, as dockerTools streams them"
else if layeringPipeline != null && !(builtins.isList layeringPipeline) then
  unsupported "layeringPipeline" "must be a list of steps, such as [ [ \"popularity_contest\" ] [ \"limit_layers\" 100 ] ]"
else if layeringPipeline != null && layerPlan != null then
  unsupported "layerPlan" "keeps strata's own layering; with `layeringPipeline` the steps decide the layers"
else if !(builtins.elem format [ "docker-archive" "oci-archive" "oci" ]) then
  unsupported "format" "must be \"docker-archive\", \"oci-archive\" or \"oci\", not ${builtins.toJSON format}"
else
  image // plumbing.copyScripts { inherit image sbom; reference = "${imageName}:${if tag != null then tag else hashPart image}"; } // {
    inherit imageName meta base sbom;
    customisationLayer = topLayer;
    imageRefUnsafe = builtins.unsafeDiscardStringContext "${imageName}:${if tag != null then tag else hashPart image}";
    imageTag = if tag != null then tag else hashPart image;
    layers = storeLayers ++ (if initializeNixDatabase then [ nixDbLayer ] else [ ]) ++ topLayers;
    buildArgs = args;
  } // (if importFromDerivation && !single then { inherit plan; } else { })
  // (if stream then { isExe = true; } else { })
  // passthru
