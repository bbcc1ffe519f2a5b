# strata called as nearly every user calls it: `import strata { inherit pkgs; }`, and through
# the flake's overlay, with the nixpkgs-shaped set of stand-in-nixpkgs.nix. Every default strata
# takes from `pkgs` is used: the interpreter, bash and coreutils for extraCommands, fakeroot,
# proot, zstd, bashInteractive (binSh), coreutils' env (usrBinEnv), cacert (caCertificates),
# shadow (shadowSetup), skopeo (copyTo).
{ system ? builtins.currentSystem }:
let
  pkgs = import ./stand-in-nixpkgs.nix { inherit system; };
  # proot binds the host's directories in too: the stand-ins' build tools are the host's, with
  # the host's libraries (nixpkgs' are in the store, which proot binds anyway).
  strata = import ../.. { inherit pkgs; prootBinds = [ "/usr" "/lib" "/lib64" "/bin" ]; };
  # As nixpkgs applies an overlay: the fixed point of the set and the overlay's additions.
  flake = (import ../../flake.nix).outputs { self = null; };
  overlaid = let final = pkgs // flake.overlays.default final pkgs; in final;
  inherit (import ../../examples/host-packages.nix { inherit system; }) shellScript;
  hello = shellScript "hello" "hello" "echo hello from hello";
in
{
  helpers = strata.buildImage {
    name = "with-pkgs-helpers";
    tag = "latest";
    copyToRoot = [ strata.binSh strata.usrBinEnv strata.caCertificates hello ];
    extraCommands = "mkdir -p tmp; echo made by extraCommands > made";
    config.Cmd = [ "/bin/sh" "-c" "echo $(cat /made); /usr/bin/env | grep -c . > /dev/null && echo env ran; ls /etc/ssl/certs/ca-bundle.crt" ];
  };
  layered = strata.buildLayeredImage {
    name = "with-pkgs-layered";
    tag = "latest";
    contents = [ strata.binSh hello ];
    fakeRootCommands = "mkdir -p home/app; chown 1000:1000 home/app";
    compressor = "zstd";
    config.Cmd = [ "/bin/hello" ];
  };
  shadowed = strata.buildLayeredImage {
    name = "with-pkgs-shadow";
    tag = "latest";
    contents = [ strata.binSh ];
    enableFakechroot = true;
    fakeRootCommands = ''
      ${strata.shadowSetup}
      groupadd -r app
    '';
  };
  # The strata command and nix2container's interface, through the overlay.
  cli = overlaid.strata.cli;
  nix2container = overlaid.strata.nix2container.buildImage {
    name = "with-pkgs-nix2container";
    copyToRoot = [ overlaid.strata.binSh ];
    config.entrypoint = [ "/bin/sh" "-c" "echo through nix2container" ];
  };
  overlay = overlaid.strata.buildImage {
    name = "with-pkgs-overlay";
    tag = "latest";
    copyToRoot = [ overlaid.strata.binSh ];
    config.Cmd = [ "/bin/sh" "-c" "echo through the overlay" ];
  };
}
