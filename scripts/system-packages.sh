#!/usr/bin/env bash
# Install the Debian/Ubuntu packages the tests need: PostgreSQL for the integration tests,
# podman/buildah/runc/debootstrap to build images without a Docker engine, Chromium for the
# browser tests. Only what is missing is installed; without root it says what to install.
set -euo pipefail
PACKAGES=(postgresql podman buildah runc debootstrap chromium fonts-liberation wrk)

missing=()
for package in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "system packages: all present (${PACKAGES[*]})"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "system packages: no apt-get here; install these yourself: ${missing[*]}" >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then
  if sudo -n true 2>/dev/null; then SUDO="sudo -n"; else
    echo "system packages: need root to install: ${missing[*]} (run: sudo apt-get install ${missing[*]})" >&2
    exit 1
  fi
fi
echo "system packages: installing ${missing[*]} (a minute or two)"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
echo "system packages: installed ${missing[*]}"
