# Packages made from the host's tools (Debian's busybox-static and coreutils), for the example
# and the tests, which need no nixpkgs.
{ system ? builtins.currentSystem }:
rec {
  # A store path made by a shell script run with the host's tools.
  package = name: script: derivation {
    inherit name system;
    builder = "/bin/sh";
    args = [ "-c" script ];
    PATH = "/usr/bin:/bin";
  };

  # The host's static busybox, with a few applets linked to it.
  busybox = package "busybox" ''
    mkdir -p $out/bin
    cp /bin/busybox $out/bin/busybox
    for applet in sh echo cat ls id stat env wc; do ln -s busybox $out/bin/$applet; done
  '';

  # A package holding one busybox shell script, bin/`command`: `lines` as printf reads them
  # (\n between lines).
  shellScript = name: command: lines: package name ''
    mkdir -p $out/bin
    printf '#!${busybox}/bin/sh\n${lines}\n' > $out/bin/${command}
    chmod 555 $out/bin/${command}
  '';
}
