# buildImage: a Docker archive of one layer, as nixpkgs' dockerTools.buildImage makes.
#
# The layer holds the contents of `copyToRoot` at / and, under /nix/store, the closure of
# what those files and `config` refer to (a package that refers to no store path adds no
# /nix). Arguments, with their defaults:
#   name                  image name; lowercased (an invalid name is an error)
#   fromImage             null, or a base image: a Docker archive (compressed or not), an
#                         OCI archive or an OCI layout, from strata, dockerTools, pullImage...
#   fromImageName         the image to take from an archive holding several (null: the first)
#   fromImageTag          its tag (null: any)
#   tag                   null: the hash part of the output path, stable across rebuilds
#   copyToRoot            a derivation or a list of them, copied to / in order
#   contents              deprecated name of copyToRoot (warns)
#   keepContentsDirlinks  false: a symlink to a directory in a package is copied as that
#                         directory (rsync -ak); true: links stay links, and a later
#                         directory is merged into the linked one (rsync -aK)
#   config                the container config: Cmd, Entrypoint, Env, WorkingDir, User, ...
#   architecture          GOARCH name, from `system` (x86_64-linux: amd64)
#   variant               from `system` when architecture is its own (aarch64: v8), else null
#   created               "1970-01-01T00:00:01Z"; "now" makes every build differ
#   mtime                 time of every file: null means SOURCE_DATE_EPOCH, else `created`
#                         (1970-01-01T00:00:01Z when created is "now")
#   uid gid uname gname   owner of the files outside /nix: 0 0 "root" "root"
#   extraCommands         shell run in (a copy of) the layer's root before it is written
#   users groups          { }: declared accounts, e.g. users.app = { uid = 1000; home = "/home/app"; };
#                         groups.staff.gid = 50; (see builder/tree/accounts.py): /etc/passwd, group,
#                         shadow, gshadow, nsswitch.conf, homes owned by their users, /tmp 1777
#   perms                 [ ]: modes and owners of chosen files, store paths included, set as
#                         the layer is written (no fakeroot): a list of { path; regex ? ".*";
#                         mode ? null; orMode ? null; uid ? null; gid ? null; uname ? null; gname ? null; },
#                         nix2container's shape (see builder/tree/perms.py and docs/users-and-perms.md)
#   runAsRoot             null: shell run as root with the image's root as / (the base image
#                         unpacked, copyToRoot copied over it, the store visible), under
#                         fakeroot and proot, no VM: what it adds, changes (owners too) and
#                         deletes (as whiteouts) is the layer; extraCommands run after it.
#                         Needs `fakeroot` and `proot` (or `pkgs`) given to strata
#   compressor            "gz" (layer blobs gzipped), "none", or "zstd" (level 3: Python >= 3.14,
#                         or strata's `zstd` program)
#   includeNixDB          false; true adds a small layer with the Nix database of the image's
#                         store paths, so nix-store works inside (`initializeNixDatabase`,
#                         nix2container's name, is accepted too)
#   nixUid nixGid         0 0: owner of /nix (the store and the database); uid/gid own the rest
#   meta                  as for any derivation
#   diskSize buildVMMemorySize  accepted and ignored: they size dockerTools' VM; strata has none
# passthru: imageName, imageTag, buildArgs, override, `sbom` (the image's SBOM: a
# directory of spdx.json and cyclonedx.json, see docs/sbom.md), copyTo*, and `layer`: as
# dockerTools', the layer of copyToRoot and extraCommands alone (no store paths, no base, no
# runAsRoot; the declared users and the perms of paths outside the store), a buildLayer built
# only when asked for (the image writes its layer itself).
plumbing:
let
  inherit (plumbing) runBuilder toLower baseName hashPart readBaseImage configReferences commandsReferences;
  buildLayer = import ./buildLayer.nix plumbing;
in
args@{ name
, tag ? null
, fromImage ? null
, fromImageName ? null
, fromImageTag ? null
, copyToRoot ? null
, contents ? null
, keepContentsDirlinks ? false
, config ? null
, architecture ? plumbing.defaultArchitecture
, variant ? plumbing.variantFor architecture
, created ? "1970-01-01T00:00:01Z"
, mtime ? null
, uid ? 0
, gid ? 0
, uname ? "root"
, gname ? "root"
, extraCommands ? ""
, compressor ? "gz"
, includeNixDB ? false
, initializeNixDatabase ? includeNixDB
, nixUid ? 0
, nixGid ? 0
, runAsRoot ? null
, users ? { }
, groups ? { }
, perms ? [ ]
, meta ? { }
, diskSize ? 1024
, buildVMMemorySize ? 512
}:
let
  roots = plumbing.copyToRootOf "buildImage" copyToRoot contents;

  imageName = toLower name;
  script = if runAsRoot == null then "" else runAsRoot;

  configRefs = configReferences imageName config;
  base = if fromImage == null then null else readBaseImage { inherit fromImage fromImageName fromImageTag; function = "buildImage"; };
  closureRoots = roots ++ [ configRefs ] ++ commandsReferences (baseName imageName) (script + extraCommands);

  image = runBuilder {
    name = "docker-image-${baseName imageName}.tar";
    command = "build-image";
    attrs = {
      imageName = name;
      inherit tag keepContentsDirlinks config architecture variant created mtime
        uname gname extraCommands compressor configRefs;
      uid = plumbing.id "buildImage" "uid" uid;
      gid = plumbing.id "buildImage" "gid" gid;
      nixUid = plumbing.id "buildImage" "nixUid" nixUid;
      nixGid = plumbing.id "buildImage" "nixGid" nixGid;
      includeNixDB = initializeNixDatabase;
      inherit (plumbing) shell toolsPath;
      copyToRoot = roots;
      inherit base;
      storeDir = builtins.storeDir;
      runAsRoot = script;
      inherit users groups;
      perms = plumbing.perms "buildImage" perms;
      inherit (plumbing) fakeroot proot prootBinds;
      exportReferencesGraph.closure = closureRoots;
    };
  };

  sbom = plumbing.sbom {
    inherit image imageName base;
    roots = closureRoots;
    named = roots ++ plumbing.configPackages config;
    copyToRoot = roots;
  };
in
image // plumbing.copyScripts { inherit image sbom; reference = "${imageName}:${if tag != null then tag else hashPart image}"; } // {
  inherit imageName meta sbom;
  imageTag = if tag != null then tag else hashPart image;
  buildArgs = args;
  layer = buildLayer {
    name = "${baseName imageName}-layer";
    copyToRoot = roots;
    inherit keepContentsDirlinks extraCommands uid gid uname gname compressor users groups;
    perms = builtins.filter (rule: plumbing.permsStorePath rule == null) (plumbing.perms "buildImage" perms);
    permsOfImage = true;
    mtime = if mtime != null then mtime else if created == "now" then "1970-01-01T00:00:01Z" else created;
  };
}
