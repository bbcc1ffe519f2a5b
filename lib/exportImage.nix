# exportImage: an image flattened into one root file-system tarball, by the builder (no VM,
# any number of layers): whiteouts and opaque directories applied, paths resolved through
# the image's symlinks as a runtime resolves them.
# Arguments: fromImage (an archive or OCI layout), fromImageName and fromImageTag (null: the
# first image), name (default: NAME-rootfs.tar, after the image's derivation name); diskSize
# is accepted and ignored (it sizes dockerTools' VM).
plumbing:
let
  inherit (plumbing) runBuilder readBaseImage;
in
{ fromImage
, fromImageName ? null
, fromImageTag ? null
, name ? null
, diskSize ? 1024
}:
let
  base = readBaseImage { inherit fromImage fromImageName fromImageTag; function = "exportImage"; };
  imageName = builtins.elemAt (builtins.match "(docker-image-)?([^.]*).*" (fromImage.name or "image")) 1;
in
runBuilder {
  name = if name != null then name else "${imageName}-rootfs.tar";
  command = "export-image";
  attrs = { inherit base; };
}
