# The scenarios of nixpkgs' nixos/tests/docker-tools.nix that need no VM, under the names of
# the dockerTools examples they use, with host-made packages in place of nixpkgs' (bash,
# hello and redis are busybox scripts here). tests/test_upstream_e2e.py checks what the
# upstream test checks.
{ system ? builtins.currentSystem }:
let
  strata = import ../.. {
    python3 = "/usr/bin/python3"; shell = "/bin/sh"; fakeroot = "/usr/bin/fakeroot-sysv"; inherit system;
  };
  inherit (import ../../examples/host-packages.nix { inherit system; }) package busybox shellScript;
  hello = shellScript "hello" "hello" "echo Hello, world!";
  redis = shellScript "redis" "redis-cli" "echo redis-cli 7.0.0";
  # A package holding a symlink to one of its own files, as nix's bin/nix-daemon -> nix.
  nix = package "nix" ''
    mkdir -p $out/bin
    printf '#!${busybox}/bin/sh\necho nix (Nix) 2.8.0\n' > $out/bin/nix
    chmod 555 $out/bin/nix
    ln -s nix $out/bin/nix-daemon
  '';
  # A store path that is itself a symlink.
  symlink = package "symlink" "ln -s ${hello} $out";
  someData = builtins.toFile "some-data" "some data";
  etc = package "etc" "mkdir -p $out/etc; echo 'root:x:0:0::/:/bin/sh' > $out/etc/passwd";
in
rec {
  helloOnRoot = strata.streamLayeredImage { name = "hello"; tag = "latest"; contents = [ hello ];
    config.Cmd = [ "/bin/hello" ]; };
  helloOnRootNoStore = strata.streamLayeredImage { name = "hello"; tag = "latest"; contents = [ hello ];
    config.Cmd = [ "/bin/hello" ]; includeStorePaths = false; };

  bash = strata.buildImage { name = "bash"; tag = "latest"; copyToRoot = [ busybox ]; };
  bashNoTag = strata.buildImage { name = "bash-no-tag"; copyToRoot = [ busybox ]; };
  bashNoTagLayered = strata.buildLayeredImage { name = "bash-no-tag-layered"; contents = [ busybox ]; };
  bashNoTagStreamLayered = strata.streamLayeredImage { name = "bash-no-tag-stream-layered"; contents = [ busybox ]; };
  unstableDate = strata.buildImage { name = "unstable-date"; tag = "latest"; copyToRoot = [ busybox ];
    created = "now"; };
  unstableDateLayered = strata.buildLayeredImage { name = "unstable-date-layered"; tag = "latest";
    contents = [ busybox ]; created = "now"; };

  inherit nix;
  nixLayered = strata.buildLayeredImage { name = "nix-layered"; tag = "latest"; contents = [ busybox nix ]; };

  layered-image = strata.buildLayeredImage {
    name = "layered-image";
    tag = "latest";
    config.Cmd = [ "${hello}/bin/hello" ];
    contents = [ hello busybox ];
    extraCommands = "mkdir -p tmp; echo layered-image > extraCommands";
  };
  another-layered-image = strata.buildLayeredImage { name = "another-layered-image"; tag = "latest";
    config.Cmd = [ "${hello}/bin/hello" ]; };
  layered-on-top = strata.buildImage { name = "layered-on-top"; tag = "latest"; fromImage = layered-image;
    extraCommands = "mkdir -p tmp; echo layered-on-top > tmp/layered-on-top"; };
  layered-on-top-layered = strata.buildLayeredImage { name = "layered-on-top-layered"; tag = "latest";
    fromImage = layered-image; extraCommands = "mkdir -p tmp; echo on-top-layered > tmp/on-top-layered"; };

  layersOrder =
    let
      layer1 = strata.buildImage { name = "l1"; tag = "latest"; copyToRoot = [ busybox ];
        extraCommands = "mkdir -p tmp; echo layer1 > tmp/layer1; echo layer1 > tmp/layer2; echo layer1 > tmp/layer3"; };
      layer2 = strata.buildImage { name = "l2"; tag = "latest"; fromImage = layer1;
        extraCommands = "mkdir -p tmp; echo layer2 > tmp/layer2; echo layer2 > tmp/layer3"; };
    in
    strata.buildImage { name = "l3"; tag = "latest"; fromImage = layer2;
      extraCommands = "mkdir -p tmp; echo layer3 > tmp/layer3"; };

  environmentVariablesParent = strata.buildImage { name = "parent"; tag = "latest"; copyToRoot = [ busybox ];
    config.Env = [ "FROM_PARENT=true" "LAST_LAYER=parent" ]; };
  environmentVariables = strata.buildImage { name = "child"; tag = "latest"; fromImage = environmentVariablesParent;
    config.Env = [ "FROM_CHILD=true" "LAST_LAYER=child" ]; };
  environmentVariablesLayered = strata.buildLayeredImage { name = "child-layered"; tag = "latest";
    fromImage = environmentVariablesParent; config.Env = [ "FROM_CHILD=true" "LAST_LAYER=child" ]; };

  two-layered-image = strata.buildLayeredImage { name = "two-layered-image"; tag = "latest";
    config.Cmd = [ "${hello}/bin/hello" ]; contents = [ busybox hello ]; maxLayers = 2; };
  bulk-layer = strata.buildLayeredImage { name = "bulk-layer"; tag = "latest"; contents = [ busybox hello redis ];
    maxLayers = 2; };
  layered-bulk-layer = strata.buildLayeredImage { name = "layered-bulk-layer"; tag = "latest";
    fromImage = two-layered-image; contents = [ busybox hello redis ]; maxLayers = 4; };

  no-store-paths = strata.buildLayeredImage { name = "no-store-paths"; tag = "latest";
    extraCommands = "mkdir -p bin; cp ${busybox}/bin/busybox bin/busybox; ln -s busybox bin/ls"; };

  filesInStore = strata.buildLayeredImage { name = "file-in-store"; tag = "latest"; contents = [ busybox ];
    config.Cmd = [ "/bin/cat" someData ]; };

  cross = strata.buildImage { name = "hello-cross"; tag = "latest"; copyToRoot = [ hello ];
    architecture = "arm64"; };

  layeredStoreSymlink = strata.buildLayeredImage { name = "layered-store-symlink"; tag = "latest";
    contents = [ busybox ]; config.Cmd = [ "/bin/sh" "-c" "test -L ${symlink}" ]; } // { inherit symlink; };

  prefixedImage = strata.buildImage { name = "quay.io/nixpkgs/hello"; tag = "latest"; copyToRoot = [ hello ]; };
  prefixedLayeredImage = strata.buildLayeredImage { name = "quay.io/nixpkgs/hello-layered"; tag = "latest";
    contents = [ hello ]; };

  layeredImageWithFakeRootCommands = strata.buildLayeredImage {
    name = "layered-image-with-fake-root-commands";
    tag = "latest";
    contents = [ busybox ];
    fakeRootCommands = "mkdir -p ./home/jane; chown 1000 ./home/jane";
  };

  redisImage = strata.buildImage { name = "redis"; tag = "latest"; copyToRoot = [ busybox redis ]; };
  mergedBashAndRedis = strata.mergeImages [ bash redisImage ];
  mergedBashNoTagAndRedis = strata.mergeImages [ bashNoTag redisImage ];
  mergedBashFakeRoot = strata.mergeImages [ bash layeredImageWithFakeRootCommands ];

  exportBash = strata.exportImage { fromImage = bash; };
}
