# streamLayeredImage: a script that writes the layered image to stdout as a Docker archive:
#   $(nix-build image.nix) | podman load
# Nothing image-sized is stored: the layer derivations record digests only, and the script
# writes each layer once, from the store, checking every store path against its record.
# Arguments: those of buildLayeredImage (see buildLayeredImage.nix), less `format`; the
# layers are streamed uncompressed. passthru: as buildLayeredImage, and isExe = true.
plumbing:
import ./mkLayeredImage.nix plumbing {
  command = "write-stream-script";
  stream = true;
  derivationName = baseName: format: "stream-${baseName}";
}
