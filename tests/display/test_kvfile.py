"""lib/kvfile.py: the word catalogues looked up on flash (CPython here; tests/display's
MicroPython runs use it through firmware/display/texts.py)."""
import pytest

import kvfile
from firmware.display import catalogue
from firmware.display import texts as T


def write(tmp_path, text):
    p = tmp_path / "words.txt"
    p.write_bytes(text.encode("utf-8"))
    return str(p)


def test_every_key_is_found_in_a_file_in_any_order_with_comments(tmp_path):
    path = write(tmp_path, "# words\nzeta = last one\n\nalpha = first = still first\nmid = 中间 %s\n")
    words = kvfile.KVFile(path)
    assert len(words) == 3
    assert words.get("alpha") == "first = still first"
    assert words.get("mid") == "中间 %s"
    assert words.get("zeta") == "last one"
    assert words.get("beta") is None and words.get("zz", "x") == "x" and words.get("") is None
    words.close()


def test_a_duplicate_key_or_a_line_without_separator_is_refused(tmp_path):
    with pytest.raises(ValueError, match="twice"):
        kvfile.KVFile(write(tmp_path, "a = 1\nb = 2\na = 3\n"))
    with pytest.raises(ValueError, match="line 2"):
        kvfile.KVFile(write(tmp_path, "a = 1\njust words\n"))


def test_the_device_lookup_finds_every_sentence_of_every_catalogue():
    for lang in T.CUSTOMER_LANGUAGES:
        words = kvfile.KVFile(T.path(lang))
        table = catalogue.read(T.path(lang))
        assert table and all(words.get(k) == v for k, v in table.items()), lang
        words.close()
