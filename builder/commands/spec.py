"""The JSON spec: the one document a Nix function hands to the builder.

The Nix functions in ``lib/`` build their derivations with ``__structuredAttrs``, so Nix
writes every attribute into ``.attrs.json``; that file is the spec. Each command reads the
fields below that it needs (anything else in the file is Nix's own and ignored). Every field
is checked here, once; an error names the field and what is wrong with it.

The image (ImageSpec; build-image, plan-layers, build-layered-image, write-stream-script):

========================  =============================================================
``imageName``             image name; lowercased, then checked against the reference grammar
``tag``                   tag, or null for the hash part of ``outputs.out`` (dockerTools' rule)
``outputs.out``           where the output goes (Nix fills it in)
``config``                the container config (``Cmd``, ``Env``, ...), an object or null
``configRefs``            a store file whose references are what ``config`` refers to, or null
``architecture``          GOARCH name, e.g. ``amd64``; ``variant`` (e.g. ``v8``) or null
``os``                    default ``linux``
``created``               RFC 3339 time of the image, or ``"now"`` (not reproducible)
``format``                ``docker-archive`` / ``oci-archive`` (the same tar) or ``oci`` (a directory)
``closure``               the closure graph: exportReferencesGraph's list (structured attrs),
                          or the path of a file in the plain/registration line format
``contents``              store paths whose closure a layered image holds
``layers``                prebuilt layer directories (layer derivations), bottom first
``customisationLayer``    the prebuilt top layer, or null
``maxLayers``             the layer budget of a layered image (at least 2; default 100)
``layeringPipeline``      dockerTools' layering steps (see pipeline), or null for strata's own
``layerPlan``             the file of an earlier release's plan (plan-layers' JSON), whose
                          grouping strata's own layering keeps (see layering), or null
``includeStorePaths``     false leaves a layered image's store paths out (default true)
``interpreter``           the Python a stream script runs with (default: this one)
``includeNixDB``          add a layer with the Nix database of the image's store paths
``nixDbLayer``            that layer prebuilt (layered images), or null
``nixUid``, ``nixGid``    owner of /nix: the store, the database (default 0, 0)
``base``                  a base image as read-base-image wrote it, or null
``layerSplit``            or: a JSON file of lists of store paths, the layers exactly
                          (nix2container's layersFile): each store path of the closure in one
``ignore``                store paths the planned layers leave out
``perms``                 the image's rules (see perms): each must be applied by a layer
``ownLayers``             or: the budget of the image's own layers alone (the store layers
                          and the top one), whatever the base and the lower layers take
``baseConfig``            what the config takes of a base image's: ``inherit`` (every field
                          it does not set, Env merged; the default), ``env`` (its Env only)
                          or ``none`` (nix2container's meaning)
========================  =============================================================

A layer (LayerSpec; build-layer, and the layers the image commands write themselves):

========================  =============================================================
``storePaths``            store paths the layer holds whole (no closure is taken)
``deps``, ``closure``     or: the closure of ``deps``, from ``closure`` ...
``lowerLayers``           ... less what these layer directories hold
``copyToRoot``            store directories whose contents are copied to ``/``, in order
``contents``              store directories whose files are linked at ``/`` (before copyToRoot)
``keepContentsDirlinks``  merge a later directory through an earlier symlink (default false)
``extraCommands``         shell run in a copy of the root before it is written ("" for none)
``fakeRootCommands``      shell run next under fakeroot: the owners it sets are kept ("" for none)
``zstd``                  (any command) the zstd program, for Pythons before 3.14, or null
``users``, ``groups``     declared accounts (see accounts): /etc files, homes, /tmp
``runAsRoot``             (build-image) shell run as root with the image's root as / (base
                          unpacked, copyToRoot copied), under fakeroot and proot ("" for none)
``enableFakechroot``      run fakeRootCommands with the layer's root as / (through ``proot``,
                          the binary, binding the store, /dev, /proc, /sys and ``prootBinds``)
``shell``, ``toolsPath``  the shell for the commands and their PATH; ``fakeroot`` the binary
``mtime``                 time of every file: RFC 3339, seconds, ``"now"``, or null for
                          SOURCE_DATE_EPOCH, else ``created`` (1970-01-01T00:00:01Z when
                          ``created`` is ``"now"``); 1970 to 2262-04-11T23:47:16Z
``uid gid uname gname``   owner of every entry (default 0, 0, root, root)
``compressor``            ``none``, ``gz`` or ``zstd`` for the blob (default ``gz``)
``keepBlob``              false records the digests only (default true)
``storeDir``              the Nix store directory (default ``/nix/store``)
``layerName``             the layer's name in its record and the image history
``base``                  the base image (as read-base-image wrote it) the layer goes over
``perms``                 modes and owners of chosen entries (see perms), [] for none
``permsOfImage``          the rules are an image's: one whose path the layer lacks is left
                          to the image's other layers (default false: an error)
``referencesOf``          store paths whose references' closure the layer holds too (not the
                          paths themselves), less what ``lowerLayers`` hold
``ignore``                store paths the layer leaves out, whatever else says to hold them
``history``               the layer's entry in the image history: ``created_by``, ``author``,
                          ``comment`` (null: strata's own)
``nixUid``, ``nixGid``    owner of the store paths the layer holds, and of /nix (null: ``uid``)
========================  =============================================================

An image to flatten (ExportSpec; export-image): ``base``. Images to merge (MergeSpec;
merge-images): ``images``, a list of such directories, and ``mtime``.

Images of several platforms (MultiArchSpec; build-multi-arch-image): ``imageName``, ``tag``
(default ``latest``) and ``images``, each as read-base-image wrote it.

An image to pull (PullSpec; pull-image): ``imageName``, ``imageDigest``, ``os``, ``arch``,
``variant``, ``finalImageName``, ``finalImageTag``, ``tlsVerify``, ``skopeo`` (the binary),
``sslCertFile`` (a CA bundle for skopeo, or null).

The files of a Nix shell image (ShellSpec; nix-shell-files, see nixshell): ``shell`` (a
bash), ``staticPath`` (the shell's directory and the output's bin, before the setup's PATH),
``command`` or ``run`` (or neither), the derivation's ``drvBuilder`` and ``drvArgs``, ``passAsFile`` (an object:
name to value) and ``structuredAttrs`` (its attributes as .attrs.json holds them, or null).

A pulled manifest's layout (ManifestLayoutSpec; layout-from-manifest): ``manifest`` (the
manifest file) and ``blobs`` (files named ``<hex digest>``, or ``<hash>-<hex digest>`` in
the store).

An image's SBOM (SbomSpec; build-sbom, see inventory.sbom): ``image`` (the image it
describes: an archive, an OCI layout or a stream script), ``closure`` (the graph of what the
image was built from), ``storeDir``, ``base`` (the base image as read-base-image wrote it, or
null), ``copyToRoot`` (store paths whose files are at / rather than in the store) and
``packages``: what the Nix expression knew of the packages it named, each an object with
``path`` and, where known, ``pname``, ``version``, ``licenses`` (objects with ``spdxId``
and/or ``name``), ``homepage``, ``description``, ``urls`` and ``outputHash``.

A base image to read (BaseSpec; read-base-image):

========================  =============================================================
``fromImage``             a Docker archive, OCI archive or OCI layout directory
``fromImageName``         the image to take from it (lowercased), or null for the first
``fromImageTag``          its tag, or null for any
========================  =============================================================
"""

