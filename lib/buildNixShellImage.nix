# buildNixShellImage: an image whose shell is a derivation's build environment, as
# nix-shell makes it (dockerTools' function of the name): `podman run -it` gives the shell
# nix-shell would, with the derivation's inputs, variables and shellHook, and
# `buildDerivation` builds it inside. Arguments, with their defaults (dockerTools'):
#   drv            the derivation (its inputs' closure goes in, not its outputs)
#   name           drv.name + "-env"
#   tag            null: the output's hash, as for buildImage
#   uid gid uname  1000 1000 "nixbld": the build user the image runs as, declared (no
#                  fakeroot), with /build its own and /nix/store and /tmp writable by all
#   homeDirectory  "/build"; "/homeless-shelter" is left out of the image, as Nix does
#   shell          a bash: nixpkgs' bashInteractive when strata has `pkgs` (its binShell)
#   command        null: a command run in the interactive shell, which then exits
#   run            null: a script run in a non-interactive shell instead (not both)
#   compressor     "gz", "none" or "zstd": the layers' (dockerTools gzips the whole archive;
#                  loaders take both)
#   maxLayers      100
# The result is a buildLayeredImage: a Docker archive with its passthru.
plumbing: buildLayeredImage:
import ./mkNixShellImage.nix plumbing { function = "buildNixShellImage"; layered = buildLayeredImage; }
