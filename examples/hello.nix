# The example image of the README: a script that says hello, run by a busybox shell.
# Nothing here needs nixpkgs: the packages are made from the host's busybox (busybox-static).
{ strata ? import ../. { python3 = "/usr/bin/python3"; shell = "/bin/sh"; }
, system ? builtins.currentSystem
}:
let
  inherit (import ./host-packages.nix { inherit system; }) busybox shellScript;

  app = shellScript "hello-app" "app" ''echo "Hello from strata: $GREETING"'';
in
strata.buildImage {
  name = "Hello-World";
  copyToRoot = [ busybox app ];
  config = {
    Cmd = [ "/bin/app" ];
    Env = [ "GREETING=a reproducible image" ];
    WorkingDir = "/";
  };
}
