# NixOS VM tests, for machines that have nixpkgs and KVM (this project's CI machines have
# neither; its end-to-end tests run the same checks with the host's podman):
#   nix-build nixos-tests -A podman
#   nix-build nixos-tests -A nixShell
# They build strata's images with nixpkgs' python3 and packages, boot a NixOS VM with
# podman, and load and run the images there, as a dockerTools user would.
{ pkgs ? import <nixpkgs> { } }:
let
  strata = import ../. { inherit pkgs; };

  layered = strata.buildLayeredImage {
    name = "strata-hello";
    tag = "layered";
    contents = [ pkgs.hello ];
    config.Cmd = [ "/bin/hello" ];
    includeNixDB = true;
  };
  streamed = strata.streamLayeredImage {
    name = "strata-hello";
    tag = "streamed";
    contents = [ pkgs.hello ];
    config.Cmd = [ "/bin/hello" ];
  };
  plain = strata.buildImage {
    name = "strata-hello";
    tag = "plain";
    copyToRoot = [ pkgs.hello ];
    config.Cmd = [ "/bin/hello" ];
  };

  # Nix shell images: nixpkgs' docker-tools-nix-shell cases, with nixpkgs' stdenv and bash.
  inherit (import ../tests/nix/nix-shell-scripts.nix) interactive homeIsTheUsers;
  mkShell = pkgs.mkShell;
  # Each case: the image's arguments, `podman run` options and command after the image's
  # name, and what the output must hold.
  shellCases = {
    nix-shell-basic = {
      args.drv = pkgs.hello;
      command = "bash -c 'buildDerivation && $out/bin/hello'";
      says = "Hello, world!";
    };
    nix-shell-hook = {
      args.drv = mkShell { shellHook = "echo 'This is the shell hook!'; exit"; };
      tty = true;
      says = "This is the shell hook!";
    };
    nix-shell-inputs = {
      args = { drv = mkShell { nativeBuildInputs = [ pkgs.hello ]; }; command = "hello"; };
      tty = true;
      says = "Hello, world!";
    };
    nix-shell-pass-as-file = {
      args = { drv = mkShell { str = "this is a string"; passAsFile = [ "str" ]; }; command = ''cat "$strPath"''; };
      tty = true;
      says = "this is a string";
    };
    nix-shell-run = { args = { drv = mkShell { }; run = interactive; }; says = "This shell is not interactive"; };
    nix-shell-command = {
      args = { drv = mkShell { }; command = interactive; };
      tty = true;
      says = "This shell is interactive";
    };
    nix-shell-writable-home = {
      args = { drv = mkShell { }; run = homeIsTheUsers + "touch $HOME/test-file && echo home directory is writable"; };
      says = "home directory is writable";
    };
    nix-shell-nonexistent-home = {
      args = {
        drv = mkShell { };
        homeDirectory = "/homeless-shelter";
        run = homeIsTheUsers + "[ -e $HOME ] || echo home directory does not exist";
      };
      says = "home directory does not exist";
    };
    nix-shell-build-derivation = {
      args = { drv = pkgs.hello; run = "buildDerivation\n$out/bin/hello"; };
      says = "Hello, world!";
    };
    nix-shell-structured = {
      args = {
        drv = pkgs.stdenv.mkDerivation {
          name = "structured";
          __structuredAttrs = true;
          words = [ "one" "two words" ];
        };
        run = ''echo "''${words[1]}"'';
      };
      says = "two words";
    };
  };
  shellCheck = name: case:
    let image = strata.streamNixShellImage ({ inherit name; tag = "latest"; } // case.args); in ''
      machine.succeed("${image} | podman load")
      out = machine.succeed("podman run --rm ${if case.tty or false then "-t " else ""}${name} ${case.command or ""}")
      assert ${builtins.toJSON case.says} in out, out
    '';
in
{
  nixShell = pkgs.testers.runNixOSTest {
    name = "strata-nix-shell";
    nodes.machine = { virtualisation.podman.enable = true; virtualisation.diskSize = 4096; };
    testScript = ''
      machine.wait_for_unit("multi-user.target")
    '' + builtins.concatStringsSep "" (builtins.attrValues (builtins.mapAttrs shellCheck shellCases));
  };

  podman = pkgs.testers.runNixOSTest {
    name = "strata-podman";
    nodes.machine = { virtualisation.podman.enable = true; };
    testScript = ''
      machine.wait_for_unit("multi-user.target")
      machine.succeed("podman load -i ${plain}")
      machine.succeed("podman load -i ${layered}")
      machine.succeed("${streamed} | podman load")
      for tag in ["plain", "layered", "streamed"]:
          out = machine.succeed(f"podman run --rm strata-hello:{tag}")
          assert "Hello, world!" in out, out
    '';
  };
}
