#!/bin/sh
# Regenerate the gallery in docs/display.md: every screen on two panels, through the snapshot
# command (the real driver code into the panel emulator). Run from the repository root.
set -e
PY=${PY:-.venv/bin/python}
for panel in st7789-135x240 st7789-240x320; do
  for screen in $($PY -c "from tools.sim.snapshot import SCREENS; print(' '.join(sorted(SCREENS)))"); do
    $PY -m tools.sim snapshot --screen "$screen" --panel "$panel" --scale 2 \
        --out "docs/gallery/$panel-$screen.png" >/dev/null
  done
done
$PY -m tools.sim snapshot --screen qr --panel st7789-135x240 --rotation 1 --scale 2 \
    --out docs/gallery/st7789-135x240-qr-landscape.png >/dev/null
$PY -m tools.sim snapshot --screen qr --panel ili9341-240x320 --rotation 1 --scale 2 \
    --out docs/gallery/ili9341-240x320-qr-landscape.png >/dev/null
# the QR screen for a customer who reads Chinese (Simplified, then Traditional as second language)
for panel in st7789-135x240 st7789-240x320; do
  $PY -m tools.sim snapshot --screen qr --panel "$panel" --customer zh-Hans,zh-Hant --scale 2 \
      --out "docs/gallery/$panel-qr-zh.png" >/dev/null
done
echo "gallery written to docs/gallery/"
