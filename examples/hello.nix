# The example image of the README: a script that says hello, run by a busybox shell.
# Nothing here needs nixpkgs: the packages are made from the host's busybox (busybox-static).
{ strata ? import ../. { python3 = "/usr/bin/python3"; shell = "/bin/sh"; }
, system ? builtins.currentSystem
}:
let
  inherit (import ./host-packages.nix { inherit system; }) package busybox;

  app = package "hello-app" ''
    mkdir -p $out/bin
    printf '#!${busybox}/bin/sh\necho "Hello from strata: $GREETING"\n' > $out/bin/app
    chmod 555 $out/bin/app
  '';
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
