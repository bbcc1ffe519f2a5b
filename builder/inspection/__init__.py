"""The ``strata`` command: what images hold, and what a release changes, for people.

    remote   an image in a registry read into the inventory's contents (blobs fetched once)
    cli      ``strata inspect``, ``strata diff``, ``strata sbom``; tables and JSON
"""
