"""Which characters the fonts must carry beyond their base sets: every character of every string
the device code can show.

The strings are read, never imported: every str constant in the device code (firmware/**/*.py,
boot.py, main.py) is collected with `ast`, every text of the word catalogues (firmware/**/*.txt,
`key = text` lines, firmware/display/catalogue.py), plus the strings of
tools/fonts/strings.py (text that reaches the screen from elsewhere, e.g. languages not yet in the
catalogue). So a word added to the catalogue gets its glyphs at the next `make_fonts` run, and the
fonts test (tests/display) fails until it has.
"""
import ast
import glob
import os

from tools.fonts import strings

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEVICE_SOURCES = ("boot.py", "main.py", "firmware/**/*.py")
CATALOGUES = "firmware/**/*.txt"


def source_strings(root=ROOT):
    """Every str constant of the device sources, in a stable order."""
    found = []
    for pattern in DEVICE_SOURCES:
        for path in sorted(glob.glob(os.path.join(root, pattern), recursive=True)):
            with open(path, encoding="utf-8") as f:
                tree = ast.parse(f.read(), path)
            # A bare string statement (a docstring) never reaches the screen.
            bare = set(id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Expr))
            for node in ast.walk(tree):
                if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in bare:
                    found.append(node.value)
    for path in sorted(glob.glob(os.path.join(root, CATALOGUES), recursive=True)):
        found += list(_read_catalogue(path).values())
    return found


def _read_catalogue(path):
    from firmware.display import catalogue
    return catalogue.read(path)


def needed_chars(root=ROOT):
    """Sorted str of every non-ASCII, printable character the device may draw."""
    chars = set()
    for text in source_strings(root) + list(strings.EXTRA):
        for ch in text:
            if ord(ch) > 0x7E and ch.isprintable() and not ch.isspace():
                chars.add(ch)
    return "".join(sorted(chars))
