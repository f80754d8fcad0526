#!/usr/bin/env bash
# setup-windows-cross.sh: install the MinGW-w64 cross compiler that
# `make package-windows` uses to build bin/timebridge.exe (Fyne needs cgo on
# Windows too). Idempotent like setup-debian.sh: when the package is already
# installed, apt is not run at all (~10 ms). Works as root, or through sudo.
set -euo pipefail

t0=${EPOCHREALTIME/,/.}
elapsed() { awk -v a="$t0" -v b="${EPOCHREALTIME/,/.}" 'BEGIN { printf "%.1f s", b - a }'; }

pkgs=(gcc-mingw-w64-x86-64 binutils-mingw-w64-x86-64)

installed() {
  local st
  st=$(dpkg-query -W -f='${db:Status-Status}\n' "$1" 2>/dev/null) || return 1
  grep -qx installed <<<"$st"
}

if ! command -v dpkg-query >/dev/null || ! command -v apt-get >/dev/null; then
  if command -v x86_64-w64-mingw32-gcc >/dev/null; then exit 0; fi
  echo "setup-windows-cross: apt-get/dpkg-query not found; install a MinGW-w64 x86_64 gcc yourself" >&2
  exit 1
fi

missing=()
for p in "${pkgs[@]}"; do installed "$p" || missing+=("$p"); done
if ((${#missing[@]} == 0)); then
  echo "setup-windows-cross: ${pkgs[*]} already installed ($(elapsed))"
  exit 0
fi

if ((EUID == 0)); then
  as_root=()
elif command -v sudo >/dev/null; then
  if [[ -t 0 ]]; then as_root=(sudo); else as_root=(sudo -n); fi
else
  echo "setup-windows-cross: need root or sudo to install: ${missing[*]}" >&2
  exit 1
fi

echo "setup-windows-cross: installing ${missing[*]}"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
apt_get() {
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -q -y \
    -o DPkg::Lock::Timeout=300 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
    "$@" >>"$log" 2>&1 || { tail -n 40 "$log" >&2; echo "setup-windows-cross: apt-get $1 failed" >&2; exit 1; }
}
apt_get update
apt_get install --no-install-recommends "${missing[@]}"

for p in "${missing[@]}"; do
  installed "$p" || { echo "setup-windows-cross: $p is still not installed" >&2; exit 1; }
done
command -v x86_64-w64-mingw32-gcc >/dev/null || { echo "setup-windows-cross: x86_64-w64-mingw32-gcc not on PATH" >&2; exit 1; }
echo "setup-windows-cross: done, ${#missing[@]} packages installed ($(elapsed))"
