# What the public functions share: running the Python builder, small derivations, names
# and platforms. Not part of the API.
{ python3, system, shell, toolsPath, skopeo, fakeroot, proot, prootBinds, zstd, binShell, envBinary, caBundle, shadow }:
let
  # The builder's Python package, alone in the store: editing tests or docs rebuilds nothing.
  src = builtins.path {
    name = "strata-builder";
    path = ./..;
    filter = path: type:
      let
        root = toString ./.. + "/builder";
        inside = builtins.substring 0 (builtins.stringLength root + 1) path == root + "/";
      in
      path == root
      || (inside && type == "directory" && baseNameOf path != "__pycache__")
      || (inside && type == "regular" && builtins.match ".*\\.py" path != null);
  };

  interpreter =
    if builtins.isString python3 then python3
    else python3.interpreter or "${python3}/bin/python3";

  # The package with its bytecode, compiled once by the interpreter that runs it: the builder
  # starts once a layer, and compiling every module at every start cost about 25 ms each
  # time. Hash-based .pyc files do not depend on times, and a fixed hash seed keeps the
  # order of set constants, so the bytecode is the same on every machine.
  compiled = builtins.derivation {
    name = "strata-builder-compiled";
    inherit system;
    builder = interpreter;
    PYTHONHASHSEED = "0";
    args = [ "-S" "-c" ''
      import compileall, os, py_compile, shutil, sys
      package = os.path.join(os.environ["out"], "builder")
      shutil.copytree("${src}/builder", package)
      for directory, _, _ in os.walk(package):
          os.chmod(directory, 0o755)
      mode = py_compile.PycInvalidationMode.UNCHECKED_HASH
      sys.exit(0 if compileall.compile_dir(package, quiet=1, invalidation_mode=mode) else 1)
    '' ];
  };

  upper = [ "A" "B" "C" "D" "E" "F" "G" "H" "I" "J" "K" "L" "M" "N" "O" "P" "Q" "R" "S" "T" "U" "V" "W" "X" "Y" "Z" ];
  lower = [ "a" "b" "c" "d" "e" "f" "g" "h" "i" "j" "k" "l" "m" "n" "o" "p" "q" "r" "s" "t" "u" "v" "w" "x" "y" "z" ];

  # Nix systems and the GOARCH name and variant images carry for them.
  platforms = {
    "x86_64-linux" = { architecture = "amd64"; variant = null; };
    "aarch64-linux" = { architecture = "arm64"; variant = "v8"; };
    "armv7l-linux" = { architecture = "arm"; variant = "v7"; };
    "armv6l-linux" = { architecture = "arm"; variant = "v6"; };
    "i686-linux" = { architecture = "386"; variant = null; };
    "powerpc64le-linux" = { architecture = "ppc64le"; variant = null; };
    "s390x-linux" = { architecture = "s390x"; variant = null; };
    "riscv64-linux" = { architecture = "riscv64"; variant = null; };
  };
