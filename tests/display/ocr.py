"""Read the emulated panel with tesseract (Debian's tesseract-ocr, eng and chi_sim), as zbar
reads its QR: the picture the panel emulator (tools/sim/panel.py) shows, scaled up.

    text = read(image, "eng")                    # what a person would read off the glass
    found(text, "Declined in the wallet")        # True when the words are there (OCR's slips allowed)

Before reading, each pixel row's background (its first pixel: boxes span the panel with a margin)
becomes white and everything else black, so white words on a coloured band read like black
words on white; the QR code is blanked (zbar finds it), it is no text.
"""
import difflib
import re
import os
import subprocess
import tempfile

from PIL import Image, ImageDraw

SCALE = 3


def prepare(image, scale=SCALE):
    img = image.convert("RGB")
    w, h = img.size
    px = img.load()
    out = Image.new("L", (w, h), 255)
    o = out.load()
    for y in range(h):
        bg = px[0, y]
        for x in range(w):
            if px[x, y] != bg:
                o[x, y] = 0
    try:
        from pyzbar.pyzbar import decode
        for code in decode(img):
            r = code.rect
            ImageDraw.Draw(out).rectangle((r.left - 2, r.top - 2, r.left + r.width + 2, r.top + r.height + 2),
                                          fill=255)
    except ImportError:
        pass
    return out.resize((w * scale, h * scale), Image.NEAREST)


def read(image, lang="eng"):
    """The text tesseract reads on the picture (sparse text: every line, wherever it is)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "screen.png")
        prepare(image, SCALE + 1 if lang.startswith("chi") else SCALE).save(path)
        out = subprocess.run(["tesseract", path, "-", "-l", lang, "--psm", "11"], capture_output=True,
                             text=True, timeout=60, env=dict(os.environ, OMP_THREAD_LIMIT="1"))
    if out.returncode != 0:
        raise RuntimeError("tesseract failed: %s" % out.stderr.strip())
    return out.stdout


def normal(text):
    """Lowercase, one space between words, none around punctuation; for Chinese no spaces."""
    text = re.sub(r"\s*([,.:;!?$])\s*", r"\1", text)
    words = text.lower().split()
    if any(ord(c) > 0x2E80 for c in text):
        return "".join(words)
    return " ".join(words)


def similarity(text, phrase):
    """How well the best stretch of text matches phrase, 0..1."""
    text, phrase = normal(text), normal(phrase)
    if not phrase:
        return 1.0
    if phrase in text:
        return 1.0
    n = len(phrase)
    best = 0.0
    for i in range(0, max(1, len(text) - n // 2)):
        for m in (n - 1, n, n + 1):
            ratio = difflib.SequenceMatcher(None, text[i:i + m], phrase).ratio()
            if ratio > best:
                best = ratio
    return best


def found(text, phrase, threshold=None):
    if threshold is None:
        threshold = 0.5 if any(ord(c) > 0x2E80 for c in phrase) else 0.8
    return similarity(text, phrase) >= threshold
