#!/usr/bin/env bash
# Make podman work where there is no Docker engine: write containers.conf with the runc runtime,
# cgroupfs, the file events logger and default ulimits the host allows (crun and the default
# ulimits fail on such machines: "cgroups in hybrid mode not supported", "setrlimit RLIMIT_NOFILE").
#
# Idempotent: an identical file is left alone; a different one is backed up before it is replaced.
# Does nothing when a Docker engine answers, when podman is not installed, or when podman's defaults
# work here (systemd runs, cgroups are not hybrid, the hard nofile limit allows root's 1048576);
# --force writes the file anyway.
# Root writes /etc/containers/containers.conf; other users their own ~/.config/containers/containers.conf.
# WORKBOOK_CONTAINERS_CONF overrides the target file.
set -euo pipefail

say() { echo "podman-setup: $*"; }
join() {
  local joined
  joined=$(IFS=","; echo "$*")
  echo "${joined//,/, }"
}

if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
  say "a Docker engine answers (docker info): nothing to do"
  exit 0
fi
if ! command -v podman >/dev/null 2>&1; then
  say "podman is not installed: nothing to do (Debian/Ubuntu: apt-get install podman runc, or make system)"
  exit 0
fi
# Why podman's defaults fail on this machine (none: leave podman alone).
reasons=()
[ -d /run/systemd/system ] || reasons+=("no systemd")
if [ "$(stat -fc %T /sys/fs/cgroup 2>/dev/null)" = tmpfs ] && [ -d /sys/fs/cgroup/unified ]; then
  reasons+=("hybrid cgroups")
fi
hard_nofile=$(ulimit -Hn)
if [ "$(id -u)" = 0 ] && [ "$hard_nofile" != unlimited ] && [ "$hard_nofile" -lt 1048576 ]; then
  reasons+=("hard nofile limit $hard_nofile")
fi
[ "${1:-}" = --force ] && reasons+=("--force")
if [ ${#reasons[@]} -eq 0 ]; then
  say "podman's defaults work here (systemd, unified cgroups, enough file descriptors): nothing to do"
  exit 0
fi

if ! command -v runc >/dev/null 2>&1; then
  say "runc is not installed, and podman needs it here (Debian/Ubuntu: apt-get install runc)" >&2
  exit 1
fi

if [ -n "${WORKBOOK_CONTAINERS_CONF:-}" ]; then
  conf=$WORKBOOK_CONTAINERS_CONF
elif [ "$(id -u)" = 0 ]; then
  conf=/etc/containers/containers.conf
else
  conf=${XDG_CONFIG_HOME:-$HOME/.config}/containers/containers.conf
fi

# The hard limits of this shell are the most a container may ask for.
nofile=$(ulimit -Hn)
[ "$nofile" = unlimited ] && nofile=1048576
nproc=$(ulimit -Hu)
if [ "$nproc" = unlimited ] || [ "$nproc" -gt 32768 ]; then nproc=32768; fi

marker="# Written by the workbook's scripts/podman-setup.sh: podman without a Docker engine."
wanted=$(
  cat <<EOF
$marker
# Hard limits measured on this machine: nofile $(ulimit -Hn), nproc $(ulimit -Hu) (capped at 32768).
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
)

if [ -f "$conf" ] && [ "$(cat "$conf")" = "$wanted" ]; then
  say "$conf is already set up (runc, cgroupfs, file events, nofile=$nofile, nproc=$nproc)"
else
  mkdir -p "$(dirname "$conf")"
  if [ -f "$conf" ]; then
    backup="$conf.bak-$(date +%Y%m%d-%H%M%S)"
    cp -p "$conf" "$backup"
    say "backed up the previous $conf to $backup"
  fi
  tmp=$(mktemp "$conf.XXXXXX")
  printf '%s\n' "$wanted" >"$tmp"
  chmod 644 "$tmp"
  mv -f "$tmp" "$conf"
  say "wrote $conf (runc, cgroupfs, file events, nofile=$nofile, nproc=$nproc) because: $(join "${reasons[@]}")"
fi

if runtime=$(podman info --format '{{.Host.OCIRuntime.Name}}' 2>&1); then
  say "podman $(podman version --format '{{.Client.Version}}') uses runtime $runtime"
else
  say "podman info still fails: $runtime" >&2
  exit 1
fi
