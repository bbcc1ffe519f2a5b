# Images over base images: strata's own, a gzipped one, a merged-/usr one, layered ones.
{ system ? builtins.currentSystem }:
let
  strata = import ../.. { python3 = "/usr/bin/python3"; shell = "/bin/sh"; inherit system; };
  inherit (import ../../examples/host-packages.nix { inherit system; }) package busybox shellScript;
  # Shell that links busybox's applets from the store into the directory `dir`.
  linkApplets = dir: "for applet in sh echo cat ls env; do ln -s ${busybox}/bin/$applet ${dir}/$applet; done";
  # Files at / that call busybox from the store: busybox comes along in /nix/store.
  tools = package "tools" ''
    mkdir -p $out/bin $out/etc
    ${linkApplets "$out/bin"}
    echo "base" > $out/etc/motd
  '';
  hello = shellScript "hello" "hello" ''echo "hello on $A $B $C"'';
  # A merged-/usr root: /bin is a link to usr/bin.
  usrMerged = package "usr-merged" ''
    mkdir -p $out/usr/bin
    ln -s usr/bin $out/bin
    ${linkApplets "$out/usr/bin"}
  '';
  app = shellScript "app" "app" ''echo "app through the link"'';
in
rec {
  base = strata.buildImage {
    name = "base-one";
    tag = "v1";
    copyToRoot = tools;
    config = { Env = [ "A=1" "B=2" ]; Cmd = [ "/bin/sh" "-c" "echo base" ]; WorkingDir = "/"; };
  };
  # The same base, gzipped as a whole (as dockerTools' buildImage writes it).
  baseGzipped = package "base-one.tar.gz" "gzip -n < ${base} > $out";

  onBase = strata.buildImage {
    name = "on-base";
    tag = "v2";
    fromImage = baseGzipped;
    copyToRoot = [ tools hello ];
    config = { Env = [ "B=3" "C=4" ]; Cmd = [ "/bin/hello" ]; };
  };

  # Uncompressed layers, merged below with gzipped ones.
  # keepContentsDirlinks keeps the link (rsync -aK); without it, /bin would be copied as a directory.
  usrBase = strata.buildImage { name = "usr-base"; tag = "v1"; copyToRoot = usrMerged; compressor = "none";
    keepContentsDirlinks = true; };
  onUsrBase = strata.buildImage { name = "on-usr-base"; tag = "v1"; fromImage = usrBase; copyToRoot = app;
    config.Cmd = [ "/bin/app" ]; };
  layeredOnUsrBase = strata.buildLayeredImage { name = "layered-on-usr-base"; tag = "v1"; fromImage = usrBase;
    contents = app; config.Cmd = [ "/bin/app" ]; maxLayers = 4; };
  exportedUsr = strata.exportImage { fromImage = onUsrBase; };
  merged = strata.mergeImages [ onBase baseGzipped usrBase ];
  # base and baseGzipped are one image: written once. Another image named base-one:v1 clashes.
  mergedTwice = strata.mergeImages [ base baseGzipped usrBase ];
  mergedClash = strata.mergeImages [ base (strata.buildImage { name = "base-one"; tag = "v1"; copyToRoot = app; }) ];
  fromMerged = strata.buildImage { name = "from-merged"; tag = "v1"; fromImage = merged; fromImageName = "usr-base";
    fromImageTag = "v1"; copyToRoot = app; config.Cmd = [ "/bin/app" ]; };
  # Nix databases merged with a base image's.
  dbBase = strata.buildImage { name = "db-base"; tag = "v1"; copyToRoot = tools; includeNixDB = true; };
  onDbBase = strata.buildImage { name = "on-db-base"; tag = "v1"; fromImage = dbBase; includeNixDB = true;
    config.Cmd = [ "${hello}/bin/hello" ]; };
  layeredOnDbBase = strata.buildLayeredImage { name = "layered-on-db-base"; tag = "v1"; fromImage = dbBase;
    contents = app; includeNixDB = true; config.Cmd = [ "/bin/app" ]; };

  streamOnBase = strata.streamLayeredImage { name = "stream-on-base"; tag = "v1"; fromImage = onBase;
    contents = hello; config.Cmd = [ "/bin/hello" ]; };
}
