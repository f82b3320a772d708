#!/usr/bin/env bash
# Make the base image `python:3.11-slim` locally, for machines with podman and no registry.
#
# Debian's debootstrap lays out a minimal bookworm with Python 3.11, pip, venv and CA certificates
# (Debian's Python lives in /usr/bin; /usr/local/bin/python links to it). The root file system is
# cached as a tarball, so a second run only imports it. The image is tagged
# localhost/python:3.11-slim and docker.io/library/python:3.11-slim, so an unchanged
# `FROM python:3.11-slim` resolves with `podman build --pull=never`.
#
# Does nothing when the image exists already, or when a Docker engine answers (it pulls the real one).
# Where a registry answers (a learner's podman), the real image is pulled instead; debootstrap then
# needs root.
# Environment: WORKBOOK_CACHE_DIR (default ~/.cache/workbook), WORKBOOK_DEBIAN_MIRROR (default: the
# mirror apt uses on this machine, else deb.debian.org).
# Never run `podman image prune -a` afterwards: it deletes this image.
set -euo pipefail

IMAGE=localhost/python:3.11-slim
ALIAS=docker.io/library/python:3.11-slim
SUITE=bookworm
INCLUDE=python3,python3-venv,python3-pip,ca-certificates
CACHE_DIR=${WORKBOOK_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/workbook}

say() { echo "base-image: $*"; }
fail() {
  echo "base-image: $*" >&2
  exit 1
}

