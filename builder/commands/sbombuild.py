"""The ``build-sbom`` command: an image's SBOM (see inventory.sbom) written as
``spdx.json`` and ``cyclonedx.json`` in the output directory."""

import json
import os

from ..core.output import output_directory
from ..image.baseimage import BaseImage
from ..inventory import cyclonedx, spdx
from ..inventory.contents import read_image
from ..inventory.sbom import describe
from ..nix.graph import from_structured


def build_sbom(spec):
    """The ``build-sbom`` command: `spec` a spec.SbomSpec."""
    contents = read_image(spec.image, spec.store_dir)
    base = BaseImage(spec.base) if spec.base else None
    sbom = describe(contents, from_structured(spec.closure, "closure"), spec.packages, spec.copy_to_root,
                    base.layers if base else [], base.repo_tags if base else [])
    with output_directory(spec.out) as out:
        for name, document in (("spdx.json", spdx.document(sbom)), ("cyclonedx.json", cyclonedx.document(sbom))):
            with open(os.path.join(out, name), "w") as stream:
                stream.write(json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
