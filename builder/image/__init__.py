"""Images: their names, configuration, formats (Docker archive, OCI layout) and base
images read from any of them.

    naming        image references: lowercasing and the reference grammar
    imageconfig   the image configuration JSON, and the user's config checked
    imageformats  the Docker archive and OCI layout, as a tar or a directory
    imagesources  an archive or layout read by name, and the image asked for in it
    baseimage     base images read and checked, and recorded for the builds over them
"""
