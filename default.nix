# strata: reproducible container images from Nix store closures.
#
# Arguments (all optional, but strata needs an interpreter: `pkgs` or `python3`):
#   pkgs       nixpkgs. When given, python3, shell and toolsPath default to its packages.
#   python3    the interpreter that runs the builder: a derivation, or a host path such as
#              "/usr/bin/python3" (then let it into the sandbox:
#              --option extra-sandbox-paths "/usr /lib /lib64 /bin /etc/ld.so.cache").
#   system     the Nix system the derivations build on; also the images' default platform.
#   shell      the shell that runs extraCommands; null makes extraCommands an error.
#   toolsPath  the PATH extraCommands runs with.
#   skopeo     the skopeo binary pullImage runs; null makes pullImage an error.
#   fakeroot   the fakeroot binary fakeRootCommands run under; null makes them an error.
#
# Returns the library: an attribute set of the public functions in ./lib, one a file.
{ pkgs ? null
, python3 ? (if pkgs != null then pkgs.python3
    else throw "strata: pass `pkgs`, or `python3` (a derivation or a path such as \"/usr/bin/python3\")")
, system ? (if pkgs != null then pkgs.stdenv.hostPlatform.system else builtins.currentSystem)
, shell ? (if pkgs != null then "${pkgs.bash}/bin/bash" else null)
, toolsPath ? (if pkgs != null then "${pkgs.coreutils}/bin" else "/usr/bin:/bin")
, skopeo ? (if pkgs != null then "${pkgs.skopeo}/bin/skopeo" else null)
, fakeroot ? (if pkgs != null then "${pkgs.fakeroot}/bin/fakeroot" else null)
}:
let
  plumbing = import ./lib/plumbing.nix { inherit python3 system shell toolsPath skopeo fakeroot; };
in
{
  buildImage = import ./lib/buildImage.nix plumbing;
  buildLayer = import ./lib/buildLayer.nix plumbing;
  buildLayeredImage = import ./lib/buildLayeredImage.nix plumbing;
  exportImage = import ./lib/exportImage.nix plumbing;
  mergeImages = import ./lib/mergeImages.nix plumbing;
  pullImage = import ./lib/pullImage.nix plumbing;
  streamLayeredImage = import ./lib/streamLayeredImage.nix plumbing;
}
