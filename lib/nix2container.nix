# nix2container's interface over strata: `strata.nix2container` is
# { buildImage, buildLayer, pullImage, pullImageFromManifest }, taking nix2container's
# arguments with nix2container's meaning (see docs/migrating-from-nix2container.md), and
# giving strata's images: archives that load and push as they are, with an SBOM.
#
# buildImage: name, tag (null: the hash part of the image's output path), config (OCI field
#   names in any case, as Go reads them: entrypoint or Entrypoint), layers (buildLayer
#   results, below the image's own; nested layers first, each once), copyToRoot (copied to
#   /, its references' closure in the store; deprecated `contents` the same), fromImage
#   (pullImage, pullImageFromManifest or any image strata reads), fromImageEnv (false: the
#   base's config is not inherited; true: its Env is), arch (GOARCH, from `system`), perms,
#   maxLayers (1: the image's own layers, the `layers` and the base's not counted),
#   initializeNixDatabase, nixUid, nixGid (0 0), created ("0001-01-01T00:00:00Z"), meta.
# buildLayer: deps, copyToRoot (or deprecated contents), ignore (a store path left out),
#   layers (layers this one goes over: what they hold, nested ones too, is not repeated),
#   reproducible (accepted: strata stores every layer's blob, as nix2container does for
#   false), perms (or permsFile, a JSON file of them), maxLayers (1; more splits the store
#   paths into layers of their own, as does layersFile, the split exactly, the
#   copyToRoot files on top), metadata ({ created_by; author; comment; } in the history).
# pullImage: imageName, imageDigest, sha256 (of strata's archive, not of nix2container's
#   directory: a user's hash changes once), os, arch, tlsVerify.
# pullImageFromManifest: imageName, imageManifest (the manifest JSON file you commit: the
#   lock), imageTag ("latest"), os, arch, tlsVerify, registryUrl ("registry-1.docker.io"): one
#   fixed-output derivation a blob, fetched by strata's registry client; passthru getManifest
#   writes the lock file (`nix run .#image.getManifest > manifest.json`).
plumbing: strata:
let
  inherit (plumbing) describe;

  # OCI's config, whose field names the builder matches in any case, as Go reads them.
  ociConfig = config:
    if builtins.isAttrs config && !(plumbing.isPackage config) then config
    else throw "strata.nix2container.buildImage: `config` must be an attribute set (OCI's config fields), got ${describe config}";

  list = function: argument: value:
    let bad = builtins.filter (layer: !(builtins.isAttrs layer && layer ? outPath)) (if builtins.isList value then value else [ ]); in
    if !(builtins.isList value) || bad != [ ] then
      throw "strata.nix2container.${function}: `${argument}` must be a list of buildLayer results, got ${describe (if builtins.isList value then builtins.head bad else value)}"
    else value;

  # Layers with the layers below them (their nestedLayers), bottom first, each once.
  flatten = layers:
    builtins.foldl' (kept: layer: if builtins.any (other: other.outPath == layer.outPath) kept then kept else kept ++ [ layer ])
      [ ] (builtins.concatMap (layer: (layer.nestedLayers or [ ]) ++ [ layer ]) layers);

  copied = function: plumbing.copyToRootOf "nix2container.${function}";
