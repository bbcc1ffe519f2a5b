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
#   false), perms, maxLayers (1; more is refused), metadata ({ created_by; author;
#   comment; } in the image history).
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
    if builtins.isList value then value
    else throw "strata.nix2container.${function}: `${argument}` must be a list of buildLayer results, got ${describe value}";

  # Layers with the layers below them (their nestedLayers), bottom first, each once.
  flatten = layers:
    builtins.foldl' (kept: layer: if builtins.any (other: other.outPath == layer.outPath) kept then kept else kept ++ [ layer ])
      [ ] (builtins.concatMap (layer: (layer.nestedLayers or [ ]) ++ [ layer ]) layers);

  copied = function: copyToRoot: contents:
    if contents != null && copyToRoot != null then
      throw "strata.nix2container.${function}: `contents` is the old name of `copyToRoot`; pass only `copyToRoot`"
    else if contents != null then
      builtins.trace "warning: strata.nix2container.${function}: `contents` is deprecated, use `copyToRoot`"
        (plumbing.packages "nix2container.${function}" "contents" contents)
    else plumbing.packages "nix2container.${function}" "copyToRoot" copyToRoot;
in
{
  buildImage =
    { name
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
    , maxLayers ? 1
    , metadata ? null
    }:
    let
      lower = flatten (list "buildLayer" "layers" layers);
      roots = copied "buildLayer" copyToRoot contents;
      layer = strata.buildLayer {
        name = "nix2container-layer";
        inherit deps perms metadata;
        copyToRoot = roots;
        referencesOf = roots;
        layers = lower;
        ignore = if ignore == null then [ ] else ignore;
      };
    in
    if !(builtins.isBool reproducible) then
      throw "strata.nix2container.buildLayer: `reproducible` must be true or false, got ${describe reproducible}"
    else if maxLayers != 1 then
      throw ("strata.nix2container.buildLayer: `maxLayers` must be 1 (a buildLayer is one layer in strata);"
        + " split the layer into several buildLayer calls, or give maxLayers to buildImage")
    else layer // { nestedLayers = lower; inherit deps; };

  pullImage =
    { imageName, imageDigest, sha256, os ? "linux", arch ? plumbing.defaultArchitecture, tlsVerify ? true
    , name ? null }:
    strata.pullImage ({ inherit imageName imageDigest sha256 os arch tlsVerify; }
      // (if name == null then { } else { inherit name; }));

  pullImageFromManifest = import ./pullImageFromManifest.nix plumbing;
}
