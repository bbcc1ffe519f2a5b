# strata: reproducible container images from Nix store closures.
#
# Arguments (all optional, but strata needs an interpreter: `pkgs` or `python3`):
#   pkgs       nixpkgs. When given, every other argument defaults to its packages.
#   python3    the interpreter that runs the builder: a derivation, or a host path such as
#              "/usr/bin/python3" (then let it into the sandbox:
#              --option extra-sandbox-paths "/usr /lib /lib64 /bin /etc/ld.so.cache").
#   system     the Nix system the derivations build on; also the images' default platform.
#   shell      the shell that runs extraCommands; null makes extraCommands an error.
#   toolsPath  the PATH extraCommands runs with.
#   skopeo     the skopeo binary pullImage runs; null makes pullImage an error.
#   fakeroot   the fakeroot binary fakeRootCommands run under; null makes them an error.
#   proot      the proot binary enableFakechroot runs fakeRootCommands under (null: an error);
#   prootBinds host paths proot binds into the image's root as well (the store, /dev, /proc
#              and /sys are), for host programs' libraries; nixpkgs' programs need none.
#   zstd       the zstd program, for compressor = "zstd" (and zstd base images) where the
#              interpreter's standard library has no zstd (before Python 3.14).
# What the helpers put in images (a store path, or a host file, which is copied into the
# store: a statically linked one, such as Debian's /bin/busybox, runs in any image):
#   binShell   the shell binSh links at /bin/sh (nixpkgs' bashInteractive).
#   envBinary  the env usrBinEnv links at /usr/bin/env (nixpkgs' coreutils).
#   caBundle   the CA certificates caCertificates links, and pullImage's skopeo trusts
#              (nixpkgs' cacert).
#   shadow     the directory of groupadd and useradd that shadowSetup puts on PATH
#              (nixpkgs' shadow).
#
# Returns the library: an attribute set of the public functions in ./lib, one a file (each
# function's result has `override`, as nixpkgs' lib.makeOverridable gives), and `cli`, the
# strata command.
{ pkgs ? null
, python3 ? (if pkgs != null then pkgs.python3
    else throw "strata: pass `pkgs`, or `python3` (a derivation or a path such as \"/usr/bin/python3\")")
, system ? (if pkgs != null then pkgs.stdenv.hostPlatform.system
    else builtins.currentSystem or (throw
      "strata: pass `system` (such as \"x86_64-linux\"): pure evaluation (flakes) has no builtins.currentSystem"))
, shell ? (if pkgs != null then "${pkgs.bash}/bin/bash" else null)
, toolsPath ? (if pkgs != null then "${pkgs.coreutils}/bin" else "/usr/bin:/bin")
, skopeo ? (if pkgs != null then "${pkgs.skopeo}/bin/skopeo" else null)
, fakeroot ? (if pkgs != null then "${pkgs.fakeroot}/bin/fakeroot" else null)
, proot ? (if pkgs != null then "${pkgs.proot}/bin/proot" else null)
, prootBinds ? [ ]
, zstd ? (if pkgs != null then "${pkgs.zstd}/bin/zstd" else null)
, binShell ? (if pkgs != null then "${pkgs.bashInteractive}/bin/bash" else null)
, envBinary ? (if pkgs != null then "${pkgs.coreutils}/bin/env" else null)
, caBundle ? (if pkgs != null then "${pkgs.cacert}/etc/ssl/certs/ca-bundle.crt" else null)
, shadow ? (if pkgs != null then "${pkgs.shadow}/bin" else null)
}:
let
  plumbing = import ./lib/plumbing.nix {
    inherit python3 system shell toolsPath skopeo fakeroot proot prootBinds zstd binShell envBinary caBundle shadow;
  };
  inherit (plumbing) makeOverridable;
  self = {
    buildImage = makeOverridable (import ./lib/buildImage.nix plumbing);
    buildImageWithNixDb = makeOverridable (args: self.buildImage (args // { includeNixDB = true; }));
    buildLayer = makeOverridable (import ./lib/buildLayer.nix plumbing);
    buildLayeredImage = makeOverridable (import ./lib/buildLayeredImage.nix plumbing);
    buildLayeredImageWithNixDb = makeOverridable (args: self.buildLayeredImage (args // { includeNixDB = true; }));
    buildMultiArchImage = makeOverridable (import ./lib/buildMultiArchImage.nix plumbing);
    exportImage = makeOverridable (import ./lib/exportImage.nix plumbing);
    mergeImages = makeOverridable (import ./lib/mergeImages.nix plumbing);
    pullImage = makeOverridable (import ./lib/pullImage.nix plumbing);
    streamLayeredImage = makeOverridable (import ./lib/streamLayeredImage.nix plumbing);
    buildNixShellImage = makeOverridable (import ./lib/buildNixShellImage.nix plumbing self.buildLayeredImage);
    streamNixShellImage = makeOverridable (import ./lib/streamNixShellImage.nix plumbing self.streamLayeredImage);

    # nix2container's interface: { buildImage, buildLayer, pullImage, pullImageFromManifest }.
    nix2container = import ./lib/nix2container.nix plumbing self;

    # The strata command, bin/strata: inspect, diff, sbom (see docs/sbom.md).
    cli = plumbing.program "strata" "builder.inspection.cli" "sys.argv[1:]";

    # dockerTools' helpers: packages to put in copyToRoot or contents, and shadowSetup, a
    # shell snippet.
    binSh = import ./lib/binSh.nix plumbing;
    caCertificates = import ./lib/caCertificates.nix plumbing;
    fakeNss = makeOverridable (import ./lib/fakeNss.nix plumbing) { };
    shadowSetup = import ./lib/shadowSetup.nix plumbing;
    usrBinEnv = import ./lib/usrBinEnv.nix plumbing;
  };
in
self
