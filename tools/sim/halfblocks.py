"""A panel image as Unicode half-blocks with 24-bit colour: two pixel rows per text line.

Each character cell is "▀" with the upper pixel as foreground and the lower as background, so
the picture keeps its proportions and a phone can scan a QR code straight off the terminal.
"""


def render(image, step=1):
    """ANSI text of an RGB PIL image, taking every `step`-th pixel."""
    img = image.convert("RGB")
    w, h = img.size
    px = img.load()
    lines = []
    for y in range(0, h - step + 1, 2 * step):
        parts = []
        last = None
        for x in range(0, w, step):
            top = px[x, y]
            bottom = px[x, y + step] if y + step < h else (0, 0, 0)
            pair = (top, bottom)
            if pair != last:
                parts.append("\x1b[38;2;%d;%d;%dm\x1b[48;2;%d;%d;%dm" % (top + bottom))
                last = pair
            parts.append("\u2580")
        lines.append("".join(parts) + "\x1b[0m")
    return "\n".join(lines)


def render_fit(image, cols, rows):
    """ANSI text of the image scaled down to fit cols x rows character cells (each cell is one
    pixel wide and two tall): the largest integer step that fits, else a nearest-neighbour resize."""
    w, h = image.size
    rows = max(rows, 4)
    for step in (1, 2):
        if w // step <= cols and (h // step + 1) // 2 <= rows:
            return render(image, step=step)
    scale = min(cols / float(w), 2.0 * rows / h)
    small = image.resize((max(1, int(w * scale)), max(2, int(h * scale))))
    return render(small)