in
{
  buildImage =
    { name ? throw "strata.nix2container.buildImage: `name` is required: the image's name, such as \"app\""
    , tag ? null
    , config ? { }
    , layers ? [ ]
    , copyToRoot ? null
    , contents ? null
    , fromImage ? null
    , fromImageEnv ? false
    , arch ? plumbing.defaultArchitecture
    , perms ? [ ]
    , maxLayers ? 1
    , initializeNixDatabase ? false
    , nixUid ? 0
    , nixGid ? 0
    , created ? "0001-01-01T00:00:00Z"
    , meta ? { }
    }:
    (import ./mkLayeredImage.nix plumbing {
      command = "build-layered-image";
      stream = false;
      derivationName = baseName: _: "image-${baseName}.tar";
      function = "nix2container.buildImage";
      ownLayers = true;
      baseConfig = if fromImageEnv then "env" else "none";
    }) {
      inherit name tag fromImage perms maxLayers initializeNixDatabase nixUid nixGid created meta;
      config = ociConfig config;
      architecture = arch;
      layers = flatten (list "buildImage" "layers" layers);
      copyToRoot = copied "buildImage" copyToRoot contents;
    };

  buildLayer =
    { deps ? [ ]
    , copyToRoot ? null
    , contents ? null
    , ignore ? null
    , layers ? [ ]
    , reproducible ? true
    , perms ? [ ]
    , permsFile ? null
    , maxLayers ? 1
    , layersFile ? null
    , metadata ? null
    }:
    let
      # permsFile: the rules as a JSON file, read when the layer is evaluated (a build's
      # output is built first, import from derivation).
      givenPerms =
        if permsFile == null then perms
        else if perms != [ ] then throw "strata.nix2container.buildLayer: give `perms` or `permsFile`, not both"
        else builtins.fromJSON (builtins.readFile permsFile);
      lower = flatten (list "buildLayer" "layers" layers);
      roots = copied "buildLayer" copyToRoot contents;
      depsList = plumbing.packages "nix2container.buildLayer" "deps" deps;
      ignored = map (path: builtins.unsafeDiscardStringContext (toString path))
        (plumbing.packages "nix2container.buildLayer" "ignore" ignore);
      one = strata.buildLayer {
        name = "nix2container-layer";
        inherit metadata;
        perms = givenPerms;
        deps = depsList;
        copyToRoot = roots;
        referencesOf = roots;
        layers = lower;
        ignore = ignored;
      };

      # maxLayers > 1: the store paths split by strata's layering into layers of their own,
      # the copyToRoot files in one on top; the result is the top one, the others its
      # nestedLayers (an image takes them below it).
      rules = plumbing.perms "nix2container.buildLayer" givenPerms;
      inRoot = plumbing.permsInRoot roots;
      top = strata.buildLayer {
        name = "nix2container-layer-root";
        inherit metadata;
        copyToRoot = roots;
        perms = builtins.filter inRoot rules;
      };
      tops = if roots == [ ] then [ ] else [ top ];
      plan = plumbing.runBuilder {
        name = "nix2container-layer-plan.json";
        command = "plan-layers";
        attrs = {
          imageName = "nix2container-layer";
          contents = depsList;
          ownLayers = maxLayers;
          layerSplit = layersFile;
          ignore = ignored;
          customisationLayer = if tops == [ ] then null else top;
          lowerLayers = lower;
          storeDir = builtins.storeDir;
          exportReferencesGraph.closure = depsList ++ tops ++ lower;
        };
      };
      groups = map (group: group.storePaths) (builtins.fromJSON (builtins.unsafeDiscardStringContext (builtins.readFile plan)));
      split = map
        (paths: strata.buildLayer {
          name = "nix2container-layer-${builtins.substring 33 60 (baseNameOf (builtins.head paths))}";
          storePaths = map plumbing.storePathInput paths;
          inherit metadata;
          perms = builtins.filter (rule: !(inRoot rule) && builtins.elem (plumbing.permsStorePath rule) paths) rules;
        })
        groups;
      stacked = split ++ tops;
      last = builtins.elemAt stacked (builtins.length stacked - 1);
    in
    if !(builtins.isBool reproducible) then
      throw "strata.nix2container.buildLayer: `reproducible` must be true or false, got ${describe reproducible}"
    else if !(builtins.isInt maxLayers) || maxLayers < 1 then
      throw "strata.nix2container.buildLayer: `maxLayers` must be an integer of at least 1, got ${describe maxLayers}"
    else if (maxLayers == 1 && layersFile == null) || stacked == [ ] then one // { nestedLayers = lower; deps = depsList; }
    else last // { nestedLayers = lower ++ builtins.genList (builtins.elemAt stacked) (builtins.length stacked - 1); deps = depsList; };

  pullImage =
    { imageName, imageDigest, sha256, os ? "linux", arch ? plumbing.defaultArchitecture, tlsVerify ? true
    , name ? null }:
    strata.pullImage ({ inherit imageName imageDigest sha256 os arch tlsVerify; }
      // (if name == null then { } else { inherit name; }));

  pullImageFromManifest = import ./pullImageFromManifest.nix plumbing;
}
