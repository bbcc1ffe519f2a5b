"""Shipping images: strata's own registry client, standard library only.

    credentials   who to log in as, from the files skopeo, podman and docker read
    client        one registry: requests, authentication (basic, bearer), retries
    sources       the image to push: an archive or layout strata wrote, or a stream script
    push          pushing one image: only the blobs the registry lacks, then the manifest
    cli           ``python3 -m builder.registry``: push, and the copyTo* scripts' commands
"""
