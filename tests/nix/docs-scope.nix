# What the Nix examples of README.md and docs/ name without defining (pkgs, app, busybox, ...),
# for tests/test_docs.py, which evaluates every example block in this scope: strata comes from
# the nixpkgs-shaped stand-in set, as users' does from nixpkgs.
{ system ? builtins.currentSystem }:
let
  standIn = import ./stand-in-nixpkgs.nix { inherit system; };
  inherit (import ../../examples/host-packages.nix { inherit system; }) package busybox shellScript;
  library = name: package name "mkdir -p $out/lib; echo ${name} > $out/lib/lib${name}.so";
in
rec {
  pkgs = standIn // {
    # As nixpkgs' hello: a derivation built by a shell from its attributes.
    hello = derivation {
      name = "hello-2.12";
      inherit system;
      builder = "/bin/sh";
      PATH = "/usr/bin:/bin";
      args = [ "-c" "mkdir -p $out/bin; printf '#!/bin/sh\\necho Hello\\n' > $out/bin/hello" ];
    };
  };
  strata = import ../.. { inherit pkgs; };
  inherit busybox;
  app = shellScript "app" "app" "echo app";
  glibc = library "glibc";
  openssl = library "openssl";
  secrets = package "secrets" "mkdir -p $out/share; echo secret > $out/share/secret";
  homeDir = package "home-dir" "mkdir -p $out/home/app; echo hello > $out/home/app/hello";
  image = strata.buildImage { name = "image"; copyToRoot = [ busybox ]; };
  imageA = strata.buildImage { name = "image-a"; tag = "a"; copyToRoot = [ app ]; };
  imageB = strata.buildImage { name = "image-b"; tag = "b"; copyToRoot = [ busybox ]; };
}
