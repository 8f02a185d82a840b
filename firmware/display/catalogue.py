"""The word catalogue read whole, for the host: the glyph-and-fit test (tests/display) and the font
subsetter (tools/fonts). The device never imports this module: it looks sentences up one at a
time on flash (firmware/display/texts.py, lib/kvfile.py), so none of this code is on its heap.

    catalogue.load("en")       -> {key: text} of one language
    catalogue.reasons("why")   -> {code: key} of reasons.txt (`why` for a sale, `refund` for a refund)
    catalogue.every_text()     -> (language, key, text) of every sentence
"""
from firmware.display import texts

SEP = b" = "


def read(path):
    """Every `key = value` entry of a catalogue file (lib/kvfile.py's format) as a dict."""
    out = {}
    with open(path, "rb") as f:
        for line in f:
            if line[:1] != b"#" and line.strip():
                cut = line.find(SEP)
                if cut <= 0:
                    raise ValueError("%s: not `key = value`: %r" % (path, line))
                out[line[:cut].decode()] = line[cut + 3:].rstrip(b"\r\n").decode()
    return out


def load(lang):
    """Every sentence of one language as a dict."""
    return read(texts.path(lang))


def reasons(kind):
    """{code: key} of reasons.txt for `why` (a sale) or `refund` (a refund)."""
    import kvfile
    out = {}
    for key, value in read(kvfile.find("firmware/display/reasons.txt")).items():
        head, code = key.split(":", 1)
        if head == kind:
            out[code] = value
    return out


def every_text():
    """(language, key, text) of every sentence in the catalogue."""
    for lang in texts.CUSTOMER_LANGUAGES:
        table = load(lang)
        for key in sorted(table):
            yield lang, key, table[key]