import collections
import json
import os

from ..core.errors import StrataError
from ..core.fields import Fields
from ..core.interpreter import this_interpreter
from ..image import naming
from ..image.imageconfig import check_architecture, container_config
from ..tar import streams
from ..tar.streams import COMPRESSORS
from . import times

ImageSpec = collections.namedtuple("ImageSpec", [
    "name", "tag", "out", "config", "config_refs", "architecture", "variant", "os", "created",
    "format", "layers", "customisation_layer", "closure", "contents", "max_layers", "include_store_paths", "interpreter", "include_nix_db", "nix_db_layer",
    "nix_uid", "nix_gid", "base", "layering_pipeline", "layer_plan", "perms", "own_layers", "base_config",
    "layer_split", "ignore"])
"""What an image command reads: the image, its metadata and where its layers come from."""

LayerSpec = collections.namedtuple("LayerSpec", [
    "out", "closure", "store_paths", "deps", "lower_layers", "copy_to_root", "contents",
    "keep_dirlinks", "extra_commands", "shell", "tools_path", "mtime", "uid", "gid", "uname",
    "gname", "compressor", "keep_blob", "store_dir", "layer_name", "base", "fake_root_commands", "fakeroot",
    "enable_fakechroot", "proot", "proot_binds", "run_as_root", "users", "groups", "perms", "perms_of_image",
    "ignore", "references_of", "history", "store_owner"])
