#!/usr/bin/env bash
# Makes a fresh Debian machine ready to build, test and demo inosync from this clone: the system packages
# below, then the npm dependencies, the addon and the TypeScript build (npm ci).
# A production host needs only RUNTIME (and Node.js >= 20): install the npm tarball or the .deb there
# (README, "Installing the command"); the .deb depends on the same packages. It never needs DEVELOP.
set -euo pipefail
cd "$(dirname "$0")/.."
# command:package pairs; a command already present (in PATH or /usr/sbin) is not installed again.
RUNTIME=(rsync:rsync ssh:openssh-client)
# sshd for the loopback demo and tests, inotifywait, lsyncd and fpsync as benchmark and test anchors, nft to make a
# host hang, unshare and ip for per-test limits and namespaces, setfattr and setfacl to give test files xattrs and
# ACLs (Node has no call for either), a C++ toolchain for the addon (node-gyp).
DEVELOP=(sshd:openssh-server ssh-keygen:openssh-client inotifywait:inotify-tools lsyncd:lsyncd fpsync:fpart \
         nft:nftables ip:iproute2 unshare:util-linux setfattr:attr setfacl:acl g++:g++ make:make python3:python3)
need=()
for pair in "${RUNTIME[@]}" "${DEVELOP[@]}"; do
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
