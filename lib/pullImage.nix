# pullImage: an image copied from a registry by digest into a Docker archive, as a
# fixed-output derivation (the only strata build that reaches the network), with skopeo.
# Arguments (dockerTools'): imageName, imageDigest ("sha256:..."), hash (an SRI hash such as
# "sha256-...") or sha256 (the archive's), os ("linux"), arch (from `system`), variant (null:
# skopeo's choice), finalImageName (imageName), finalImageTag ("latest"), tlsVerify (true),
# name (from the final name and tag). skopeo gets strata's `caBundle` as SSL_CERT_FILE and
# the proxy variables of the Nix daemon's environment, as dockerTools' pullImage does.
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
, variant ? null
, finalImageName ? imageName
, finalImageTag ? "latest"
, tlsVerify ? true
, name ? "docker-image-${baseName (toLower finalImageName)}-${finalImageTag}.tar"
}:
if plumbing.skopeo == null then
  throw "strata.pullImage: no skopeo; pass `pkgs`, or `skopeo` (a path such as \"/usr/bin/skopeo\") to strata"
else if hash == null && sha256 == null then
  throw "strata.pullImage: give the archive's `hash` (or `sha256`); a wrong one makes Nix print the right one"
else if hash != null && builtins.match "(sha256|sha512)-.*" hash == null then
  throw "strata.pullImage: `hash` must be an SRI hash such as \"sha256-...\" (or give `sha256`), not ${builtins.toJSON hash}"
else
  runBuilder {
    inherit name;
    command = "pull-image";
    attrs = {
      inherit imageName imageDigest os arch variant finalImageName finalImageTag tlsVerify;
      inherit (plumbing) skopeo;
      sslCertFile = plumbing.caBundle;
      impureEnvVars = plumbing.proxyVariables;
      outputHashMode = "flat";
    } // (if hash != null then { outputHash = hash; outputHashAlgo = builtins.head (builtins.match "([a-z0-9]+)-.*" hash); }
          else { outputHash = sha256; outputHashAlgo = "sha256"; });
  }