"""What a layer is made of and how it is written."""

BaseSpec = collections.namedtuple("BaseSpec", "out from_image from_image_name from_image_tag")
"""Which image of an archive or layout to read as a base (read-base-image)."""

ExportSpec = collections.namedtuple("ExportSpec", "out base mtime")
"""An image to flatten (export-image): ``base``, as read-base-image wrote it; ``mtime`` the
time of the directories only the layers' entries imply."""

MergeSpec = collections.namedtuple("MergeSpec", "out images mtime")
"""Images to put in one archive (merge-images): ``images``, each as read-base-image wrote it."""

MultiArchSpec = collections.namedtuple("MultiArchSpec", "out name tag images")
"""Images of several platforms to put in one index (build-multi-arch-image)."""

ManifestLayoutSpec = collections.namedtuple("ManifestLayoutSpec", "out manifest blobs")

SbomSpec = collections.namedtuple("SbomSpec", "out image closure store_dir base copy_to_root packages")

PullSpec = collections.namedtuple(
    "PullSpec", "out image_name image_digest os arch variant final_image_name final_image_tag tls_verify skopeo"
                " ssl_cert_file")
"""An image to pull from a registry (pull-image)."""

ShellSpec = collections.namedtuple(
    "ShellSpec", "out shell static_path command run builder args pass_as_file structured_attrs")
"""The files that recreate a derivation's build environment (nix-shell-files)."""

FORMATS = ("docker-archive", "oci-archive", "oci")
BASE_CONFIG = ("inherit", "env", "none")


def load(filename):
    """The parsed JSON document in `filename`, with errors that name the file and line."""
    try:
        with open(filename, "rb") as stream:
            return json.load(stream)
    except OSError as error:
        raise StrataError("%s: cannot read the spec: %s" % (filename, error.strerror))
    except (ValueError, RecursionError) as error:  # RecursionError: nested past Python's stack
        raise StrataError("%s: not valid JSON: %s" % (filename, error))


def image_spec(document, out=None):
    """An ImageSpec from the spec `document` (a dict); `out` overrides ``outputs.out``."""
    fields = Fields(document)
    out = _out(fields, out)
    created = fields.get("created", str, times.DEFAULT_CREATED)
    tag = fields.get("tag", str, None)
    max_layers = fields.get("maxLayers", int, None)
    if max_layers is not None and max_layers < 2:
        raise StrataError("maxLayers: must be at least 2 (store paths and the top layer), got %d" % max_layers)
    return ImageSpec(
        name=naming.image_name(fields.get("imageName", str)),
        tag=naming.image_tag(naming.tag_from_output(out) if tag is None else tag),
        out=out,
        config=container_config(fields.get("config", dict, None)),
        config_refs=fields.get("configRefs", str, None),
        architecture=check_architecture(fields.get("architecture", str, "amd64")),
        variant=fields.get("variant", str, None),
        os=fields.get("os", str, "linux"),
        created=times.format_time(times.now() if created == "now" else times.parse_time(created, "created")),
        format=fields.choice("format", FORMATS, "docker-archive"),
        layers=fields.string_list("layers"),
        customisation_layer=fields.get("customisationLayer", str, None),
        closure=fields.get("closure", (list, str), None),
        contents=fields.string_list("contents"),
        max_layers=max_layers,
        include_store_paths=fields.get("includeStorePaths", bool, True),
        interpreter=fields.get("interpreter", str, None) or this_interpreter(),
        include_nix_db=fields.get("includeNixDB", bool, False),
        nix_db_layer=fields.get("nixDbLayer", str, None),
        nix_uid=fields.owner_id("nixUid"), nix_gid=fields.owner_id("nixGid"),
        base=fields.get("base", str, None),
        layering_pipeline=fields.get("layeringPipeline", list, None),
        layer_plan=fields.get("layerPlan", str, None),
        layer_split=fields.get("layerSplit", str, None),
        ignore=fields.string_list("ignore"),
        perms=_perms(fields),
        own_layers=fields.get("ownLayers", int, None),
        base_config=fields.choice("baseConfig", BASE_CONFIG, "inherit"),
    )


