#!/usr/bin/env bash
# setup-windows-cross.sh: install the MinGW-w64 cross compiler that
# `make package-windows` uses to build bin/timebridge.exe (Fyne needs cgo on
# Windows too). Idempotent and as fast as setup-debian.sh, which does the work.
set -euo pipefail
if ! command -v apt-get >/dev/null && command -v x86_64-w64-mingw32-gcc >/dev/null; then
  exit 0 # not Debian, but a MinGW-w64 gcc is there
fi
exec "$(dirname "$0")/setup-debian.sh" gcc-mingw-w64-x86-64 binutils-mingw-w64-x86-64
