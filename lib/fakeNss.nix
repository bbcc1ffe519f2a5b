# fakeNss: /etc/passwd and /etc/group with root and nobody, /etc/nsswitch.conf and
# /var/empty, for programs that look users up (nginx, say), as nixpkgs' fakeNss. Lines to
# add go between root and nobody:
#   strata.fakeNss.override { extraPasswdLines = [ "app:x:1000:1000::/home/app:/bin/sh" ];
#                             extraGroupLines = [ "app:x:1000:" ]; }
plumbing:
{ extraPasswdLines ? [ ], extraGroupLines ? [ ] }:
let
  withLines = first: extra: last: builtins.concatStringsSep "" (map (line: line + "\n") ([ first ] ++ extra ++ [ last ]));
in
plumbing.writeTree "fake-nss" {
  "etc/passwd".text = withLines "root:x:0:0:root user:/var/empty:/bin/sh" extraPasswdLines
    "nobody:x:65534:65534:nobody:/var/empty:/bin/sh";
  "etc/group".text = withLines "root:x:0:" extraGroupLines "nobody:x:65534:";
  "etc/nsswitch.conf".text = "hosts: files dns\n";
  "var/empty".directory = true;
}
