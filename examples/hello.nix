# The example image of the README: a script that says hello, run by a busybox shell.
# Nothing here needs nixpkgs: the packages are made from the host's busybox (busybox-static).
{ strata ? import ../. { python3 = "/usr/bin/python3"; shell = "/bin/sh"; }
, system ? builtins.currentSystem
}:
let
  # A store path made by a shell script with the host's tools.
  package = name: script: derivation {
    inherit name system;
    builder = "/bin/sh";
    args = [ "-c" script ];
    PATH = "/usr/bin:/bin";
  };

  busybox = package "busybox" ''
    mkdir -p $out/bin
    cp /bin/busybox $out/bin/busybox
    for applet in sh echo cat ls; do ln -s busybox $out/bin/$applet; done
  '';

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
