# buildMultiArchImage: images built for several platforms (each with its own `architecture`
# and `variant`) as one OCI image index, in an OCI layout directory whose blobs link to the
# images' own: nothing is copied. Two images of one platform are an error.
# Arguments:
#   name     the image name (lowercased)
#   tag      "latest"
#   images   the images: archives or OCI layouts, from buildImage, buildLayeredImage, ...
# passthru: imageName, imageTag, `sbom` (a directory holding each image's SBOM that has
# one, by its place in `images`), and the copyTo* scripts (copyToRegistry pushes every
# image's blobs and manifest, then the index under the tag, and attaches each image's SBOM
# to its manifest).
plumbing:
let
  inherit (plumbing) runBuilder toLower baseName readBaseImage;
in
{ name, tag ? "latest", images }:
let
  imageName = toLower name;
  image = runBuilder {
    name = "oci-index-${baseName imageName}";
    command = "build-multi-arch-image";
    attrs = {
      imageName = name;
      inherit tag;
      images = map (image: readBaseImage { fromImage = image; function = "buildMultiArchImage"; argument = "images"; })
        checked;
    };
  };
  checked = plumbing.packages "buildMultiArchImage" "images" images;
  sbom = plumbing.writeTree "${baseName imageName}-sbom" (builtins.listToAttrs (builtins.genList
    (number: { name = toString number; value.link = (builtins.elemAt checked number).sbom; })
    (builtins.length checked)));
  withSbom = builtins.all (image: image ? sbom) checked;
in
image // plumbing.copyScripts ({ inherit image; reference = "${imageName}:${tag}"; } // (if withSbom then { inherit sbom; } else { }))
// { inherit imageName; imageTag = tag; } // (if withSbom then { inherit sbom; } else { })
