# What buildNixShellImage and streamNixShellImage share: an image whose shell is a
# derivation's build environment, as nix-shell makes it. Not part of the API; see those two
# files for the arguments.
#
# The image holds the closure of the derivation's inputs (its attributes name them; its
# outputs are named without being built), the files of builder/nix/nixshell.py (the rc file,
# buildDerivation, passAsFile's files, structured attributes), the build user (declared as
# `users`: no fakeroot), /build owned by it, a world-writable /nix/store and /tmp, /bin/sh
# (the shell) and /usr/bin/env where strata has an envBinary. The config's Env is the
# environment Nix gives the builder (Nix 2.8, local-derivation-goal.cc), with HOME the home
# directory and PATH the shell's directory and buildDerivation's.
plumbing:
{ function, layered }:
{ drv
, name ? null
, tag ? null
, uid ? 1000
, gid ? 1000
, uname ? "nixbld"
, homeDirectory ? "/build"
, shell ? null
, command ? null
, run ? null
, maxLayers ? 100
, compressor ? null
}:
let
  inherit (plumbing) runBuilder baseName;
  fail = why: throw "strata.${function}: ${why}";

  attrs =
    if builtins.isAttrs drv && drv ? drvAttrs then drv.drvAttrs
    else fail "`drv` must be a derivation (its attributes are the environment), got ${plumbing.describe drv}";
  imageName = if name != null then name else "${attrs.name or (fail "`drv` has no name")}-env";
  structured = attrs.__structuredAttrs or false;
  shellPath =
    if shell != null then toString shell
    else if plumbing.binShell != null then toString (plumbing.storeProgram "binShell" function "sh" plumbing.binShell)
    else fail "no `shell`: pass a bash (nixpkgs' bashInteractive is the default when strata has `pkgs`)";
  sandboxBuildDir = "/build";

  # A value as Nix puts it in a builder's environment: a path copied to the store, a list's
  # items joined with spaces, true as "1", false and null as "".
  stringValue = value:
    if builtins.isPath value then "${value}"
    else if builtins.isList value then toString (map stringValue value)
    else toString value;

  outputPaths = builtins.listToAttrs (map
    (output: {
      name = output;
      value = builtins.unsafeDiscardStringContext (drv.${output}.outPath or (fail "`drv` has no output ${output}"));
    })
    (attrs.outputs or [ "out" ]));
  passAsFile = if structured then [ ] else attrs.passAsFile or [ ];
  # The attributes as Nix hands them to a builder: not `args` (the builder's arguments),
  # `__ignoreNulls` or `__structuredAttrs`, nor, with __ignoreNulls (stdenv's), null ones.
  passed = builtins.removeAttrs attrs ([ "args" "__ignoreNulls" "__structuredAttrs" ]
    ++ (if attrs.__ignoreNulls or false then builtins.filter (attr: attrs.${attr} == null) (builtins.attrNames attrs)
        else [ ]));

  # The shell's directory and buildDerivation's (in `out`): the image's PATH, and the rc
  # file's before the setup's.
  staticPathOf = out: "${dirOf shellPath}:${out}/bin";

  files = runBuilder {
    name = "${baseName imageName}-nix-shell";
    command = "nix-shell-files";
    attrs = {
      shell = shellPath;
      staticPath = staticPathOf (builtins.placeholder "out");
      inherit command run;
      drvBuilder = stringValue (attrs.builder or (fail "`drv` has no builder"));
      drvArgs = map stringValue (attrs.args or [ ]);
      passAsFile = builtins.listToAttrs (map (attr: { name = attr; value = stringValue attrs.${attr}; }) passAsFile);
      structuredAttrs = if structured then passed // { outputs = outputPaths; } else null;
    };
  };
  staticPath = staticPathOf files;

  # The derivation's own variables: every attribute (a passAsFile one as NAMEPath, naming
  # its file) and the outputs' paths; with structured attributes, `env` and the files.
  derivationEnv =
    if structured then
      builtins.mapAttrs (_: stringValue) (attrs.env or { }) // {
        NIX_ATTRS_JSON_FILE = "${files}/.attrs.json";
        NIX_ATTRS_SH_FILE = "${files}/.attrs.sh";
      } // outputPaths
    else
      builtins.mapAttrs (_: stringValue) (builtins.removeAttrs passed passAsFile)
      // builtins.listToAttrs
        (map (attr: { name = "${attr}Path"; value = "${files}/pass-as-file/${attr}"; }) passAsFile)
      // outputPaths;
  environment = (if plumbing.caBundle != null then {
    SSL_CERT_FILE = toString (plumbing.storeFile "caBundle" function plumbing.caBundle);
  } else { }) // {
    PATH = staticPath;
    HOME = homeDirectory;
    NIX_STORE = builtins.storeDir;
    NIX_BUILD_CORES = "1";
  } // derivationEnv // {
    NIX_BUILD_TOP = sandboxBuildDir;
    TMPDIR = sandboxBuildDir;
    TEMPDIR = sandboxBuildDir;
    TMP = sandboxBuildDir;
    TEMP = sandboxBuildDir;
    PWD = sandboxBuildDir;
    TERM = "xterm-256color";
  };

  # /bin/sh (the shell), /usr/bin/env, and the directories the build user gets.
  root = plumbing.writeTree "${baseName imageName}-nix-shell-root" ({
    "bin/sh".link = shellPath;
    "build".directory = true;
    "nix/store".directory = true;
  } // (if plumbing.envBinary != null then {
    "usr/bin/env".link = toString (plumbing.storeProgram "envBinary" function "env" plumbing.envBinary);
  } else { }));
in
if command != null && run != null then
  fail "give `command` or `run`, not both (run is a script, command runs in an interactive shell)"
else if compressor != null && function == "streamNixShellImage" then
  fail "`compressor` is buildNixShellImage's: a stream's layers are uncompressed"
else
  layered ({
    name = imageName;
    inherit tag maxLayers;
    contents = [ root ];
    users.${uname} = {
      inherit uid gid;
      home = homeDirectory;
      shell = shellPath;
      description = "Build user";
      # Nix's name for a home that must not exist.
      createHome = homeDirectory != "/homeless-shelter";
    };
    groups.${uname}.gid = gid;
    perms = [
      { path = sandboxBuildDir; regex = "^${sandboxBuildDir}$"; inherit uid gid; }
      { path = "/nix/store"; regex = "^/nix/store$"; mode = "1777"; }
    ];
    config = {
      User = "${toString uid}:${toString gid}";
      # nix-shell runs bash with --rcfile for an interactive shell (and `command`), and the
      # rc file as a script for `run`.
      Cmd = if run == null then [ shellPath "--rcfile" "${files}/rc" ] else [ shellPath "${files}/rc" ];
      WorkingDir = sandboxBuildDir;
      Env = builtins.attrValues (builtins.mapAttrs (name: value: "${name}=${value}") environment);
    };
  } // (if compressor != null then { inherit compressor; } else { }))
