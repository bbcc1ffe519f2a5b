"""The image configuration JSON (Docker image spec v1.2, OCI image config).

Serialised with sorted keys and no spaces: its sha256 is the image ID and the config's
blob name, so the bytes must depend on nothing but the inputs. It holds no layer sizes, no
blob digests and no layer ids, only the diff_ids: compressing the layers differently gives
the same config. A config as the user gives it is checked and made canonical here too
(container_config): Docker's field names in any case, a string command as a list.
"""

import collections
import json

from ..core.errors import StrataError

History = collections.namedtuple("History", "created_by comment author", defaults=(None,))
"""A layer's entry in the image history; None leaves a field out."""


def image_config(spec, diff_ids, history, base=None):
    """The config bytes for the layers with `diff_ids`, one History a layer of ours, after
    the layers of the `base` image (a baseimage.BaseImage) if there is one."""
    if len(diff_ids) != len(history) + (len(base.layers) if base else 0):
        raise ValueError("one history entry a layer")
    document = {
        "architecture": spec.architecture,
        "os": spec.os,
        "config": inherited(base.config.get("config") or {}, spec.config, spec.base_config) if base else spec.config,
        "created": spec.created,
        "history": (base_history(base) if base else []) + [
            dict({"created": spec.created}, **{key: value for key, value in entry._asdict().items() if value is not None})
            for entry in history
        ],
        "rootfs": {"type": "layers", "diff_ids": list(diff_ids)},
    }
    if spec.variant:
        document["variant"] = spec.variant
    return canonical_json(document)


def inherited(base, config, mode="inherit"):
    """The container config of an image over a base with `base` as its config: with `mode`
    "inherit", every field from the base unless `config` sets it, and Env merged: the base's
    first, one entry a name, the later value of a name winning; with "env", only Env merged
    so; with "none", `config` alone."""
    if mode == "none":
        return config
    merged = dict(base) if mode == "inherit" else {key: value for key, value in base.items() if key == "Env"}
    merged.update(config)
    env = {}
    for entry in list(base.get("Env") or []) + list(config.get("Env") or []):
        name, _, value = entry.partition("=")
        env[name] = value
    if env:
        merged["Env"] = ["%s=%s" % item for item in env.items()]
    return merged


def base_history(base):
    """The base's history, or, where it does not have one entry a layer (some tools write
    none), one plain entry a layer instead, as registries want."""
    history = [entry for entry in base.history() if isinstance(entry, dict)]
    if sum(1 for entry in history if not entry.get("empty_layer")) == len(base.layers):
        return history
    return [{"created_by": "base image layer %d" % (index + 1)} for index in range(len(base.layers))]


def canonical_json(document):
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


# The container config fields of the Docker and OCI image specs (and of Docker's container
# config, which images carry too), with their JSON types.
_LIST_OF_STRINGS = "a list of strings"
_COMMAND = "a list of strings, or a string"
_STRING = "a string"
_STRING_MAP = "an object of strings"
_SET = "an object whose values are {}"
_BOOLEAN = "a boolean"
_INTEGER = "an integer"
_HEALTHCHECK = "an object with Test (a list of strings) and the integers Interval, Timeout, StartPeriod, " \
    "StartInterval, Retries"
CONFIG_FIELDS = {
    "User": _STRING, "ExposedPorts": _SET, "Env": _LIST_OF_STRINGS, "Entrypoint": _COMMAND,
    "Cmd": _COMMAND, "Volumes": _SET, "WorkingDir": _STRING, "Labels": _STRING_MAP,
    "StopSignal": _STRING, "StopTimeout": _INTEGER, "Shell": _COMMAND, "OnBuild": _LIST_OF_STRINGS,
    "Healthcheck": _HEALTHCHECK, "ArgsEscaped": _BOOLEAN, "Memory": _INTEGER,
    "MemorySwap": _INTEGER, "CpuShares": _INTEGER, "Hostname": _STRING, "Domainname": _STRING,
    "AttachStdin": _BOOLEAN, "AttachStdout": _BOOLEAN, "AttachStderr": _BOOLEAN, "Tty": _BOOLEAN,
    "OpenStdin": _BOOLEAN, "StdinOnce": _BOOLEAN, "Image": _STRING, "NetworkDisabled": _BOOLEAN,
    "MacAddress": _STRING,
}
_CANONICAL = {name.lower(): name for name in CONFIG_FIELDS}
_HEALTHCHECK_FIELDS = {"Test": _LIST_OF_STRINGS, "Interval": _INTEGER, "Timeout": _INTEGER,
                       "StartPeriod": _INTEGER, "StartInterval": _INTEGER, "Retries": _INTEGER}

