# Layered images over a closure of eight store paths with shared dependencies:
#   app -> tool-a -> lib-a -> lib-base,  app -> tool-b -> lib-b -> lib-base,  app -> busybox
# `appVersion` changes only the top package, for the rebuild tests; `layerPlan` (a file) is the
# plan `crowded` keeps.
{ system ? builtins.currentSystem, appVersion ? "1", layerPlan ? null }:
let
  strata = import ../.. { python3 = "/usr/bin/python3"; shell = "/bin/sh"; fakeroot = "/usr/bin/fakeroot-sysv"; inherit system; };
  inherit (import ../../examples/host-packages.nix { inherit system; }) package busybox shellScript;
  # A library of `size` KiB of bytes that differ per name, referring to `refs`.
  library = name: size: refs: package name ''
    mkdir -p $out/lib
    head -c ${toString size}K /dev/zero | tr '\0' '${builtins.substring 0 1 name}' > $out/lib/${name}.so
    echo "${builtins.concatStringsSep " " refs}" > $out/lib/${name}.deps
  '';

  libBase = library "lib-base" 512 [ ];
  libA = library "lib-a" 256 [ libBase ];
  libB = library "lib-b" 128 [ libBase ];
  toolA = library "tool-a" 64 [ libA ];
  toolB = library "tool-b" 32 [ libB ];
  app = shellScript "app" "app" ''echo "app ${appVersion}"\ncat ${toolA}/lib/tool-a.deps ${toolB}/lib/tool-b.deps'';

  common = {
    name = "Strata-Layered";
    contents = [ app busybox ];
    config.Cmd = [ "/bin/app" ];
  };
  explicitBase = strata.buildLayer { deps = [ libBase busybox ]; name = "base"; };

  # One package of 1,530 small files in 30 directories, an identical licence in each: its
  # layer is written by every worker of the layer derivation in stripes.
  manyFiles = package "many-files" ''
    for d in $(seq 1 30); do
      mkdir -p $out/share/d$d
      for f in $(seq 1 50); do echo "file $d $f" > $out/share/d$d/f$f; done
      echo "the same licence" > $out/share/d$d/licence
    done
  '';
  manyCommon = {
    name = "many-files";
    contents = [ manyFiles busybox ];
    config.Cmd = [ "/bin/sh" "-c" "cat /share/d7/f9; ls /share/d30 | wc -l" ];
  };
in
{
  inherit app busybox libBase libA libB toolA toolB manyFiles;
  many = strata.buildLayeredImage manyCommon;
  manyStream = strata.streamLayeredImage (manyCommon // { tag = "streamed"; });
  manyNoIFD = strata.buildLayeredImage (manyCommon // { importFromDerivation = false; });
  archive = strata.buildLayeredImage common;
  oci = strata.buildLayeredImage (common // { format = "oci"; });
  stream = strata.streamLayeredImage (common // { tag = "streamed"; });
  noIFD = strata.buildLayeredImage (common // { importFromDerivation = false; });
  noIFDOci = strata.buildLayeredImage (common // { importFromDerivation = false; format = "oci"; });
  streamNoIFD = strata.streamLayeredImage (common // { importFromDerivation = false; tag = "streamed"; });
  tight = strata.buildLayeredImage (common // { maxLayers = 3; tag = "tight"; });
  crowded = strata.buildLayeredImage (common // { maxLayers = 4; tag = "crowded"; inherit layerPlan; });
  explicit = strata.buildLayeredImage (common // { layers = [ explicitBase ]; maxLayers = 4; tag = "explicit"; });
  explicitLists = strata.buildLayeredImage (common // { layers = [ [ libBase ] [ toolA ] ]; maxLayers = 5;
    tag = "explicit-lists"; });
  noIFDNixUid = strata.buildLayeredImage (common // { importFromDerivation = false; nixUid = 1000; nixGid = 100;
    tag = "nix-uid"; });
  nixUid = strata.buildLayeredImage (common // { nixUid = 1000; nixGid = 100; tag = "nix-uid"; });
  nixDB = strata.buildLayeredImage (common // { includeNixDB = true; tag = "nix-db"; });
  streamNixDB = strata.streamLayeredImage (common // { initializeNixDatabase = true; tag = "nix-db"; nixUid = 1000; nixGid = 100; });
  fakeRoot = strata.buildLayeredImage (common // { tag = "fakeroot"; uid = 5; gid = 6; uname = "five"; gname = "six";
    extraCommands = "mkdir -p home/app tmp";
    fakeRootCommands = "chown 1000:100 home/app; chown -R 7:7 tmp; chmod 1777 tmp"; });
  # Shares lib-base and busybox with the others, not the app.
  other = strata.buildLayeredImage { name = "other"; contents = [ busybox libB ]; };
}
