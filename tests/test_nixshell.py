"""The files of a Nix shell image: structured attributes read back by bash, the rc file,
buildDerivation, passAsFile's files."""

import json
import os
import subprocess

import pytest
from hypothesis import given, settings, strategies

from builder.commands import spec
from builder.core.errors import StrataError
from builder.nix.nixshell import attrs_shell, write_shell_files

BASH = "/bin/bash"
TEXT = strategies.text(strategies.characters(blacklist_characters="\0", blacklist_categories=("Cs",)), max_size=40)


def in_bash(declarations, script):
    return subprocess.run([BASH, "-c", declarations + script], capture_output=True, check=True).stdout.decode()


@settings(max_examples=60, deadline=None)
@given(value=TEXT, items=strategies.lists(TEXT, max_size=4), table=strategies.dictionaries(TEXT.filter(bool), TEXT, max_size=3))
def test_strings_lists_and_objects_come_back_from_bash_as_they_were(value, items, table):
    declarations = attrs_shell({"value": value, "items": items, "table": table})
    script = r'''printf '%s\0' "$value"; printf '%s\0' "${#items[@]}" "${items[@]}"
                 for key in "${!table[@]}"; do printf '%s\0%s\0' "$key" "${table[$key]}"; done'''
    words = in_bash(declarations, script).split("\0")[:-1]
    assert words[0] == value
    count = int(words[1])
    assert words[2:2 + count] == items
    rest = words[2 + count:]
    assert dict(zip(rest[::2], rest[1::2])) == table


def test_simple_values_and_what_is_left_to_the_json():
    declarations = attrs_shell({"yes": True, "no": False, "none": None, "count": 3, "whole": 2.0, "half": 0.5,
                                "nested": {"list": [1]}, "mixed": [1, [2]], "not-a-name": "x", "1st": "x",
                                "empty": {"": "x"}})
    assert declarations.splitlines() == ["declare count=3", "declare no=''", "declare none=''", "declare whole=2",
                                         "declare yes=1"]


def shell_spec(tmp_path, **fields):
    document = dict({"shell": "/store/bash/bin/bash", "staticPath": "/store/bash/bin:%s/bin" % (tmp_path / "files"),
                     "drvBuilder": "/store/bash/bin/bash", "drvArgs": ["-e", "it's a builder.sh"]}, **fields)
    return spec.shell_spec(document, out=str(tmp_path / "files"))


def test_the_files_of_an_unstructured_derivation(tmp_path):
    write_shell_files(shell_spec(tmp_path, passAsFile={"str": "this is a string"}, command="hello"))
    files = tmp_path / "files"
    assert sorted(os.listdir(files)) == ["bin", "pass-as-file", "rc"]
    assert (files / "pass-as-file" / "str").read_text() == "this is a string"
    build = files / "bin" / "buildDerivation"
    assert build.read_text() == "#!/store/bash/bin/bash\nexec /store/bash/bin/bash -e 'it'\"'\"'s a builder.sh'\n"
    assert os.stat(build).st_mode & 0o777 == 0o555
    rc = (files / "rc").read_text().splitlines()
    assert rc[:3] == ["unset PATH", "dontAddDisableDepTrack=1", '[ -e "$stdenv/setup" ] && source "$stdenv/setup"']
    assert rc[3] == "PATH=/store/bash/bin:%s/bin:\"$PATH\"" % files
    assert rc[-3:] == ["shopt -s execfail", "hello", "exit"]


def test_structured_attributes_are_sourced_before_the_setup(tmp_path):
    attrs = {"outputs": {"out": "/store/x-out"}, "words": ["a b", "c"]}
    write_shell_files(shell_spec(tmp_path, structuredAttrs=attrs))
    files = tmp_path / "files"
    assert json.loads((files / ".attrs.json").read_text()) == attrs
    rc = (files / "rc").read_text()
    assert rc.splitlines()[2] == "source %s/.attrs.sh" % files and "exit" not in rc.splitlines()
    assert in_bash("source %s/.attrs.sh;" % files, 'echo "${outputs[out]}|${words[0]}"') == "/store/x-out|a b\n"


@pytest.mark.parametrize("fields, message", [
    ({"command": "a", "run": "b"}, "command, run: give one of them"),
    ({"passAsFile": {"a/b": "x"}}, "passAsFile.a/b: expected a string under a plain name"),
    ({"passAsFile": {"a": 1}}, "passAsFile.a: expected a string under a plain name"),
    ({"drvArgs": [1]}, "drvArgs: expected a list of store paths, got 1"),
])
def test_a_spec_that_cannot_be_made_is_refused(tmp_path, fields, message):
    with pytest.raises(StrataError, match=message.replace("(", r"\(")):
        shell_spec(tmp_path, **fields)