def layer_spec(document, out=None, environ=os.environ):
    """A LayerSpec from the spec `document` (a dict); `out` overrides ``outputs.out``."""
    fields = Fields(document)
    return LayerSpec(
        out=_out(fields, out),
        closure=fields.get("closure", (list, str), None),
        store_paths=fields.string_list("storePaths"),
        deps=fields.string_list("deps"),
        lower_layers=fields.string_list("lowerLayers"),
        copy_to_root=fields.string_list("copyToRoot"),
        contents=fields.string_list("contents"),
        keep_dirlinks=fields.get("keepContentsDirlinks", bool, False),
        extra_commands=fields.get("extraCommands", str, ""),
        shell=fields.get("shell", str, None),
        tools_path=fields.get("toolsPath", str, "/usr/bin:/bin"),
        mtime=times.file_mtime(fields, environ),
        uid=fields.owner_id("uid"), gid=fields.owner_id("gid"),
        uname=fields.get("uname", str, "root"), gname=fields.get("gname", str, "root"),
        compressor=fields.choice("compressor", COMPRESSORS, "gz"),
        keep_blob=fields.get("keepBlob", bool, True),
        store_dir=fields.get("storeDir", str, "/nix/store").rstrip("/"),
        layer_name=fields.get("layerName", str, "layer"),
        base=fields.get("base", str, None),
        fake_root_commands=fields.get("fakeRootCommands", str, ""),
        fakeroot=fields.get("fakeroot", str, None),
        enable_fakechroot=fields.get("enableFakechroot", bool, False),
        proot=fields.get("proot", str, None),
        proot_binds=fields.string_list("prootBinds"),
        run_as_root=fields.get("runAsRoot", str, ""),
        users=_accounts(fields, "users"), groups=_accounts(fields, "groups"),
        perms=_perms(fields), perms_of_image=fields.get("permsOfImage", bool, False),
        ignore=fields.string_list("ignore"), references_of=fields.string_list("referencesOf"),
        history=_history(fields),
        store_owner=None if fields.get("nixUid", int, None) is None else (fields.owner_id("nixUid"),
                                                                          fields.owner_id("nixGid")),
    )


def _history(fields):
    """``history``: the layer's entry in the image history, an object of strings among
    ``created_by``, ``author`` and ``comment``, or null."""
    value = fields.get("history", dict, None)
    if value is not None and (not set(value) <= {"created_by", "author", "comment"}
                              or not all(isinstance(text, str) for text in value.values())):
        raise StrataError("history: expected an object of strings among created_by, author and comment")
    return value


def _accounts(fields, key):
    """``users`` or ``groups``: an object of objects (see accounts)."""
    value = fields.get(key, dict, {})
    for name, entry in value.items():
        if not isinstance(entry, dict) or not name or ":" in name or "\n" in name:
            raise StrataError("%s.%s: expected an object of fields, under a name without ':'" % (key, name))
    return value


def _perms(fields):
    """``perms``: a list of rules (see perms)."""
    from ..tree import perms  # here, not above: most specs have no rules, and every start pays the imports
    return perms.rules(fields.get("perms", list, []))


def export_spec(document, out=None, environ=os.environ):
    fields = Fields(document)
    return ExportSpec(out=_out(fields, out), base=fields.get("base", str), mtime=times.file_mtime(fields, environ))


