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
  shellImage = name: args: strata.streamNixShellImage ({ inherit name; tag = "latest"; } // args);
  inherit (import ../tests/nix/nix-shell-scripts.nix) interactive homeIsTheUsers;
  # (image, podman run options and command, what the output must hold)
  shellCases = [
    [ (shellImage "nix-shell-basic" { drv = pkgs.hello; }) "nix-shell-basic bash -c 'buildDerivation && $out/bin/hello'" "Hello, world!" ]
    [ (shellImage "nix-shell-hook" { drv = pkgs.mkShell { shellHook = "echo 'This is the shell hook!'; exit"; }; }) "-t nix-shell-hook" "This is the shell hook!" ]
    [ (shellImage "nix-shell-inputs" { drv = pkgs.mkShell { nativeBuildInputs = [ pkgs.hello ]; }; command = "hello"; }) "-t nix-shell-inputs" "Hello, world!" ]
    [ (shellImage "nix-shell-pass-as-file" { drv = pkgs.mkShell { str = "this is a string"; passAsFile = [ "str" ]; }; command = ''cat "$strPath"''; }) "-t nix-shell-pass-as-file" "this is a string" ]
    [ (shellImage "nix-shell-run" { drv = pkgs.mkShell { }; run = interactive; }) "nix-shell-run" "This shell is not interactive" ]
    [ (shellImage "nix-shell-command" { drv = pkgs.mkShell { }; command = interactive; }) "-t nix-shell-command" "This shell is interactive" ]
    [ (shellImage "nix-shell-writable-home" { drv = pkgs.mkShell { }; run = homeIsTheUsers + "touch $HOME/test-file && echo home directory is writable"; }) "nix-shell-writable-home" "home directory is writable" ]
    [ (shellImage "nix-shell-nonexistent-home" { drv = pkgs.mkShell { }; homeDirectory = "/homeless-shelter"; run = homeIsTheUsers + "[ -e $HOME ] || echo home directory does not exist"; }) "nix-shell-nonexistent-home" "home directory does not exist" ]
    [ (shellImage "nix-shell-build-derivation" { drv = pkgs.hello; run = "buildDerivation\n$out/bin/hello"; }) "nix-shell-build-derivation" "Hello, world!" ]
    [ (shellImage "nix-shell-structured" { drv = pkgs.stdenv.mkDerivation { name = "structured"; __structuredAttrs = true; words = [ "one" "two words" ]; }; run = ''echo "''${words[1]}"''; }) "nix-shell-structured" "two words" ]
  ];
in
{
  nixShell = pkgs.testers.runNixOSTest {
    name = "strata-nix-shell";
    nodes.machine = { virtualisation.podman.enable = true; virtualisation.diskSize = 4096; };
    testScript = ''
      machine.wait_for_unit("multi-user.target")
    '' + builtins.concatStringsSep "" (map (case: ''
      machine.succeed("${builtins.elemAt case 0} | podman load")
      out = machine.succeed("podman run --rm ${builtins.elemAt case 1}")
      assert ${builtins.toJSON (builtins.elemAt case 2)} in out, out
    '') shellCases);
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
