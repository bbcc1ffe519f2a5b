# dockerTools users' expressions, for the drop-in tests (tests/test_dockertools_e2e.py): what
# nixpkgs' nixos/tests/docker-tools.nix checks, with host-made packages in place of nixpkgs'.
{ system ? builtins.currentSystem }:
let
  strata = import ../.. {
    python3 = "/usr/bin/python3"; shell = "/bin/sh"; fakeroot = "/usr/bin/fakeroot-sysv"; inherit system;
  };
  inherit (import ../../examples/host-packages.nix { inherit system; }) package busybox shellScript;
  # The helpers' parts from the host: a static busybox is a shell and an env in any image.
  withHelpers = import ../.. {
    python3 = "/usr/bin/python3"; shell = "/bin/sh"; inherit system;
    binShell = "/bin/busybox"; envBinary = "/bin/busybox"; caBundle = toString ./stand-in-ca-bundle.crt;
  };
  modeZeroCommands = "mkdir etc; echo secret > etc/shadow; chmod 0000 etc/shadow; mkdir -p locked/in;"
    + " echo kept > locked/in/file; chmod 0000 locked/in/file locked/in locked";
  hello = shellScript "hello" "hello" "echo hello from hello";
  other = shellScript "other" "other" "echo hello from other";
  # As buildEnv makes it when one package alone provides bin: bin is a symlink into it.
  helloEnv = package "hello-env" ''
    mkdir -p $out
    ln -s ${hello}/bin $out/bin
  '';
  # A store path that is itself a symlink to a package.
  helloAlias = package "hello-alias" "ln -s ${hello} $out";
  # A name long enough that ustar splits it, in a package whose files the top layer links.
  deep = package "deep" ''
    dir=$out/share/a-directory-name-that-is-long/and-another-one-long-enough/to-pass-one-hundred-bytes
    mkdir -p $dir
    echo deep > $dir/file
  '';
  # zstd layers through the zstd program (this Python's standard library has none).
  withZstd = import ../.. { python3 = "/usr/bin/python3"; shell = "/bin/sh"; zstd = "/usr/bin/zstd"; inherit system; };
  zstdImage = withZstd.buildImage { name = "zstd-image"; tag = "latest"; copyToRoot = [ busybox hello ];
    compressor = "zstd"; config.Cmd = [ "/bin/hello" ]; };
  # Host programs for commands run with the image's root as /: dynamically linked, so that
  # fakeroot records their chown; their libraries are bound in through prootBinds.
  hostTools = package "host-tools" ''
    mkdir -p $out/bin
    cp /bin/dash /usr/bin/chown /usr/bin/ln /usr/bin/mkdir /usr/bin/touch /usr/bin/rm /usr/sbin/groupadd \
      /usr/sbin/useradd $out/bin
  '';
  withProot = import ../.. {
    python3 = "/usr/bin/python3"; shell = "/bin/sh"; fakeroot = "/usr/bin/fakeroot-sysv"; proot = "/usr/bin/proot";
    prootBinds = [ "/lib" "/lib64" "/usr/lib/x86_64-linux-gnu/libfakeroot" ]; inherit system;
  };
  # runAsRoot's tools from the host, as nixpkgs' would come from the store: a shell (dash: a
  # static busybox's applets would not be faked), shadow's useradd and coreutils on PATH,
  # their libraries bound in.
  withRoot = import ../.. {
    python3 = "/usr/bin/python3"; shell = "${hostTools}/bin/dash"; fakeroot = "/usr/bin/fakeroot-sysv"; proot = "/usr/bin/proot";
    prootBinds = [ "/lib" "/lib64" "/usr/lib/x86_64-linux-gnu/libfakeroot" ]; shadow = "${hostTools}/bin";
    toolsPath = "${hostTools}/bin:/bin"; inherit system;
  };
  rootBase = withRoot.buildImage {
    name = "root-base";
    tag = "v1";
    copyToRoot = [ busybox (package "base-files" ''
      mkdir -p $out/etc $out/opt/gone
      echo old > $out/etc/old
      echo base > $out/etc/motd
      echo x > $out/opt/gone/x
    '') ];
  };
  usersBase = strata.buildImage { name = "users-base"; tag = "v1"; copyToRoot = busybox; users.base = { uid = 900; }; };
  # perms (#13): a library given no fakeroot and no proot, whose commands get an empty PATH.
  bare = import ../.. { python3 = "/usr/bin/python3"; shell = "/bin/sh"; toolsPath = "/var/empty"; inherit system; };
  secret = package "secret" ''
    mkdir -p $out/share
    echo secret > $out/share/secret
  '';
  homeDir = package "home-dir" ''
    mkdir -p $out/home/app/data
    echo hello > $out/home/app/data/hello
  '';
  permsArgs = {
    tag = "latest";
    contents = [ busybox secret ];
    users.app = { uid = 1000; groups = [ "readers" ]; };
    users.other = { uid = 1001; };
    groups.readers.gid = 2000;
    perms = [ { path = secret; mode = "0750"; gid = 2000; gname = "readers"; } ];
    config = { User = "app"; Env = [ "SECRET=${secret}/share/secret" ]; };
  };
  permsLayered = bare.buildLayeredImage (permsArgs // { name = "perms-layered"; });
  permsOnBase = bare.buildImage {
    name = "perms-on-base";
    tag = "latest";
    fromImage = usersBase;
    copyToRoot = homeDir;
    users.app = { uid = 1000; groups = [ "readers" ]; };
    groups.readers.gid = 2000;
    perms = [
      { path = secret; mode = "0750"; gid = 2000; }
      { path = homeDir; regex = "/home/app(/|$)"; uid = 1000; gid = 1000; }
    ];
    config = { User = "app"; Env = [ "SECRET=${secret}/share/secret" ]; };
  };
  webNss = strata.fakeNss.override { extraPasswdLines = [ "web:x:800:800::/var/empty:/bin/sh" ];
    extraGroupLines = [ "web:x:800:" ]; };
  nssBase = strata.buildLayeredImage { name = "nss-base"; tag = "v1"; contents = [ busybox webNss ]; };
  whiteout = package "whiteout" ''
    mkdir -p $out/etc
    touch $out/etc/.wh.passwd
  '';
in
{
  # A buildEnv-like package whose bin is a link, and one with a real bin/: one /bin, both files.
  envAndPackage = strata.buildImage {
    name = "env-and-package";
    tag = "latest";
    copyToRoot = [ busybox helloEnv other ];
    config.Cmd = [ "/bin/hello" ];
  };
  envAndPackageLayered = strata.buildLayeredImage {
    name = "env-and-package-layered";
    tag = "latest";
    contents = [ busybox helloEnv other ];
    config.Cmd = [ "/bin/hello" ];
  };
  symlinkContents = strata.buildLayeredImage {
    name = "symlink-contents";
    tag = "latest";
    contents = [ busybox helloAlias ];
    config.Cmd = [ "/bin/hello" ];
  };
  symlinkCopyToRoot = strata.buildImage {
    name = "symlink-copy-to-root";
    tag = "latest";
    copyToRoot = [ busybox helloAlias ];
    config.Cmd = [ "/bin/hello" ];
  };

  # extraCommands that write their working directory: the same in every build.
  pwdInFile = strata.buildImage { name = "pwd-in-file"; tag = "latest"; extraCommands = "pwd > where"; };
  pwdInFileLayered = strata.buildLayeredImage { name = "pwd-in-file-layered"; tag = "latest";
    extraCommands = "pwd > where"; };

  # Files and directories of mode 0000 (Fedora's /etc/shadow is one), which the build's user cannot read.
  modeZero = strata.buildImage { name = "mode-zero"; tag = "latest"; extraCommands = modeZeroCommands; };
  modeZeroLayered = strata.buildLayeredImage { name = "mode-zero-layered"; tag = "latest"; contents = [ busybox ];
    extraCommands = modeZeroCommands; };
  modeZeroFakeRoot = strata.buildLayeredImage { name = "mode-zero-fakeroot"; tag = "latest"; contents = [ busybox ];
    fakeRootCommands = modeZeroCommands + "; chown 0:42 etc/shadow"; };

  # Files dated after 2242 (the 12-byte ustar field ends there; runtimes end at 2262), and links whose names
  # ustar splits.
  farFuture = strata.buildLayeredImage {
    name = "far-future";
    tag = "latest";
    contents = [ busybox deep ];
    mtime = "2250-01-01T00:00:00Z";  # after 2242: a PAX record
    config.Cmd = [ "/bin/sh" "-c" "cat /share/*/*/*/file; stat -c %Y /share/*/*/*/file" ];
  };
  # nix2container's default creation time, before 1970.
  yearOne = strata.buildImage { name = "year-one"; tag = "latest"; copyToRoot = busybox; created = "0001-01-01T00:00:00Z"; };

  # Upstream's bashLayeredWithUser: uid/gid own the store, which a non-root user can read.
  layeredWithUser = strata.buildLayeredImage {
    name = "layered-with-user";
    tag = "latest";
    contents = [ busybox ];
    uid = 999; gid = 998; uname = "somebody"; gname = "somegroup";
  };

  # Field names in any case and a string Cmd, as Docker reads them.
  configAsDockerReadsIt = strata.buildLayeredImage {
    name = "config-as-docker-reads-it";
    tag = "latest";
    contents = [ busybox hello ];
    config = { cmd = "/bin/hello"; workingdir = "/bin"; Healthcheck = { Test = [ "CMD" "/bin/hello" ]; Retries = 2; };
      env = [ "A=1" ]; };
  };

  # dockerTools' helpers, fakeNss with a user through override.
  helpers = withHelpers.buildImage {
    name = "helpers";
    tag = "latest";
    copyToRoot = with withHelpers; [ binSh usrBinEnv caCertificates
      (fakeNss.override { extraPasswdLines = [ "app:x:1000:1000::/home/app:/bin/sh" ]; extraGroupLines = [ "app:x:1000:" ]; }) ];
    config = {
      User = "app";
      Cmd = [ "/usr/bin/env" "GREETING=hi" "/bin/sh" "-c"
        "echo $GREETING $HOME; while read line; do echo $line; done < /etc/passwd; [ -f /etc/pki/tls/certs/ca-bundle.crt ] && echo ca" ];
    };
  };

  # Scripts that extraCommands write, which call a shell no package of the image holds: the
  # image takes what the layer's files name, as dockerTools takes its layer's closure.
  commandsClosure = strata.buildImage {
    name = "commands-closure";
    tag = "latest";
    extraCommands = ''
      mkdir bin
      printf '#!${busybox}/bin/sh\necho run by the shell extraCommands named\n' > bin/run
      chmod 555 bin/run
    '';
    config.Cmd = [ "/bin/run" ];
  };
  commandsClosureLayered = strata.streamLayeredImage {
    name = "commands-closure-layered";
    tag = "latest";
    contents = [ hello ];
    extraCommands = "mkdir -p usr/bin; ln -s ${busybox}/bin/sh usr/bin/sh";
    fakeRootCommands = "printf '#!${busybox}/bin/sh\necho from fakeRootCommands\n' > start; chmod 555 start";
    config.Cmd = [ "/start" ];
  };
  # An explicit layer whose copied file names a package: the image holds that package.
  explicitCopyToRoot = strata.buildLayeredImage {
    name = "explicit-copy-to-root";
    tag = "latest";
    layers = [ (strata.buildLayer { copyToRoot = [ hello ]; }) ];
    config.Cmd = [ "/bin/hello" ];
  };

  # zstd images, and one as a base.
  inherit zstdImage;
  zstdLayered = withZstd.buildLayeredImage { name = "zstd-layered"; tag = "latest"; contents = [ busybox hello ];
    compressor = "zstd"; format = "oci"; config.Cmd = [ "/bin/hello" ]; };
  onZstdBase = withZstd.buildImage { name = "on-zstd-base"; tag = "latest"; fromImage = zstdImage;
    copyToRoot = other; config.Cmd = [ "/bin/other" ]; };

  # Upstream's layeredImageWithFakeRootCommands, with enableFakechroot: absolute paths land
  # in the image, chown is kept.
  fakechroot = withProot.buildLayeredImage {
    name = "fakechroot";
    tag = "latest";
    contents = [ busybox ];
    enableFakechroot = true;
    fakeRootCommands = ''
      ${hostTools}/bin/mkdir -p /home/jane /usr/bin
      ${hostTools}/bin/chown 1000 /home/jane
      ${hostTools}/bin/ln -s /bin/sh /usr/bin/sh
      [ "$(pwd)" = / ]
    '';
  };
  fakechrootWithoutProot = strata.buildLayeredImage { name = "no-proot"; enableFakechroot = true;
    fakeRootCommands = "true"; };

  # Upstream's nginx and runAsRootExtraCommands examples: users made with shadowSetup,
  # useradd and groupadd, a directory chowned to one, files deleted from the base.
  runAsRoot = withRoot.buildImage {
    name = "run-as-root";
    tag = "latest";
    fromImage = rootBase;
    copyToRoot = other;
    runAsRoot = ''
      ${withRoot.shadowSetup}
      groupadd --system nginx
      useradd --system --gid nginx nginx
      mkdir -p /var/log/nginx
      chown nginx:nginx /var/log/nginx
      rm /etc/old
      rm -r /opt/gone
      echo runAsRoot > /runAsRoot
    '';
    extraCommands = "echo extraCommands > extraCommands";
    config.Cmd = [ "/bin/other" ];
  };
  runAsRootWithoutProot = strata.buildImage { name = "no-proot"; copyToRoot = busybox; runAsRoot = "true"; };

  # A layeringPipeline as the manual shows one: busybox and what it needs apart, the rest by popularity.
  pipeline = strata.buildLayeredImage {
    name = "pipeline";
    tag = "latest";
    contents = [ busybox hello other ];
    layeringPipeline = [
      [ "subcomponent_out" [ busybox ] ]
      [ "over" "rest" [ "pipe" [ [ "popularity_contest" ] [ "limit_layers" 1 ] ] ] ]
    ];
    config.Cmd = [ "/bin/hello" ];
  };
  pipelineUnknownStep = strata.buildLayeredImage { name = "pipeline-unknown"; contents = [ busybox ];
    layeringPipeline = [ [ "shuffle" ] ]; };

  # Images for two platforms in one index (the arm64 one holds amd64 busybox: it is never run).
  multiArch = strata.buildMultiArchImage {
    name = "multi-arch";
    tag = "v1";
    images = [
      (strata.buildLayeredImage { name = "multi-arch"; tag = "amd64"; contents = [ busybox hello ]; config.Cmd = [ "/bin/hello" ]; })
      (strata.buildImage { name = "multi-arch"; tag = "arm64"; copyToRoot = [ busybox ]; architecture = "arm64";
        variant = "v8"; })
    ];
  };
  multiArchTwice = strata.buildMultiArchImage {
    name = "twice";
    images = [ (strata.buildImage { name = "a"; copyToRoot = busybox; }) (strata.buildImage { name = "b"; copyToRoot = hello; }) ];
  };

  # copyTo through skopeo, for the destinations strata leaves to it.
  copyThroughSkopeo = (import ../.. { python3 = "/usr/bin/python3"; skopeo = "/usr/bin/skopeo"; inherit system; }).buildImage {
    name = "through-skopeo"; tag = "v1"; copyToRoot = busybox; };

  # Declared users (#13): no fakeroot, no VM; over a base that has its own.
  withUsers = strata.buildLayeredImage {
    name = "with-users";
    tag = "latest";
    contents = [ busybox ];
    users.app = { uid = 1000; groups = [ "staff" ]; };
    groups.staff.gid = 50;
    config.User = "app";
  };
  usersOnBase = strata.buildImage { name = "users-on-base"; tag = "latest"; fromImage = usersBase;
    users.app = { uid = 1000; }; config.User = "app"; };
  inherit permsLayered permsOnBase;
  permsStream = bare.streamLayeredImage (permsArgs // { name = "perms-stream"; });
  permsWithoutIfd = bare.buildLayeredImage (permsArgs // { name = "perms-without-ifd"; importFromDerivation = false; });
  # Modes that keep the store files' executable bits, as the Nix database's NAR hashes need.
  permsWithNixDb = bare.buildLayeredImage (permsArgs // {
    name = "perms-nix-db";
    includeNixDB = true;
    perms = [
      { path = secret; regex = "-secret(/share)?$"; mode = "0750"; gid = 2000; }
      { path = "${secret}/share/secret"; mode = "0640"; gid = 2000; }
    ];
  });
  overPermsBase = bare.buildImage { name = "over-perms-base"; tag = "latest"; fromImage = permsLayered;
    copyToRoot = homeDir; config.User = "app"; };
  permsExported = bare.exportImage { fromImage = permsLayered; };
  permsMerged = bare.mergeImages [ permsLayered permsOnBase ];
  permsTypo = bare.buildLayeredImage { name = "perms-typo"; contents = [ secret ];
    perms = [ { path = secret; regex = "/secrte$"; mode = "0750"; } ]; };
  permsLayer = (bare.buildImage { name = "perms-layer"; copyToRoot = homeDir; users.app.uid = 1000;
    perms = [ { path = secret; mode = "0700"; } { path = "/home/app/data"; mode = "0700"; uid = 1000; } ];
    config.Env = [ "S=${secret}" ]; }).layer;
  permsOfBaseFiles = bare.buildImage { name = "perms-of-base-files"; fromImage = permsLayered;
    config.Env = [ "S=${secret}" ]; perms = [ { path = secret; mode = "0700"; } ]; };
  permsNowhere = bare.buildLayeredImage { name = "perms-nowhere"; contents = [ busybox ];
    perms = [ { path = secret; mode = "0750"; } ]; };
  # fakeNss's accounts, linked into the store (as dockerTools' contents and fakeNss make
  # them): declared users are added to them, in the same layer and over a base.
  usersOverLinkedNss = strata.buildImage { name = "users-over-linked-nss"; tag = "v1"; fromImage = nssBase;
    users.app.uid = 1000; };
  usersBesideLinkedNss = strata.buildLayeredImage { name = "users-beside-linked-nss"; tag = "v1";
    contents = [ busybox webNss ]; users.app.uid = 1000; };
  usersClash = strata.buildImage { name = "users-clash"; fromImage = usersBase; users.other = { uid = 900; }; };

  # A stream, for -t/--repo_tag and its progress lines.
  stream = strata.streamLayeredImage { name = "streamed"; tag = "v1"; contents = [ busybox hello ];
    config.Cmd = [ "/bin/hello" ]; };

  # Debian's /usr/bin/fakeroot links through /etc/alternatives, which the sandbox does not hold.
  invisibleFakeroot = (import ../.. { python3 = "/usr/bin/python3"; shell = "/bin/sh"; fakeroot = "/usr/bin/fakeroot";
    inherit system; }).buildLayeredImage { name = "invisible-fakeroot"; fakeRootCommands = "touch x"; };

  whiteoutInCopyToRoot = strata.buildImage { name = "whiteout"; copyToRoot = whiteout; };
  mtime2300 = strata.buildLayeredImage { name = "mtime-2300"; contents = busybox; mtime = "2300-01-01T00:00:00Z"; };
}
