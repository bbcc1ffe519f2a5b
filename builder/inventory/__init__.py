"""What an image holds: its layers read back into store paths and other files, and the
documents that say it (SBOMs), for the ``build-sbom`` command and the ``strata`` tool.

    names      a store path's name and version, as Nix's builtins.parseDrvName splits them
    contents   an image (archive, OCI layout, stream script) read layer by layer
    sbom       the SBOM's model: the image's store paths with hashes, references, licences
    spdxids    the SPDX licence ids the documents may declare
    spdx       the model as an SPDX 2.3 JSON document
    cyclonedx  the model as a CycloneDX 1.5 JSON document
    compare    two images' contents compared: what a release adds, drops, changes, uploads
"""