def merge_spec(document, out=None, environ=os.environ):
    fields = Fields(document)
    return MergeSpec(out=_out(fields, out), images=_images(fields), mtime=times.file_mtime(fields, environ))


def multi_arch_spec(document, out=None):
    fields = Fields(document)
    return MultiArchSpec(out=_out(fields, out), name=naming.image_name(fields.get("imageName", str)),
                         tag=naming.image_tag(fields.get("tag", str, "latest")), images=_images(fields))


def _images(fields):
    images = fields.string_list("images")
    if not images:
        raise StrataError("images: expected at least one image")
    return images


def pull_spec(document, out=None):
    fields = Fields(document)
    digest = fields.get("imageDigest", str)
    if not digest.startswith("sha256:") or len(digest) != 71:
        raise StrataError("imageDigest: %r is not a sha256 digest (sha256:<64 hex digits>)" % digest)
    image_name = fields.get("imageName", str)
    return PullSpec(
        out=_out(fields, out),
        image_name=image_name,
        image_digest=digest,
        os=fields.get("os", str, "linux"),
        arch=check_architecture(fields.get("arch", str, "amd64")),
        variant=fields.get("variant", str, None),
        final_image_name=naming.image_name(fields.get("finalImageName", str, image_name)),
        final_image_tag=naming.image_tag(fields.get("finalImageTag", str, "latest")),
        tls_verify=fields.get("tlsVerify", bool, True),
        skopeo=fields.get("skopeo", str),
        ssl_cert_file=fields.get("sslCertFile", str, None),
    )


def manifest_layout_spec(document, out=None):
    fields = Fields(document)
    return ManifestLayoutSpec(out=_out(fields, out), manifest=fields.get("manifest", str), blobs=fields.string_list("blobs"))


def sbom_spec(document, out=None):
    fields = Fields(document)
    packages = fields.get("packages", list, [])
    for index, item in enumerate(packages):
        if not isinstance(item, dict) or not isinstance(item.get("path"), str):
            raise StrataError("packages[%d]: expected an object with the package's path" % index)
    return SbomSpec(out=_out(fields, out), image=fields.get("image", str), closure=fields.get("closure", list),
                    store_dir=fields.get("storeDir", str, "/nix/store").rstrip("/"), base=fields.get("base", str, None),
                    copy_to_root=fields.string_list("copyToRoot"), packages=packages)


def shell_spec(document, out=None):
    fields = Fields(document)
    command, run = fields.get("command", str, None), fields.get("run", str, None)
    if command is not None and run is not None:
        raise StrataError("command, run: give one of them (run is a script, command runs in an interactive shell)")
    pass_as_file = fields.get("passAsFile", dict, {})
    for name, value in pass_as_file.items():
        if not isinstance(value, str) or not name or "/" in name or name in (".", ".."):
            raise StrataError("passAsFile.%s: expected a string under a plain name" % name)
    return ShellSpec(
        out=_out(fields, out), shell=fields.get("shell", str), static_path=fields.get("staticPath", str),
        command=command, run=run,
        builder=fields.get("drvBuilder", str), args=fields.string_list("drvArgs"), pass_as_file=pass_as_file,
        structured_attrs=fields.get("structuredAttrs", dict, None))


def base_spec(document, out=None):
    """A BaseSpec from the spec `document` (a dict); `out` overrides ``outputs.out``."""
    fields = Fields(document)
    name = fields.get("fromImageName", str, None)
    return BaseSpec(
        out=_out(fields, out),
        from_image=fields.get("fromImage", str),
        from_image_name=None if name is None else naming.image_name(name),
        from_image_tag=None if fields.get("fromImageTag", str, None) is None else naming.image_tag(fields.get("fromImageTag", str)),
    )


def use_tools(document):
    """Take up the programs any command may need from its spec: ``zstd``, the zstd program
    for interpreters without ``compression.zstd`` (a path, or null)."""
    streams.ZSTD_BINARY["path"] = Fields(document).get("zstd", str, None)


def _out(fields, out):
    out = out or fields.get("outputs", dict, {}).get("out")
    if not isinstance(out, str) or not out:
        raise StrataError("outputs.out: no output path given (set it, or pass --out)")
    return out
