# The example image of the README: a script that says hello, run by a busybox shell.
# Nothing here needs nixpkgs: the packages are made from the host's busybox (busybox-static).
{ strata ? import ../. { python3 = "/usr/bin/python3"; shell = "/bin/sh"; }
, system ? builtins.currentSystem
}:
let
  hostTools = { PATH = "/usr/bin:/bin"; };

  busybox = derivation (hostTools // {
    name = "busybox";
    inherit system;
    builder = "/bin/sh";
    args = [ "-c" ''
      mkdir -p $out/bin
      cp /bin/busybox $out/bin/busybox
      for applet in sh echo cat ls; do ln -s busybox $out/bin/$applet; done
    '' ];
  });

  app = derivation (hostTools // {
    name = "hello-app";
    inherit system;
    builder = "/bin/sh";
    args = [ "-c" ''
      mkdir -p $out/bin
      printf '#!${busybox}/bin/sh\necho "Hello from strata: $GREETING"\n' > $out/bin/app
      chmod 555 $out/bin/app
    '' ];
  });
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
