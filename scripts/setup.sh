#!/usr/bin/env bash
# Makes a fresh Debian machine ready for inosync: the system packages it calls (rsync, ssh, sshd for the
# loopback demo and tests, inotify-tools, lsyncd and fpart (fpsync) as benchmark and test anchors, nftables for hung-host
# tests, a C++ toolchain for the addon), then the npm dependencies, the addon and the TypeScript build.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
for pair in rsync:rsync sshd:openssh-server ssh:openssh-client ssh-keygen:openssh-client inotifywait:inotify-tools \
            lsyncd:lsyncd fpsync:fpart nft:nftables ip:iproute2 unshare:util-linux g++:g++ make:make python3:python3; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || [ -x "/usr/sbin/${pair%%:*}" ] || need+=("${pair#*:}")
done
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: missing packages: ${need[*]}; run as root, or: sudo apt-get install -y ${need[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
npm ci --no-audit --no-fund
