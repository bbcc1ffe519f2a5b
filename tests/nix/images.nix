# The images the end-to-end tests build, one attribute each, from host tools only.
{ system ? builtins.currentSystem }:
let
  strata = import ../.. { python3 = "/usr/bin/python3"; shell = "/bin/sh"; inherit system; };
  inherit (import ../../examples/host-packages.nix { inherit system; }) package busybox;
  # Refers to busybox; carries two identical files (a hard link in the layer) and a long name.
  app = package "app" ''
    mkdir -p $out/bin $out/share/a-directory-name-long-enough-to-need-pax-records/and-then-some-more-characters-beyond-one-hundred
    printf '#!${busybox}/bin/sh\necho "hello from app"\nid -u\n' > $out/bin/app
    chmod 555 $out/bin/app
    echo same > $out/share/one
    echo same > $out/share/two
    echo deep > $out/share/a-directory-name-long-enough-to-need-pax-records/and-then-some-more-characters-beyond-one-hundred/file
  '';
  # A bundle of /etc files that refers to no store path: it adds no /nix.
  etc = package "etc-files" ''
    mkdir -p $out/etc
    echo "root:x:0:0::/:/bin/sh" > $out/etc/passwd
  '';
in
{
  hello = strata.buildImage {
    name = "Strata-Hello";
    copyToRoot = [ busybox app ];
    config = { Cmd = [ "/bin/app" ]; Env = [ "A=1" ]; WorkingDir = "/"; };
  };

  etcOnly = strata.buildImage {
    name = "etc-only";
    tag = "v1";
    copyToRoot = etc;
    compressor = "none";
  };

  # config's store paths come along; owners, times and extraCommands as asked.
  custom = strata.buildImage {
    name = "127.0.0.1:5000/team/custom";
    tag = "latest";
    config.Entrypoint = [ "${app}/bin/app" ];
    uid = 1000; gid = 100; uname = "user"; gname = "users";
    created = "2024-05-01T12:00:00Z";
    mtime = "2001-02-03T04:05:06Z";
    extraCommands = ''
      mkdir -p tmp var/empty
      chmod 1777 tmp
      ln -s /nix/var/run run
    '';
  };

  withNixDB = strata.buildImage {
    name = "with-nix-db";
    tag = "latest";
    copyToRoot = [ busybox app ];
    config.Cmd = [ "${etc}/etc/passwd" ];
    includeNixDB = true;
  };

  badName = strata.buildImage { name = "bad name!"; copyToRoot = etc; };
  badConfig = strata.buildImage { name = "bad-config"; config.WorkingDir = "app"; };
  fifo = strata.buildImage { name = "fifo"; extraCommands = "mkfifo pipe"; };
}
