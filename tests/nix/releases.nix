# Two releases of one app, for the SBOM, `strata inspect` and `strata diff`: v2 changes a
# library (libfoo 1.0 -> 1.1), adds a dependency (dep-new) and drops one (dep-old). Packages
# carry meta as nixpkgs' do: an SPDX licence, one without an SPDX id, and none.
{ system ? builtins.currentSystem }:
let
  strata = import ../.. { python3 = "/usr/bin/python3"; shell = "/bin/sh"; inherit system; };
  inherit (import ../../examples/host-packages.nix { inherit system; }) package busybox;

  withMeta = drv: attrs: drv // attrs;

  libfoo = version: withMeta (package "libfoo-${version}" ''
    mkdir -p $out/lib
    echo "libfoo ${version}" > $out/lib/libfoo.so
  '') {
    pname = "libfoo";
    inherit version;
    meta = {
      license = [ { spdxId = "MIT"; shortName = "mit"; } { spdxId = "Apache-2.0"; shortName = "asl20"; } ];
      homepage = "https://example.org/libfoo";
      description = "a library the app links";
    };
  };
  depOld = package "dep-old-0.9" "mkdir -p $out; echo old > $out/README";
  depNew = package "dep-new-2.0" "mkdir -p $out; echo new > $out/README";
  depKept = package "dep-kept-3.1.4" "mkdir -p $out; echo kept > $out/README";

  # A fixed-output derivation, as fetchurl makes: its URL and hash are what Nix knows of it.
  data = builtins.derivation {
    name = "data.txt";
    inherit system;
    builder = "/bin/sh";
    args = [ "-c" "echo data > $out" ];
    PATH = "/usr/bin:/bin";
    urls = [ "https://example.org/data.txt" ];
    outputHashMode = "flat";
    outputHashAlgo = "sha256";
    outputHash = "sha256-Zmey0aq2oAyqWu5a+K2fFGXlZ6vxwgnRVyfVez6Pbl8=";
  };

  app = version: lib: deps: withMeta (package "app-${version}" ''
    mkdir -p $out/bin
    printf '#!${busybox}/bin/sh\necho "app ${version} with $(cat ${lib}/lib/libfoo.so)"\n# ${builtins.concatStringsSep " " deps} ${data}\n' > $out/bin/app
    chmod 555 $out/bin/app
  '') {
    pname = "app";
    inherit version;
    buildInputs = [ lib data ];
    meta = {
      license = { shortName = "acme-eula"; fullName = "ACME End User Licence"; free = false; };
      description = "the app";
    };
  };

  release = version: lib: deps: {
    name = "127.0.0.1:5000/releases/app";
    tag = version;
    contents = [ (app version lib deps) busybox ];
    config.Cmd = [ "/bin/app" ];
    maxLayers = 10;
  };
  v1 = release "1.0" (libfoo "1.0") [ depOld depKept ];
  v2 = release "2.0" (libfoo "1.1") [ depNew depKept ];
in
{
  inherit libfoo data;
  inherit (strata) cli;
  v1 = strata.buildLayeredImage v1;
  v2 = strata.buildLayeredImage v2;
  v1Oci = strata.buildLayeredImage (v1 // { format = "oci"; });
  v1Stream = strata.streamLayeredImage v1;
  v2Stream = strata.streamLayeredImage v2;

  # One layer: the app's files copied to /, its closure in /nix/store.
  flat = strata.buildImage {
    name = "flat";
    tag = "1";
    copyToRoot = [ (app "1.0" (libfoo "1.0") [ depOld ]) busybox ];
    config.Cmd = [ "/bin/app" ];
  };

  # Over a base image that holds busybox already: the SBOM describes the new layer's paths.
  onBase = strata.buildImage {
    name = "on-base";
    tag = "1";
    fromImage = strata.buildImage {
      name = "base";
      tag = "1";
      copyToRoot = [ (package "base-tools" "mkdir -p $out/bin; ln -s ${busybox}/bin/sh $out/bin/sh") ];
    };
    copyToRoot = [ (app "1.0" (libfoo "1.0") [ depKept ]) ];
  };
}
