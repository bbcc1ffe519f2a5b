import pytest

from builder.image import naming
from builder.core.errors import StrataError


@pytest.mark.parametrize("given, expected", [
    ("Hello-World", "hello-world"),
    ("hello", "hello"),
    ("team/app.v2", "team/app.v2"),
    ("a__b/c---d", "a__b/c---d"),
    ("127.0.0.1:5000/team/app", "127.0.0.1:5000/team/app"),
    ("Registry.Example.com/Foo", "registry.example.com/foo"),
    ("localhost/x", "localhost/x"),
])
def test_valid_names_are_lowercased(given, expected):
    assert naming.image_name(given) == expected


@pytest.mark.parametrize("given", ["", "bad name", "-leading", "trailing-", "a//b", "a/", "a___b", "ü", "a" * 256, "x:tag"])
def test_invalid_names_are_refused_with_the_name_in_the_message(given):
    with pytest.raises(StrataError) as error:
        naming.image_name(given)
    assert str(error.value).startswith("name: ")


def test_tags():
    assert naming.image_tag("v1.2-rc_3") == "v1.2-rc_3"
    for bad in ["", ".x", "-x", "a:b", "a" * 129]:
        with pytest.raises(StrataError, match="^tag: "):
            naming.image_tag(bad)


def test_default_tag_is_the_hash_part_of_the_output():
    assert naming.tag_from_output("/nix/store/4k0pklpl2asx6jzfg62232iq38cv3jw0-docker-image-x.tar") == \
        "4k0pklpl2asx6jzfg62232iq38cv3jw0"
