# Nix shell images (tests/test_nix_shell_e2e.py): the cases of nixpkgs'
# nixos/tests/docker-tools-nix-shell.nix, with host-made stand-ins for nixpkgs' parts: the
# host's bash (run through its own loader, with its libraries), a small `setup` in the role
# of stdenv's, host busybox as the tools. No fakeroot, no proot.
{ system ? builtins.currentSystem }:
let
  strata = import ../.. { python3 = "/usr/bin/python3"; inherit system; };
  inherit (import ../../examples/host-packages.nix { inherit system; }) package busybox shellScript;

  # Debian's bash, dynamically linked, made to run in any image: bin/bash runs it through
  # the loader copied beside it.
  bash = package "host-bash" ''
    mkdir -p $out/bin $out/lib $out/libexec
    cp /bin/bash $out/libexec/bash
    cp /lib/x86_64-linux-gnu/libtinfo.so.6 /lib/x86_64-linux-gnu/libc.so.6 /lib64/ld-linux-x86-64.so.2 $out/lib/
    printf '#!${busybox}/bin/sh\nexec %s/lib/ld-linux-x86-64.so.2 --library-path %s/lib %s/libexec/bash "$@"\n' \
      $out $out $out > $out/bin/bash
    chmod 555 $out/bin/bash
  '';

  # Every applet of the host's static busybox, as the tools stdenv puts on PATH.
  tools = package "busybox-tools" ''
    mkdir -p $out/bin
    cp /bin/busybox $out/bin/busybox
    for applet in $(/bin/busybox --list); do [ -e $out/bin/$applet ] || ln -s busybox $out/bin/$applet; done
  '';

  # In the role of nixpkgs' stdenv: its setup puts the tools and the inputs' bin on PATH,
  # reads structured attributes, and has runHook and genericBuild.
  stdenv = package "stand-in-stdenv" ''
    mkdir -p $out
    cat > $out/setup <<'EOF'
    if [ -n "''${NIX_ATTRS_SH_FILE:-}" ]; then
      source "$NIX_ATTRS_SH_FILE"
      for output in "''${!outputs[@]}"; do export "$output=''${outputs[$output]}"; done
    fi
    PATH=${tools}/bin
    for input in ''${nativeBuildInputs[@]:-} ''${buildInputs[@]:-}; do
      if [ -d "$input/bin" ]; then PATH=$input/bin:$PATH; fi
    done
    export PATH
    runHook() { local hook=$1; eval "''${!hook:-}"; }
    genericBuild() { runHook buildPhase; runHook installPhase; }
    EOF
  '';

  hello = shellScript "hello" "hello" "echo Hello, world!";

  # As nixpkgs' mkShell: a derivation that is not meant to be built.
  mkShell = attrs: derivation ({
    name = "nix-shell";
    inherit system stdenv;
    __ignoreNulls = true;
    unset = null;
    builder = "${bash}/bin/bash";
    args = [ "-c" "echo a shell is not built; exit 1" ];
  } // attrs);

  # As a stdenv.mkDerivation: built by buildDerivation inside the image.
  helloDrv = derivation {
    name = "hello";
    inherit system stdenv;
    builder = "${bash}/bin/bash";
    args = [ "-e" (builtins.toFile "builder.sh" "source $stdenv/setup\ngenericBuild\n") ];
    installPhase = ''
      mkdir -p $out/bin
      printf '#!${busybox}/bin/sh\necho Hello, world!\n' > $out/bin/hello
      chmod +x $out/bin/hello
    '';
  };

  shellImage = name: args: strata.streamNixShellImage ({ inherit name; tag = "latest"; shell = "${bash}/bin/bash"; } // args);
  inherit (import ./nix-shell-scripts.nix) interactive homeIsTheUsers;
in
{
  basic = shellImage "nix-shell-basic" { drv = helloDrv; };
  hook = shellImage "nix-shell-hook" { drv = mkShell { shellHook = "echo 'This is the shell hook!'\nexit"; }; };
  inputs = shellImage "nix-shell-inputs" { drv = mkShell { nativeBuildInputs = [ hello ]; }; command = "hello"; };
  passAsFile = shellImage "nix-shell-pass-as-file" {
    drv = mkShell { str = "this is a string"; passAsFile = [ "str" ]; };
    command = ''cat "$strPath"'';
  };
  run = shellImage "nix-shell-run" { drv = mkShell { }; run = interactive; };
  command = shellImage "nix-shell-command" { drv = mkShell { }; command = interactive; };
  writableHome = shellImage "nix-shell-writable-home" {
    drv = mkShell { };
    run = homeIsTheUsers + ''
      if ! touch $HOME/test-file; then
        echo "home directory is not writable"
        exit 1
      fi
      echo "home directory is writable"
    '';
  };
  nonexistentHome = shellImage "nix-shell-nonexistent-home" {
    drv = mkShell { };
    homeDirectory = "/homeless-shelter";
    run = homeIsTheUsers + ''
      if [ -e $HOME ]; then
        echo "home directory exists"
        exit 1
      fi
      echo "home directory doesn't exist"
    '';
  };
  buildDerivation = shellImage "nix-shell-build-derivation" {
    drv = helloDrv;
    run = ''
      buildDerivation
      $out/bin/hello
    '';
  };
  # strata's own: structured attributes (dockerTools refuses them), and the built image.
  structured = shellImage "nix-shell-structured" {
    drv = mkShell {
      __structuredAttrs = true;
      words = [ "one" "two words" ];
      table = { key = "it's a value"; };
      nested = { list = [ 1 2 ]; };
      nativeBuildInputs = [ hello ];
    };
    run = ''
      echo "''${words[1]}|''${table[key]}|''${nested:-none}|''${unset-unset}|''${args-no args}|$(basename $out)"
      hello
      grep -c '"list"' $NIX_ATTRS_JSON_FILE
    '';
  };
  # The default shell from a host file (binShell): a static busybox, which runs as the applet its name says.
  busyboxShell = (import ../.. { python3 = "/usr/bin/python3"; binShell = "/bin/busybox"; inherit system; })
    .streamNixShellImage {
      name = "nix-shell-busybox";
      tag = "latest";
      drv = mkShell { stdenv = package "posix-stdenv" "mkdir $out; echo 'PATH=${tools}/bin; export PATH' > $out/setup"; };
      run = "echo run by the shell";
    };
  built = strata.buildNixShellImage { drv = helloDrv; tag = "latest"; shell = "${bash}/bin/bash"; compressor = "none"; };

  # Errors: named, at evaluation.
  notADerivation = strata.streamNixShellImage { drv = hello.outPath; shell = "${bash}/bin/bash"; };
  both = strata.streamNixShellImage { drv = helloDrv; shell = "${bash}/bin/bash"; command = "a"; run = "b"; };
  noShell = strata.streamNixShellImage { drv = helloDrv; };
}
