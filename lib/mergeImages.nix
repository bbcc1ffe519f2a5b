# mergeImages: one archive that loads all the given images, whatever each one's format or
# compression; each keeps its own tags, and a layer they share is stored once.
# Argument: a list of images (archives or OCI layouts).
plumbing:
let
  inherit (plumbing) runBuilder readBaseImage;
in
images:
runBuilder {
  name = "merged-images.tar";
  command = "merge-images";
  attrs.images = map (image: readBaseImage { fromImage = image; function = "mergeImages"; argument = "images"; })
    (if builtins.isList images then images
     else throw "strata.mergeImages: takes a list of images, got ${plumbing.describe images}");
}
