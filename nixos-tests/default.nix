# NixOS VM tests, for machines that have nixpkgs and KVM (this project's CI machines have
# neither; its end-to-end tests run the same checks with the host's podman):
#   nix-build nixos-tests -A podman
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
in
{
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
