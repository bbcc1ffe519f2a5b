# pullImage: an image copied from a registry by digest into a Docker archive, as a
# fixed-output derivation (the only strata build that reaches the network), with skopeo.
# Arguments (dockerTools'): imageName, imageDigest ("sha256:..."), hash (or sha256, the
# archive's), os ("linux"), arch (from `system`), finalImageName (imageName), finalImageTag
# ("latest"), tlsVerify (true), name (from the final name and tag).
plumbing:
let
  inherit (plumbing) runBuilder toLower baseName;
in
{ imageName
, imageDigest
, hash ? null
, sha256 ? null
, os ? "linux"
, arch ? plumbing.defaultArchitecture
, finalImageName ? imageName
, finalImageTag ? "latest"
, tlsVerify ? true
, name ? "docker-image-${baseName (toLower finalImageName)}-${finalImageTag}.tar"
}:
if plumbing.skopeo == null then
  throw "strata.pullImage: no skopeo; pass `pkgs`, or `skopeo` (a path such as \"/usr/bin/skopeo\") to strata"
else if hash == null && sha256 == null then
  throw "strata.pullImage: give the archive's `hash` (or `sha256`); a wrong one makes Nix print the right one"
else
  runBuilder {
    inherit name;
    command = "pull-image";
    attrs = {
      inherit imageName imageDigest os arch finalImageName finalImageTag tlsVerify;
      inherit (plumbing) skopeo;
      outputHashMode = "flat";
    } // (if hash != null then { outputHash = hash; outputHashAlgo = null; }
          else { outputHash = sha256; outputHashAlgo = "sha256"; });
  }
