{
  description = "strata: reproducible container images from Nix store closures";

  # No inputs: strata needs no nixpkgs. Bring your own through the overlay or `lib`.
  outputs = { self }:
    let
      # The checks build with the host's tools (Debian's /usr/bin/python3, busybox-static,
      # fakeroot), so they need: --option extra-sandbox-paths "/usr /lib /lib64 /bin /etc/ld.so.cache"
      # Those with nixpkgs and KVM have nixos-tests/ besides.
      images = import ./tests/nix/images.nix { system = "x86_64-linux"; };
      layered = import ./tests/nix/layered.nix { system = "x86_64-linux"; };
      bases = import ./tests/nix/bases.nix { system = "x86_64-linux"; };
      dockertools = import ./tests/nix/dockertools.nix { system = "x86_64-linux"; };
      nixshell = import ./tests/nix/nixshell.nix { system = "x86_64-linux"; };
      nix2container = import ./tests/nix/nix2container.nix { system = "x86_64-linux"; };
    in
    {
      # lib { pkgs = ...; } or lib { python3 = "/usr/bin/python3"; system = ...; }: see default.nix.
      lib = import ./.;

      # pkgs.strata, built with the overlaid package set's python3, bash and coreutils.
      overlays.default = final: prev: { strata = import ./. { pkgs = final; }; };

      # The strata command (inspect, diff, sbom), run by the host's /usr/bin/python3 (with
      # the sandbox paths above); with nixpkgs, take `(lib { inherit pkgs; }).cli` instead.
      packages.x86_64-linux.default = (import ./. { python3 = "/usr/bin/python3"; system = "x86_64-linux"; }).cli;
      apps.x86_64-linux.default = {
        type = "app";
        program = "${self.packages.x86_64-linux.default}/bin/strata";
      };

      checks.x86_64-linux = {
        buildImage = images.hello;
        buildImage-no-store-paths = images.etcOnly;
        buildImage-config-owners-extraCommands = images.custom;
        buildImage-includeNixDB = images.withNixDB;
        buildLayeredImage = layered.archive;
        buildLayeredImage-oci = layered.oci;
        buildLayeredImage-no-ifd = layered.noIFD;
        buildLayeredImage-includeNixDB = layered.nixDB;
        buildLayeredImage-over-budget = layered.crowded;
        streamLayeredImage = layered.stream;
        fromImage = bases.onBase;
        fromImage-merged-usr = bases.onUsrBase;
        exportImage = bases.exportedUsr;
        mergeImages = bases.merged;
        runAsRoot = dockertools.runAsRoot;
        extraCommands-mode-0000 = dockertools.modeZeroLayered;
        enableFakechroot = dockertools.fakechroot;
        layeringPipeline = dockertools.pipeline;
        users = dockertools.withUsers;
        perms = dockertools.permsLayered;
        perms-on-base = dockertools.permsOnBase;
        buildNixShellImage = nixshell.built;
        streamNixShellImage = nixshell.structured;
        buildMultiArchImage = dockertools.multiArch;
        compressor-zstd = dockertools.zstdImage;
        copyToRegistry = layered.archive.copyToRegistry;
        sbom = layered.archive.sbom;
        sbom-buildImage = images.hello.sbom;
        strata-cli = self.packages.x86_64-linux.default;
        nix2container-basic = nix2container.basic;
        nix2container-nested = nix2container.nested;
        nix2container-split-layer = nix2container.splitLayer;
      };
    };
}
