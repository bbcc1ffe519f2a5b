# nix2container's pullImageFromManifest: a base image pinned by a manifest file the user
# commits (the lock), each of its blobs a fixed-output derivation of its own (fetched by
# strata's registry client, checked by Nix against the blob's digest, cached one by one),
# put together into an OCI layout that fromImage takes. Arguments (nix2container's):
#   imageName      the repository, as the registry names it ("library/alpine" on Docker Hub)
#   imageManifest  the manifest JSON file (write it with passthru.getManifest)
#   imageTag       "latest"; os "linux"; arch from `system`: what getManifest asks for
#   tlsVerify      true; false also allows plain HTTP
#   registryUrl    "registry-1.docker.io"
# passthru getManifest: bin/get-manifest prints the manifest of imageName:imageTag for os/arch.
plumbing:
let
  inherit (plumbing) runBuilder baseName toLower describe;
in
{ imageName
, imageManifest ? null
, imageTag ? "latest"
, os ? "linux"
, arch ? plumbing.defaultArchitecture
, tlsVerify ? true
, registryUrl ? "registry-1.docker.io"
, meta ? { }
}:
let
  image = "docker://${registryUrl}/${imageName}:${imageTag}";
  tlsFlags = if tlsVerify then "" else " + [\"--tls-verify=false\"]";
  getManifest = plumbing.program "get-manifest" "builder.registry.cli"
    "[\"get-manifest\", \"${image}\", \"--os\", \"${os}\", \"--arch\", \"${arch}\"]${tlsFlags} + sys.argv[1:]";

  manifest =
    if imageManifest == null then
      throw "strata.nix2container.pullImageFromManifest: give `imageManifest`, the manifest file (write it with the result's getManifest)"
    else builtins.fromJSON (builtins.readFile imageManifest);

  hexOf = digest:
    let parts = builtins.match "sha256:([0-9a-f]{64})" digest; in
    if parts == null then throw "strata.nix2container.pullImageFromManifest: `imageManifest` names ${describe digest}, not a sha256 digest"
    else builtins.head parts;

  blob = descriptor: builtins.derivation ({
    name = hexOf descriptor.digest;
    inherit (plumbing) system;
    builder = plumbing.interpreter;
    args = [ "-I" "-S" "-c" (plumbing.callMain "builder.registry.cli" "sys.argv[1:]")
      "fetch-blob" image descriptor.digest (toString descriptor.size) (builtins.placeholder "out") ]
      ++ (if tlsVerify then [ ] else [ "--tls-verify=false" ]);
    impureEnvVars = plumbing.proxyVariables;
    outputHashMode = "flat";
    outputHashAlgo = "sha256";
    outputHash = hexOf descriptor.digest;
  } // (if plumbing.caBundle == null then { }
        else { SSL_CERT_FILE = plumbing.storeFile "caBundle" "nix2container.pullImageFromManifest" plumbing.caBundle; }));

  layout = runBuilder {
    name = "nix2container-${baseName (toLower imageName)}";
    command = "layout-from-manifest";
    attrs = {
      manifest = imageManifest;
      blobs = map blob ([ manifest.config ] ++ manifest.layers);
    };
  };
in
layout // { inherit getManifest meta imageName imageTag; }
