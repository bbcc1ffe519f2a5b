# streamNixShellImage: a script that writes a Nix shell image to stdout (see
# buildNixShellImage.nix for what the image holds and its arguments, less `compressor`):
#   $(nix-build shell.nix) | podman load && podman run -it NAME
plumbing: streamLayeredImage:
import ./mkNixShellImage.nix plumbing { function = "streamNixShellImage"; layered = streamLayeredImage; }
