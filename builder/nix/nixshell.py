"""Nix shell images (buildNixShellImage, streamNixShellImage): the files that recreate a
derivation's build environment in an image the way ``nix-shell`` recreates it on a host.

The ``nix-shell-files`` command writes a directory that the image's config names:

    rc                    what bash reads: with ``--rcfile`` for an interactive shell (and
                          ``command``), or as the script it runs (``run``)
    bin/buildDerivation   runs the derivation's builder with its arguments, as Nix would
    pass-as-file/NAME     the value of each ``passAsFile`` attribute (``$NAMEPath``)
    .attrs.json           for a derivation with structured attributes: its attributes, its
    .attrs.sh             outputs as a map of paths, and the same as bash declarations

The rc file follows what Nix's nix-shell writes (Nix 2.8, src/nix-build/nix-build.cc):
PATH unset, the structured attributes declared, ``$stdenv/setup`` sourced where there is
one, PATH then prefixed with the shell's directory and ``buildDerivation``'s, the shell's
own SHELL and BASH, errors no longer fatal, the ``shellHook`` run through ``runHook`` where
the setup defined it, and the command or script last, followed by ``exit``. The environment
itself (the derivation's attributes as variables) is the image's config, made by the Nix
side.
"""

import json
import os
import re
import shlex

from ..core.output import output_directory

NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def write_shell_files(spec):
    """The ``nix-shell-files`` command: the directory above, from a spec.ShellSpec."""
    out = spec.out
    with output_directory(out):
        os.makedirs(os.path.join(out, "bin"))
        attrs_sh = None
        if spec.structured_attrs is not None:
            attrs_sh = os.path.join(out, ".attrs.sh")
            _write(out, ".attrs.json", json.dumps(spec.structured_attrs, sort_keys=True, indent=1) + "\n")
            _write(out, ".attrs.sh", attrs_shell(spec.structured_attrs))
        if spec.pass_as_file:
            os.makedirs(os.path.join(out, "pass-as-file"))
        for name, value in sorted(spec.pass_as_file.items()):
            _write(out, os.path.join("pass-as-file", name), value)
        words = [spec.builder] + spec.args
        _write(out, os.path.join("bin", "buildDerivation"),
               "#!%s\nexec %s\n" % (spec.shell, " ".join(shlex.quote(word) for word in words)), 0o555)
        commands = spec.command if spec.run is None else spec.run
        _write(out, "rc", rc_file(spec.shell, spec.static_path, attrs_sh, commands))


def rc_file(shell, static_path, attrs_sh, commands):
    """The rc file's text (see the module's docstring); `static_path` the shell's
    directory and buildDerivation's, which the image's PATH holds too; `commands` those
    of ``command`` or ``run``, or None."""
    lines = ["unset PATH", "dontAddDisableDepTrack=1"]
    if attrs_sh:
        lines.append("source %s" % shlex.quote(attrs_sh))
    lines += [
        '[ -e "$stdenv/setup" ] && source "$stdenv/setup"',
        'PATH=%s:"$PATH"' % shlex.quote(static_path),
        "SHELL=%s" % shlex.quote(shell),
        "BASH=%s" % shlex.quote(shell),
        "set +e",
        "[ -n \"$PS1\" ] && [ -z \"$NIX_SHELL_PRESERVE_PROMPT\" ] && "
        r"""PS1='\n\[\033[1;32m\][nix-shell:\w]\$\[\033[0m\] '""",
        'if [ "$(type -t runHook)" = function ]; then runHook shellHook; fi',
        "unset NIX_ENFORCE_PURITY",
        "shopt -u nullglob",
        "shopt -s execfail",
    ]
    if commands is not None:
        lines += [commands, "exit"]
    return "\n".join(lines) + "\n"


def attrs_shell(attrs):
    """Structured attributes as bash declarations, as Nix writes ``.attrs.sh``: a string,
    number, boolean or null as a variable; a list of those as an array; an object of those
    as an associative array. Names that are no shell variable, and values of other shapes
    (nested lists and objects, fractions, an object with an empty key), are left to
    ``.attrs.json``."""
    lines = []
    for name, value in sorted(attrs.items()):
        if not NAME.match(name):
            continue
        simple = _simple(value)
        if simple is not None:
            lines.append("declare %s=%s" % (name, simple))
        elif isinstance(value, list):
            items = [_simple(item) for item in value]
            if None not in items:
                lines.append("declare -a %s=(%s)" % (name, " ".join(items)))
        elif isinstance(value, dict) and "" not in value:  # bash has no empty subscript
            items = [(shlex.quote(key), _simple(item)) for key, item in sorted(value.items())]
            if all(item is not None for _, item in items):
                lines.append("declare -A %s=(%s)" % (name, " ".join("[%s]=%s" % item for item in items)))
    return "".join(line + "\n" for line in lines)


def _simple(value):
    """A JSON value of one of the simple shapes as a bash word, else None."""
    if isinstance(value, bool):
        return "1" if value else "''"
    if isinstance(value, str):
        return shlex.quote(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if value is None:
        return "''"
    return None


def _write(out, name, text, mode=0o444):
    path = os.path.join(out, name)
    with open(path, "w", encoding="utf-8") as stream:
        stream.write(text)
    os.chmod(path, mode)