in
rec {
  inherit system shell toolsPath interpreter skopeo fakeroot proot prootBinds shadow;

  # As nixpkgs' lib.makeOverridable: `f args` with `override`, which calls `f` again with
  # the arguments updated by an attribute set, or by a function of the old ones.
  makeOverridable = f: args:
    let
      result = f args;
      changed = changes:
        let new = if builtins.isFunction changes then changes args else changes; in
        if builtins.isAttrs args && builtins.isAttrs new then args // new else new;
    in
    if builtins.isAttrs result then result // { override = changes: makeOverridable f (changed changes); }
    else result;

  # A host file copied into the store (a store path is taken as it is), for the helpers;
  # `argument` names strata's argument in the error when there is none.
  storeFile = argument: helper: path:
    if path == null then
      throw "strata.${helper}: no ${argument}; pass `pkgs`, or `${argument}` (a store path or a host file) to strata"
    else if builtins.substring 0 (builtins.stringLength builtins.storeDir + 1) path == builtins.storeDir + "/" then path
    else "${builtins.path { inherit path; name = baseNameOf path; }}";
  inherit binShell envBinary caBundle;

  # A program for the helpers (binShell, envBinary), as storeFile takes it, at a path whose
  # last component is `name`: a multi-call binary such as busybox runs as the applet its
  # name says, and a host file's store name (<hash>-busybox) names none.
  storeProgram = argument: helper: name: path:
    let file = storeFile argument helper path; in
    if file == path then path
    else "${writeTree "strata-${name}" { "bin/${name}".link = file; }}/bin/${name}";

  # The copyTo* attributes of an image: runnable derivations (bin/copy-to-registry, ...)
  # that ship it with strata's registry client (builder/registry): `nix run .#img.copyToRegistry`
  # or `$(nix-build -A img.copyToRegistry)/bin/copy-to-registry [DESTINATION] [OPTIONS]`.
  # copyToRegistry pushes to docker://NAME:TAG unless given a destination, and attaches the
  # image's `sbom` (a derivation, or null) to it unless given --no-sbom; copyToPodman and
  # copyToDockerDaemon load it; copyTo takes any destination copy knows.
  copyScripts = { image, reference, sbom ? null }:
    let
      # Only the scripts that may push take the SBOM (and so build it).
      script = name: destination: program name "builder.registry.cli" "[\"copy\", \"${image}\"] + ${destination}";
      pushing = name: destination:
        script name (destination + (if sbom == null then "" else " + [\"--sbom\", \"${sbom}\"]"));
      withDefault = default: "(sys.argv[1:] if sys.argv[1:] and not sys.argv[1].startswith('-') else [\"${default}\"] + sys.argv[1:])";
    in
    {
      copyToRegistry = pushing "copy-to-registry" (withDefault "docker://${reference}");
      copyToPodman = script "copy-to-podman" "[\"containers-storage:\"] + sys.argv[1:]";
      copyToDockerDaemon = script "copy-to-docker-daemon" "[\"docker-daemon:\"] + sys.argv[1:]";
      copyTo = pushing "copy-to" (if skopeo == null then "sys.argv[1:]" else "sys.argv[1:] + [\"--skopeo\", \"${skopeo}\"]");
    };

  # Python that runs `main` of the builder's module `module` with the arguments the Python
  # expression `argv` makes, and exits with its status.
  callMain = module: argv: ''
    import sys
    sys.path.insert(0, "${compiled}")
    from ${module} import main
    sys.exit(main(${argv}))
  '';

  # A runnable derivation, bin/NAME, that runs `main` of the builder's module `module` with
  # the arguments the Python expression `argv` makes (of sys.argv).
  program = name: module: argv: builtins.derivation {
    inherit name system;
    builder = interpreter;
    text = "#!${interpreter} -IS\n" + callMain module argv;
    args = [ "-I" "-S" "-c" ''
      import os
      bin = os.path.join(os.environ["out"], "bin")
      os.makedirs(bin)
      path = os.path.join(bin, os.environ["name"])
      with open(path, "w") as stream:
          stream.write(os.environ["text"])
      os.chmod(path, 0o555)
    '' ];
  };

  # A store path holding `files`: { "etc/passwd" = { text = "..."; }; "bin/sh" = { link = "..."; };
  # "var/empty" = { directory = true; }; }. Links may name store paths (they become references).
  writeTree = name: files:
    builtins.derivation {
      inherit name system;
      builder = interpreter;
      files = builtins.toJSON files;
      args = [ "-I" "-S" "-c" ''
        import json, os
        out = os.environ["out"]
        os.mkdir(out)
        for path, what in sorted(json.loads(os.environ["files"]).items()):
            target = os.path.join(out, path)
            os.makedirs(target if what.get("directory") else os.path.dirname(target), exist_ok=True)
            if "link" in what:
                os.symlink(what["link"], target)
            elif "text" in what:
                with open(target, "w") as stream:
                    stream.write(what["text"])
      '' ];
    };

  # A derivation whose builder is `python3 -m builder <command>`. It uses structured attrs,
  # so Nix writes `attrs` into .attrs.json, which is the builder's JSON spec: the one seam
  # between Nix and Python, documented in builder/commands/spec.py.
  runBuilder = { name, command, attrs }:
    builtins.derivation ({
      inherit name system;
      builder = interpreter;
      # -I -S: no user site, no site-packages, no PYTHON* variables: the standard library only.
      args = [ "-I" "-S" "-B" "-c" (callMain "builder.commands.cli" "sys.argv[1:]") command ];
      __structuredAttrs = true;
    } // (if zstd != null then { inherit zstd; } else { }) // attrs);

  # A store file holding `text`. Unlike builtins.toFile it may mention derivation outputs,
  # and Nix records them as its references: how the store paths a config names are found.
  writeText = name: text:
    builtins.derivation {
      inherit name system text;
      builder = interpreter;
      args = [ "-I" "-S" "-c" "import os; open(os.environ['out'], 'w').write(os.environ['text'])" ];
    };

  # A base image (any archive or OCI layout) checked and recorded once: its layers' blobs
  # as they are, its config, and the file tree its layers make. Builds on it read this.
  # `function` and `argument` name the image in an error.
  readBaseImage = { fromImage, fromImageName ? null, fromImageTag ? null, function, argument ? "fromImage" }:
    if fromImage.isExe or false then
      throw ("strata.${function}: `${argument}` is a script that streams an image (streamLayeredImage), not an image;"
        + " pass a buildLayeredImage or buildImage, or the stream's output saved to a file")
    else if !(isPackage fromImage) then
      throw "strata.${function}: `${argument}` must be an image (a derivation or a store path), got ${describe fromImage}"
    else runBuilder {
      name = "strata-base-${if fromImage ? name then baseName (toLower fromImage.name) else "image"}";
      command = "read-base-image";
      attrs = { inherit fromImage fromImageName fromImageTag; };
    };

  toLower = builtins.replaceStrings upper lower;

  toList = value: if builtins.isList value then value else [ value ];

  # Arguments checked where they are read, each error naming the function and the argument.
  # `packages`: a derivation, a store path or a list of them (null for none), as a list.
  packages = function: argument: value:
    let
      items = if value == null then [ ] else toList value;
      bad = builtins.filter (item: !(isPackage item)) items;
    in
    if bad == [ ] then items
    else throw "strata.${function}: `${argument}` must be a derivation or a store path, or a list of them; got ${describe (builtins.head bad)}";
  isPackage = item: (builtins.isAttrs item && item ? outPath) || builtins.isPath item
    || (builtins.isString item && builtins.substring 0 1 item == "/");
  describe = value:
    if builtins.isAttrs value then "an attribute set that is no derivation (${builtins.concatStringsSep ", " (builtins.attrNames value)})"
    else if builtins.isFunction value then "a function"
    else builtins.toJSON value;
  # `id`: a user or group id (chown takes 2^32 - 1 as "no change").
  id = function: argument: value:
    if builtins.isInt value && value >= 0 && value <= 4294967294 then value
    else throw "strata.${function}: `${argument}` must be a user or group id from 0 to 4294967294, got ${describe value}";
  integer = function: argument: value:
    if builtins.isInt value then value
    else throw "strata.${function}: `${argument}` must be an integer, got ${describe value}";

  # The last component of an image name, for store path names: "registry:5000/a/b" -> "b",
  # cut to 100 characters (a store path name holds 211, and strata adds words around it).
  # A name no store path may carry is left for the builder to reject with its message.
  baseName = name:
    let
      parts = builtins.split "/" name;
      last = builtins.elemAt parts (builtins.length parts - 1);
    in
    if builtins.match "[a-z0-9._+-]+" last != null then builtins.substring 0 100 last else "invalid-name";

  # dockerTools' default tag: the hash part of the image's own store path.
  hashPart = drv: builtins.substring 0 32 (baseNameOf (builtins.unsafeDiscardStringContext drv.outPath));

  platformOf = system:
    platforms.${system} or (throw "strata: no container architecture is known for system ${system}; pass `architecture`");

  # The images' default platform: the GOARCH name for `system`, and its variant only when
  # the image is for that architecture.
  defaultArchitecture = (platformOf system).architecture;
  variantFor = architecture:
    let platform = platformOf system; in
    if platform.architecture == architecture then platform.variant else null;

  # An image's SBOM, its passthru `sbom`: a directory of spdx.json and cyclonedx.json (see
  # builder/inventory), from the built `image` itself (which store paths its own layers
  # hold), the closure graph of `roots` (what it was built from: NAR hashes, references)
  # and the attributes (pname, version, meta, src) of the `named` packages and of their
  # buildInputs and propagatedBuildInputs, transitively (nixpkgs' runtime inputs: what Nix
  # can know of a store path without the network); `copyToRoot` the packages whose files
  # are at / rather than in the store; `base` a readBaseImage or null.
  sbom = { image, imageName, roots, named, copyToRoot ? [ ], base ? null }:
    runBuilder {
      name = "${baseName imageName}-sbom";
      command = "build-sbom";
      attrs = {
        inherit image copyToRoot base;
        storeDir = builtins.storeDir;
        packages = map packageFacts (builtins.genericClosure {
          startSet = map withKey (builtins.filter isDerivation named);
          operator = item: map withKey (builtins.filter isDerivation
            (toList (item.buildInputs or [ ]) ++ toList (item.propagatedBuildInputs or [ ])));
        });
        exportReferencesGraph.closure = roots;
      };
    };

  isDerivation = item: builtins.isAttrs item && item ? outPath;
  withKey = item: item // { key = builtins.unsafeDiscardStringContext (toString item.outPath); };

  # What an SBOM says of a package the user named, beyond its store path: its pname and
  # version, its meta's licences, homepage and description, and where its source (or, for
  # a fixed-output derivation, itself) is fetched from, with the hash Nix checks.
  packageFacts = item:
    let
      meta = item.meta or { };
      licence = entry:
        if builtins.isAttrs entry then { spdxId = entry.spdxId or null; name = entry.shortName or entry.fullName or entry.spdxId or null; }
        else { spdxId = null; name = toString entry; };
      homepages = toList (meta.homepage or [ ]);
      fetchedFrom = thing: if thing ? urls then thing.urls else if thing ? url then [ thing.url ] else [ ];
      fetched = if item ? outputHash then item else if builtins.isAttrs (item.src or null) then item.src else { };
    in
    {
      path = item.outPath;
      pname = item.pname or null;
      version = item.version or null;
      licenses = map licence (toList (meta.license or [ ]));
      homepage = if homepages == [ ] then null else builtins.head homepages;
      description = meta.description or null;
      urls = builtins.filter builtins.isString (toList (fetchedFrom fetched));
      outputHash = fetched.outputHash or null;
    };

  # The packages (derivations) a config names as values of its fields, or in their lists.
  configPackages = config:
    if !(builtins.isAttrs config) then [ ]
    else builtins.filter isDerivation (builtins.concatMap toList (builtins.attrValues config));

  # A store file of the config's JSON, whose references are the store paths it names.
  configReferences = imageName: config: writeText "${baseName imageName}-config.json" (builtins.toJSON config);

  # The store paths a layer's commands may write into its files, as a list for
  # exportReferencesGraph: a store file of the commands, whose references are the paths they
  # mention (the builder looks for those in the files the commands leave); [ ] for none.
  commandsReferences = name: commands:
    if commands == "" then [ ] else [ (writeText "${name}-commands" commands) ];

  # `perms` (see builder/tree/perms.py): a list of rules, each checked here as far as Nix can,
  # its path made a string (a derivation's keeps its context: the layer depends on it) and
  # its unset fields left out, so that a rule reads the same in every layer given it.
  perms = function: rules:
    let
      fields = [ "path" "regex" "mode" "orMode" "uid" "gid" "uname" "gname" ];
      check = index: rule:
        let
          where = "strata.${function}: `perms` rule ${toString index}";
          set = builtins.removeAttrs rule (builtins.filter (name: rule.${name} == null) (builtins.attrNames rule));
          unknown = builtins.filter (name: !(builtins.elem name fields)) (builtins.attrNames rule);
        in
        if !(builtins.isAttrs rule) || isPackage rule then
          throw ("${where} must be an attribute set { path; regex ? \".*\"; mode ? null; orMode ? null; uid ? null; gid ? null;"
            + " uname ? null; gname ? null; }, got ${describe rule}")
        else if unknown != [ ] then
          throw "${where}: `${builtins.head unknown}` is not a field of a rule (${builtins.concatStringsSep ", " fields})"
        else if !(set ? path) || !(isPackage set.path) then
          throw "${where}: `path` must be a store path or an absolute path in the image"
        else if set ? mode && !(builtins.isString set.mode && builtins.match "[0-7]{1,4}" set.mode != null) then
          throw ("${where}: `mode` must be a string of octal digits such as \"0750\" (Nix has no octal numbers),"
            + " got ${describe set.mode}")
        else if set ? orMode && !(builtins.isString set.orMode && builtins.match "[0-7]{1,4}" set.orMode != null) then
          throw ("${where}: `orMode` must be a string of octal digits such as \"0200\" (Nix has no octal numbers),"
            + " got ${describe set.orMode}")
        else set // { path = toString set.path; }
          // (if set ? uid then { uid = id function "perms.uid" set.uid; } else { })
          // (if set ? gid then { gid = id function "perms.gid" set.gid; } else { });
    in
    if !(builtins.isList rules) then throw "strata.${function}: `perms` must be a list of rules, got ${describe rules}"
    else builtins.genList (index: check index (builtins.elemAt rules index)) (builtins.length rules);

  # copyToRoot, or `contents`, its deprecated name (warned of), as a checked list; both
  # given is an error. `function` names the caller.
  copyToRootOf = function: copyToRoot: contents:
    if contents != null && copyToRoot != null then
      throw "strata.${function}: `contents` is the old name of `copyToRoot`; pass only `copyToRoot`"
    else if contents != null then
      builtins.trace "warning: strata.${function}: `contents` is deprecated, use `copyToRoot`"
        (packages function "contents" contents)
    else packages function "copyToRoot" copyToRoot;

  # Whether a (checked) perms rule is for files at / rather than in the store: a path in the
  # root, or a `copyToRoot` package's (its files are copied to /).
  permsInRoot = copyToRoot: rule:
    permsStorePath rule == null
    || builtins.elem (permsStorePath rule) (map (item: builtins.unsafeDiscardStringContext (toString item)) copyToRoot);

  # The proxy variables a fixed-output derivation takes from the Nix daemon's environment.
  proxyVariables = [ "http_proxy" "https_proxy" "ftp_proxy" "all_proxy" "no_proxy"
                     "HTTP_PROXY" "HTTPS_PROXY" "FTP_PROXY" "ALL_PROXY" "NO_PROXY" ];

  # A store path named in a plan read at evaluation time, made an input again: the plan's
  # text loses its context when parsed.
  storePathInput = path: builtins.appendContext path { ${path} = { path = true; }; };

  # The store path a (checked) perms rule's path is in, or null for a path in the image's root.
  permsStorePath = rule:
    let
      path = builtins.unsafeDiscardStringContext rule.path;
      prefix = builtins.storeDir + "/";
      length = builtins.stringLength prefix;
    in
    if builtins.substring 0 length path == prefix && builtins.stringLength path > length
    then prefix + builtins.head (builtins.split "/" (builtins.substring length (-1) path))
    else null;
}
