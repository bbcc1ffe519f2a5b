# nix2container's own examples (its examples/ and tests/), ported under their names to
# strata.nix2container, with host-made stand-ins for the nixpkgs packages they use: `hello`
# prints "Hello, world!", `bash` and `coreutils` are busybox. Each image is the example's
# expression with `pkgs.X` read as the stand-in X.
{ system ? builtins.currentSystem, baseManifest ? null, registryUrl ? null, baseDigest ? null, baseSha256 ? null }:
let
  strata = import ../.. { python3 = "/usr/bin/python3"; shell = "/bin/sh"; skopeo = "/usr/bin/skopeo"; inherit system; };
  inherit (strata) nix2container;
  inherit (import ../../examples/host-packages.nix { inherit system; }) package busybox;

  hello = package "hello-2.12" ''
    mkdir -p $out/bin
    printf '#!${busybox}/bin/sh\necho "Hello, world!"\n' > $out/bin/hello
    chmod 555 $out/bin/hello
  '';
  bash = busybox;
  coreutils = busybox;
  readline81 = package "readline-8.1" "mkdir -p $out/lib; echo readline > $out/lib/libreadline.so";
  # bashInteractive refers to readline, as nixpkgs' does.
  bashInteractive = package "bash-interactive-5.2" ''
    mkdir -p $out/bin
    printf '#!${busybox}/bin/sh\n# ${readline81}\nexec ${busybox}/bin/sh "$@"\n' > $out/bin/bash
    chmod 555 $out/bin/bash
  '';
  runCommand = name: script: package name script;
  # examples/perms.nix, ownership.nix and tests' nonRegressionIssue45: their `test` files
  # copied to /, /tmp listed, one perms rule on them.
  test = runCommand "test" "mkdir -p $out/tmp; touch $out/tmp/test1.txt $out/tmp/test2.txt";
  listingTmp = name: rule: nix2container.buildImage {
    inherit name;
    config.entrypoint = [ "${coreutils}/bin/ls" "-l" "/tmp/" ];
    copyToRoot = [ test ];
    perms = [ ({ path = test; } // rule) ];
  };
  writeScript = name: text: package name "printf '%s' '${text}' > $out; chmod 555 $out";
  symlinkJoin = { name, paths }: package name ''
    mkdir -p $out/bin
    for path in ${builtins.concatStringsSep " " (map toString paths)}; do
      for file in $path/bin/*; do ln -sf $file $out/bin/; done
    done
  '';
in
rec {
  # examples/hello.nix (its layers were named isolatedDeps then)
  hello' = nix2container.buildImage {
    name = "hello";
    config = {
      entrypoint = [ "${bash}/bin/sh" (writeScript "conversation" ''
        ${hello}/bin/hello
        echo "Haaa aa... I am dying!!!"
      '') ];
    };
    layers = [ (nix2container.buildLayer { deps = [ bash hello ]; }) ];
  };

  # examples/basic.nix
  basic = nix2container.buildImage {
    name = "basic";
    config = { entrypoint = [ "${hello}/bin/hello" ]; };
  };

  # examples/bash.nix
  bash' = nix2container.buildImage {
    name = "localhost:5000/bash";
    copyToRoot = [ (symlinkJoin { name = "root"; paths = [ bashInteractive coreutils ]; }) ];
    config = { Cmd = [ "/bin/bash" ]; };
  };

  # examples/openbar.nix: /tmp made 0777 by a layer's perms.
  openbar =
    let
      tmp = runCommand "tmp" "mkdir -p $out/tmp";
      openbarLayer = nix2container.buildLayer {
        copyToRoot = [ tmp ];
        perms = [ { path = tmp; regex = ".*"; mode = "0777"; } ];
      };
    in
    nix2container.buildImage {
      name = "openbar";
      layers = [ openbarLayer ];
      config = { entrypoint = [ "${coreutils}/bin/ls" "-l" "/" ]; };
    };

  # openbar with its rules in a file a build writes (permsFile).
  openbarFromFile = nix2container.buildImage {
    name = "openbar-from-file";
    layers = [ (nix2container.buildLayer {
      copyToRoot = [ (runCommand "tmp" "mkdir -p $out/tmp") ];
      permsFile = runCommand "perms.json" "echo '[{\"path\": \"/tmp\", \"mode\": \"0777\"}]' > $out";
    }) ];
    config = { entrypoint = [ "${coreutils}/bin/ls" "-l" "/" ]; };
  };

  # examples/layered.nix
  layered = nix2container.buildImage {
    name = "layered";
    config = { entrypoint = [ "${hello}/bin/hello" ]; };
    maxLayers = 3;
  };

  # copyToRoot with maxLayers above 1: the files in a top layer, the store paths below.
  layeredRoot = nix2container.buildImage {
    name = "layered-root";
    copyToRoot = [ (symlinkJoin { name = "root"; paths = [ bashInteractive hello ]; }) ];
    config.entrypoint = [ "/bin/hello" ];
    maxLayers = 3;
  };

  # examples/nested.nix
  nested = nix2container.buildImage {
    name = "nested";
    config = { entrypoint = [ "${hello}/bin/hello" ]; };
    layers = [ (nix2container.buildLayer {
      deps = [ bashInteractive ];
      layers = [ (nix2container.buildLayer { deps = [ readline81 ]; }) ];
    }) ];
  };

  # examples/non-reproducible.nix
  nonReproducible =
    let nonReproducibleFile = runCommand "non-reproducible" "echo A non reproducible image built the $(date) > $out";
    in nix2container.buildImage {
      name = "non-reproducible";
      config = { entrypoint = [ "${coreutils}/bin/cat" "${nonReproducibleFile}" ]; };
      layers = [ (nix2container.buildLayer { deps = [ nonReproducibleFile ]; reproducible = false; }) ];
    };

  # examples/metadata.nix
  metadata = nix2container.buildImage {
    name = "metadata";
    config = { entrypoint = [ "${hello}/bin/hello" ]; };
    layers = [ (nix2container.buildLayer {
      deps = [ hello ];
      metadata = { created_by = "test created_by"; author = "test author"; comment = "test comment"; };
    }) ];
  };

  # buildLayer's maxLayers: its store paths split into layers of their own, below the image's.
  splitLayer = nix2container.buildImage {
    name = "split-layer";
    config = { entrypoint = [ "${hello}/bin/hello" ]; };
    layers = [ (nix2container.buildLayer { deps = [ hello bashInteractive ]; maxLayers = 3; }) ];
  };
  splitLayerWithRoot = nix2container.buildImage {
    name = "split-layer-with-root";
    config = { entrypoint = [ "${hello}/bin/hello" ]; };
    layers = [ (nix2container.buildLayer {
      deps = [ hello bashInteractive ];
      copyToRoot = [ (runCommand "tmp" "mkdir -p $out/tmp") ];
      perms = [ { path = "/tmp"; mode = "1777"; } ];
      maxLayers = 2;
    }) ];
  };

  # buildLayer's layersFile: the split given exactly (hello's closure less hello, ignored).
  layersFile = nix2container.buildImage {
    name = "layers-file";
    config = { entrypoint = [ "${hello}/bin/hello" ]; };
    layers = [ (nix2container.buildLayer {
      deps = [ hello bashInteractive ];
      ignore = hello;
      layersFile = builtins.toFile "layers.json" (builtins.toJSON [
        [ (builtins.unsafeDiscardStringContext "${readline81}") ]
        [ (builtins.unsafeDiscardStringContext "${busybox}") (builtins.unsafeDiscardStringContext "${bashInteractive}") ]
      ]);
    }) ];
  };

  # examples/perms.nix (its entrypoint a list: a string is one program name)
  perms = listingTmp "perms" { regex = ""; mode = "0777"; };

  # examples/ownership.nix
  ownership = listingTmp "ownership" { regex = "/tmp/test1.txt"; uid = 1001; gid = 1001; };

  # tests/default.nix's nonRegressionIssue45: a regex names test1.txt alone.
  nonRegressionIssue45 = listingTmp "perms" { regex = "test1.txt"; mode = "0777"; };

  # tests/default.nix's copyToRoot: packages copied to /, run from there.
  copyToRoot = nix2container.buildImage {
    name = "copy-to-root";
    copyToRoot = [ hello bash ];
    config.entrypoint = [ "/bin/sh" "-c" "/bin/hello" ];
  };

  # examples/nix.nix: the Nix database holds the paths of the nested layers too.
  nix = nix2container.buildImage {
    name = "nix";
    initializeNixDatabase = true;
    copyToRoot = [ (symlinkJoin { name = "root"; paths = [ coreutils bash ]; }) ];
    config.Env = [ "NIX_PAGER=cat" "USER=nobody" ];
    layers = [ (nix2container.buildLayer { deps = [ hello ]; }) ];
  };

  # examples/nix-user.nix (without Nix itself: `ls -la /nix` in place of `nix doctor`)
  nixUser =
    let
      mkUser = runCommand "mkUser" ''
        mkdir -p $out/etc/pam.d $out/home/user
        echo "user:x:1000:1000::/home/user:/bin/sh" > $out/etc/passwd
        echo "user:!x:::::::" > $out/etc/shadow
        echo "user:x:1000:" > $out/etc/group
        echo "user:x::" > $out/etc/gshadow
        touch $out/etc/login.defs
      '';
    in
    nix2container.buildImage {
      name = "nix-user";
      tag = "latest";
      initializeNixDatabase = true;
      nixUid = 1000;
      nixGid = 1000;
      copyToRoot = [ (symlinkJoin { name = "root"; paths = [ coreutils ]; }) mkUser ];
      perms = [ { path = mkUser; regex = "/home/user"; mode = "0744"; uid = 1000; gid = 1000; uname = "user"; gname = "user"; } ];
      config = {
        entrypoint = [ "${coreutils}/bin/ls" "-la" "/nix" "/home" ];
        Env = [ "HOME=/home/user" "USER=user" ];
      };
    };

  # examples/created.nix, and buildLayer's ignore: hello's closure without hello.
  created = nix2container.buildImage {
    name = "created";
    created = "2024-01-01T00:00:00Z";
    config.entrypoint = [ "${hello}/bin/hello" ];
    layers = [ (nix2container.buildLayer { deps = [ hello ]; ignore = hello; }) ];
  };

  # examples/from-image-manifest.nix, against the tests' registry: a base pinned by its
  # manifest (written with getManifest), one fixed-output derivation a blob.
  base = if baseManifest == null then null else nix2container.pullImageFromManifest {
    imageName = "bases/busybox";
    imageManifest = baseManifest;
    imageTag = "1";
    tlsVerify = false;
    inherit registryUrl;
  };
  getManifest = (nix2container.pullImageFromManifest {
    imageName = "bases/busybox";
    imageManifest = ./nix2container.nix;
    imageTag = "1";
    tlsVerify = false;
    inherit registryUrl;
  }).getManifest;
  fromImageManifest = nix2container.buildImage {
    name = "from-image-manifest";
    fromImage = base;
    config = { entrypoint = [ "${coreutils}/bin/ls" "-l" "/etc/base-release" ]; };
  };

  # examples/from-image.nix, against the tests' registry: the base pulled by digest.
  fromImage = nix2container.buildImage {
    name = "from-image";
    fromImage = nix2container.pullImage {
      imageName = "${toString registryUrl}/bases/busybox";
      imageDigest = baseDigest;
      sha256 = baseSha256;
      tlsVerify = false;
    };
    config = { entrypoint = [ "${coreutils}/bin/ls" "-l" "/etc/base-release" ]; };
  };

  # What the base is: a strata image pushed to the tests' registry.
  baseImage = strata.buildImage {
    name = "bases/busybox";
    tag = "1";
    copyToRoot = [ (runCommand "base-release" "mkdir -p $out/etc; echo base > $out/etc/base-release") ];
  };
}
