# shadowSetup: the shell snippet dockerTools' users put before groupadd and useradd (in
# fakeRootCommands): shadow's tools on PATH (strata's `shadow`, nixpkgs' shadow), and
# /etc/passwd, /etc/shadow, /etc/group, /etc/gshadow with root, /etc/pam.d/other and
# /etc/login.defs made where they are missing. It works on / as the commands see it.
plumbing:
if plumbing.shadow == null then
  throw "strata.shadowSetup: no shadow; pass `pkgs`, or `shadow` (the directory of groupadd and useradd) to strata"
else ''
  export PATH=${plumbing.shadow}:$PATH
  mkdir -p /etc/pam.d
  if [ ! -f /etc/passwd ]; then
    echo "root:x:0:0::/root:/bin/sh" > /etc/passwd
    echo "root:!x:::::::" > /etc/shadow
  fi
  if [ ! -f /etc/group ]; then
    echo "root:x:0:" > /etc/group
    echo "root:x::" > /etc/gshadow
  fi
  if [ ! -f /etc/pam.d/other ]; then
    printf 'account sufficient pam_unix.so\nauth sufficient pam_rootok.so\npassword requisite pam_unix.so nullok sha512\nsession required pam_unix.so\n' > /etc/pam.d/other
  fi
  if [ ! -f /etc/login.defs ]; then
    touch /etc/login.defs
  fi
''