# The first http(s)/ftp URI of a deb822 .sources paragraph whose suites include a release itself
# (bookworm, stable), not -updates or -security.
mirror_from_deb822() {
  awk 'BEGIN { RS = ""; FS = "\n" }
  {
    types = ""; uris = ""; suites = ""; enabled = "yes"
    for (i = 1; i <= NF; i++) {
      if ($i ~ /^[[:space:]]*#/) continue
      key = tolower($i); sub(/:.*/, "", key)
      value = $i; sub(/^[^:]*:[[:space:]]*/, "", value)
      if (key == "types") types = value
      else if (key == "uris") uris = value
      else if (key == "suites") suites = value
      else if (key == "enabled") enabled = tolower(value)
    }
    if (enabled == "no" || (" " types " ") !~ / deb /) next
    split(uris, u, /[[:space:]]+/)
    if (u[1] !~ /^(https?|ftp):\/\//) next
    n = split(suites, s, /[[:space:]]+/)
    for (j = 1; j <= n; j++) if (s[j] != "" && s[j] !~ /[-\/]/) { print u[1]; exit }
  }' "$@"
}

# The same for one-line `deb [options] URI SUITE COMPONENTS` entries.
mirror_from_list() {
  awk '$1 == "deb" {
    i = 2
    if ($i ~ /^\[/) { while (i < NF && $i !~ /\]$/) i++; i++ }
    if ($i ~ /^(https?|ftp):\/\// && $(i + 1) !~ /[-\/]/) { print $i; exit }
  }' "$@"
}

debian_mirror() {
  if [ -n "${WORKBOOK_DEBIAN_MIRROR:-}" ]; then
    echo "$WORKBOOK_DEBIAN_MIRROR"
    return
  fi
  local id="" mirror="" lists=() sources=()
  # shellcheck disable=SC1091
  [ -r /etc/os-release ] && id=$(. /etc/os-release && echo "${ID:-}")
  if [ "$id" = debian ]; then
    shopt -s nullglob
    [ -r /etc/apt/sources.list ] && lists+=(/etc/apt/sources.list)
    lists+=(/etc/apt/sources.list.d/*.list)
    sources=(/etc/apt/sources.list.d/*.sources)
    shopt -u nullglob
    [ ${#lists[@]} -gt 0 ] && mirror=$(mirror_from_list "${lists[@]}")
    [ -z "$mirror" ] && [ ${#sources[@]} -gt 0 ] && mirror=$(mirror_from_deb822 "${sources[@]}")
  fi
  echo "${mirror:-http://deb.debian.org/debian}"
}

# Unmount whatever a failed debootstrap left mounted inside the root file system, then remove it,
# never crossing into another file system.
remove_rootfs() {
  local rootfs=$1 target
  [ -d "$rootfs" ] || return 0
  while read -r target; do
    umount -l "$target" 2>/dev/null || true
  done < <(awk -v root="$rootfs/" 'index($2, root) == 1 {print $2}' /proc/self/mounts | sort -r)
  rm -rf --one-file-system "$rootfs"
}

# One line per debootstrap phase (Unpacking, Configuring...) and a count while packages download.
phases() {
  awk '$1 != "I:" || $2 == "Validating" { next }
    $2 == "Retrieving" && $3 != "InRelease" && $3 != "Packages" {
      if (++n % 25 == 0) { print "base-image:   I: retrieved " n " packages"; fflush() }
      next
    }
    NF == 3 && $2 ~ /^(Extracting|Unpacking|Configuring)$/ { next }
    !seen[$0]++ { print "base-image:   " $0; fflush() }'
}

image_size_mb() {
  podman image inspect --format '{{.Size}}' "$IMAGE" | awk '{ printf "%.0f MB", $1 / 1000000 }'
}

make_rootfs_tarball() {
  local tarball=$1 mirror rootfs log
  command -v debootstrap >/dev/null 2>&1 ||
    fail "debootstrap is not installed (Debian/Ubuntu: apt-get install debootstrap, or make system)"
  [ "$(id -u)" = 0 ] || fail "debootstrap needs root: run sudo $0"
  mirror=$(debian_mirror)
  rootfs=$(mktemp -d "$CACHE_DIR/rootfs.XXXXXX")
  log="$CACHE_DIR/debootstrap.log"
  # shellcheck disable=SC2064
  trap "remove_rootfs '$rootfs'" EXIT
  say "debootstrap $SUITE from $mirror (about 90 s; full log: $log)"
  if ! debootstrap --variant=minbase --include="$INCLUDE" "$SUITE" "$rootfs" "$mirror" 2>&1 |
    tee "$log" | phases; then
    tail -n 20 "$log" >&2
    fail "debootstrap failed (see above); set WORKBOOK_DEBIAN_MIRROR to another Debian mirror to retry"
  fi
  say "trimming: apt lists and caches, docs, EXTERNALLY-MANAGED; linking /usr/local/bin/python"
  rm -rf "${rootfs:?}"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/* "$rootfs"/var/log/apt/* \
    "$rootfs"/var/log/dpkg.log "$rootfs"/var/log/bootstrap.log \
    "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* \
    "$rootfs"/usr/lib/python3.11/EXTERNALLY-MANAGED "$rootfs"/etc/hostname "$rootfs"/etc/resolv.conf
  ln -sfn /usr/bin/python3 "$rootfs/usr/local/bin/python"
  say "packing the root file system into $tarball"
  tar -C "$rootfs" -cf "$tarball.partial" .
  mv -f "$tarball.partial" "$tarball"
  remove_rootfs "$rootfs"
  trap - EXIT
}

main() {
  if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
    say "a Docker engine answers: it pulls python:3.11-slim itself, nothing to do"
    return 0
  fi
  command -v podman >/dev/null 2>&1 ||
    fail "podman is not installed (Debian/Ubuntu: apt-get install podman runc, or make system)"
  if podman image exists "$IMAGE"; then
    podman image exists "$ALIAS" || podman tag "$IMAGE" "$ALIAS"
    say "$IMAGE exists already ($(image_size_mb)): nothing to do"
    return 0
  fi

  SECONDS=0
  mkdir -p "$CACHE_DIR"
  exec 9>"$CACHE_DIR/base-image.lock"
  flock 9
  if timeout 300 podman pull --quiet "$ALIAS" >/dev/null 2>"$CACHE_DIR/pull.log"; then
    podman tag "$ALIAS" "$IMAGE"
    say "pulled $ALIAS ($(image_size_mb)) in ${SECONDS} s"
    return 0
  fi
  say "no registry answers ($(tail -n 1 "$CACHE_DIR/pull.log" | cut -c 1-100)...): making the image locally"
  local tarball
  tarball="$CACHE_DIR/python-3.11-slim-$SUITE-$(dpkg --print-architecture 2>/dev/null || uname -m).tar"
  if [ -s "$tarball" ]; then
    say "using the cached root file system $tarball"
  else
    make_rootfs_tarball "$tarball"
  fi
  say "importing $IMAGE"
  podman import --quiet \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'LABEL org.opencontainers.image.description="Debian bookworm minbase with Python 3.11 (scripts/base-image.sh)"' \
    --change 'CMD ["python3"]' \
    "$tarball" "$IMAGE" >/dev/null
  podman tag "$IMAGE" "$ALIAS"
  say "made $IMAGE and $ALIAS ($(image_size_mb), $(podman run --rm --pull=never --network=none "$IMAGE" python --version)) in ${SECONDS} s"
}

main "$@"
