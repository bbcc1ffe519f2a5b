"""Shipping images: strata's own registry client, standard library only.

    reference     the destination, checked whole before any connection
    credentials   who to log in as, from the files skopeo, podman and docker read
    secrets       what is never printed: redacted from every line and error
    transport     one HTTP exchange, bounded in time and size; stale connections renewed
    auth          logging in: basic, or a bearer token from the registry's token service
    client        one registry: the protocol, retries, resumed uploads, what it verifies
    locations     the record of where blobs were pushed, for automatic mounts
    sources       the image to push: an archive or layout strata wrote, or a stream script
    push          pushing one image: only the blobs the registry lacks, then the manifest
    referrers     SBOM documents as OCI artifacts referring to the image: pushed, fetched
    reading       images read back: manifests for a platform, blobs into files
    load          podman load, docker load, and skopeo for other destinations
    cli           ``python3 -m builder.registry``: push, and the copyTo* scripts' commands
"""
