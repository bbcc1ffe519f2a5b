# A nixpkgs-shaped package set made of host tools, under the attribute names and paths
# strata reads from `pkgs` (default.nix): python3 (with `interpreter`), bash, bashInteractive,
# coreutils, skopeo, fakeroot, proot, zstd, cacert (etc/ssl/certs/ca-bundle.crt), shadow,
# stdenv.hostPlatform.system. What runs during a build links to the host's program (let into
# the sandbox with extra-sandbox-paths); what goes into images is self-contained (a static
# busybox as bashInteractive and as coreutils' env), as nixpkgs' packages are. A renamed attribute or a wrong
# path inside a package fails strata's `pkgs` tests (tests/test_pkgs_e2e.py).
{ system ? builtins.currentSystem }:
let
  inherit (import ../../examples/host-packages.nix { inherit system; }) package;
  # A package whose bin/NAME links to the host program at PATH.
  hostProgram = name: links: package name ''
    mkdir -p $out/bin
    ${builtins.concatStringsSep "\n" (map (link: "ln -s ${link.to} $out/bin/${link.name}") links)}
  '';
  # A static busybox with its applets linked, under other names too (bash).
  busyboxAs = name: extra: package name ''
    mkdir -p $out/bin
    cp /bin/busybox $out/bin/busybox
    for applet in $(/bin/busybox --list) ${extra}; do [ -e $out/bin/$applet ] || ln -s busybox $out/bin/$applet; done
  '';
  python3 = hostProgram "python3-host" [ { name = "python3"; to = "/usr/bin/python3"; } ];
  coreutilsPrograms = builtins.concatStringsSep " " [ "basename" "cat" "chgrp" "chmod" "chown" "cp" "cut" "date"
    "dirname" "du" "echo" "false" "head" "id" "install" "ln" "ls" "mkdir" "mktemp" "mv" "printf" "pwd" "readlink"
    "realpath" "rm" "rmdir" "seq" "sleep" "sort" "stat" "tail" "tee" "test" "touch" "tr" "true" "uname" "uniq" "wc" ];
in
{
  python3 = python3 // { interpreter = "${python3}/bin/python3"; };
  bash = hostProgram "bash-host" [ { name = "bash"; to = "/bin/bash"; } ];
  bashInteractive = busyboxAs "bash-interactive-busybox" "bash";
  # Debian's (dynamically linked, so fakeroot records their chown) for what runs in builds;
  # env, which usrBinEnv puts into images, a static busybox that runs anywhere.
  coreutils = package "coreutils-host" ''
    mkdir -p $out/bin
    cp /bin/busybox $out/bin/env
    for program in ${coreutilsPrograms}; do
      [ -e /usr/bin/$program ] && ln -s /usr/bin/$program $out/bin/$program
    done
  '';
  skopeo = hostProgram "skopeo-host" [ { name = "skopeo"; to = "/usr/bin/skopeo"; } ];
  # Debian's fakeroot is a script that needs getopt and cat on PATH; nixpkgs' is wrapped with them.
  fakeroot = package "fakeroot-host" ''
    mkdir -p $out/bin
    printf '#!/bin/sh\nPATH=/usr/bin:/bin:$PATH exec /usr/bin/fakeroot-sysv "$@"\n' > $out/bin/fakeroot
    chmod 555 $out/bin/fakeroot
  '';
  proot = hostProgram "proot-host" [ { name = "proot"; to = "/usr/bin/proot"; } ];
  zstd = hostProgram "zstd-host" [ { name = "zstd"; to = "/usr/bin/zstd"; } ];
  shadow = hostProgram "shadow-host" (map (name: { inherit name; to = "/usr/sbin/${name}"; })
    [ "useradd" "groupadd" "usermod" "groupmod" "userdel" "groupdel" ]);
  cacert = package "cacert-stand-in" ''
    mkdir -p $out/etc/ssl/certs
    cp ${./stand-in-ca-bundle.crt} $out/etc/ssl/certs/ca-bundle.crt
  '';
  stdenv.hostPlatform.system = system;
}
