#!/bin/sh
# The browser tests drive Debian's Chromium at /usr/bin/chromium (never a downloaded browser).
# Install it when it is missing; fail, with the reason, when that is not possible.
set -eu
CHROMIUM=/usr/bin/chromium
[ -x "$CHROMIUM" ] && exit 0
echo "ensure_chromium: $CHROMIUM is missing; installing the chromium package" >&2
if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
else
    echo "ensure_chromium: not root and no sudo: run 'apt-get install -y chromium' as root" >&2
    exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure_chromium: no apt-get here: install Chromium so that $CHROMIUM exists" >&2
    exit 1
fi
$SUDO apt-get install -y chromium || { $SUDO apt-get update && $SUDO apt-get install -y chromium; } || {
    echo "ensure_chromium: 'apt-get install -y chromium' failed; the browser tests cannot run" >&2
    exit 1
}
[ -x "$CHROMIUM" ] || { echo "ensure_chromium: installed, but $CHROMIUM is still missing" >&2; exit 1; }