GOARCH = ("386", "amd64", "arm", "arm64", "loong64", "mips", "mips64", "mips64le", "mipsle", "ppc64",
          "ppc64le", "riscv64", "s390x", "wasm")
"""The architectures an image may name: Go's GOARCH values, as the OCI image spec asks."""

_MACHINES = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "armv6l": "arm", "i686": "386",
             "ppc64le": "ppc64le", "s390x": "s390x", "riscv64": "riscv64"}


def this_architecture():
    """The GOARCH name of the machine this runs on (its machine name where none is known)."""
    import platform  # here, not above: only the strata command asks
    return _MACHINES.get(platform.machine(), platform.machine())


def container_config(config):
    """The config object in canonical form. Field names are matched without regard to case,
    as Docker reads them (``cmd`` is ``Cmd``), and written in their canonical case; ``Cmd``,
    ``Entrypoint`` and ``Shell`` given as a string are a list of that one string, as Docker
    reads them. An unknown field, a wrong type, or a value a runtime would refuse only when
    the container starts is an error here: a misspelt field would otherwise be silently
    dropped by every runtime."""
    if config is None:
        return {}
    canonical = {}
    for key, value in config.items():
        name = _CANONICAL.get(key.lower())
        if name is None:
            raise StrataError("config.%s: not a container config field (known: %s)"
                              % (key, ", ".join(sorted(CONFIG_FIELDS))))
        if name in canonical:
            raise StrataError("config.%s: given twice (as %s too); field names are read without regard to case"
                              % (key, next(other for other in config if _CANONICAL.get(other.lower()) == name)))
        expected = CONFIG_FIELDS[name]
        if expected == _COMMAND and isinstance(value, str):
            value = [value]
        if not _has_type(value, expected):
            raise StrataError("config.%s: expected %s, got %s" % (key, expected, json.dumps(value)))
        canonical[name] = value
    _check_values(canonical)
    return canonical


def _check_values(config):
    for entry in config.get("Env", []):
        if "=" not in entry or entry.startswith("="):
            raise StrataError("config.Env: %r is not NAME=VALUE" % entry)
    working_dir = config.get("WorkingDir")
    if working_dir and not working_dir.startswith("/"):
        raise StrataError("config.WorkingDir: %r is not an absolute path, which every runtime refuses" % working_dir)
    for port in config.get("ExposedPorts", {}):
        number, _, protocol = port.partition("/")
        low, _, high = number.partition("-")
        if not (low.isdigit() and (not high or high.isdigit()) and protocol in ("", "tcp", "udp", "sctp")):
            raise StrataError("config.ExposedPorts: %r is not PORT, PORT/tcp, PORT/udp or PORT/sctp" % port)


def check_architecture(architecture):
    if architecture not in GOARCH:
        raise StrataError("architecture: %r is not a GOARCH name (known: %s)" % (architecture, ", ".join(GOARCH)))
    return architecture


def _has_type(value, expected):
    if expected == _STRING:
        return isinstance(value, str)
    if expected in (_LIST_OF_STRINGS, _COMMAND):
        return isinstance(value, list) and all(isinstance(item, str) for item in value)
    if expected == _STRING_MAP:
        return isinstance(value, dict) and all(isinstance(item, str) for item in value.values())
    if expected == _SET:
        return isinstance(value, dict) and all(item == {} for item in value.values())
    if expected == _BOOLEAN:
        return isinstance(value, bool)
    if expected == _INTEGER:
        return isinstance(value, int) and not isinstance(value, bool)
    if expected == _HEALTHCHECK:
        return isinstance(value, dict) and all(
            key in _HEALTHCHECK_FIELDS and _has_type(item, _HEALTHCHECK_FIELDS[key]) for key, item in value.items())
    raise AssertionError(expected)
