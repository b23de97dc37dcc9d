#!/usr/bin/env bash
# Installs a .deb that scripts/build-deb.sh made on THIS machine, checks the installed system, and purges it:
# for a disposable machine (a VM or a container), as root; test/packaging/deb.test.ts checks the .deb itself.
#   bash scripts/check-deb-install.sh dist/inosync_<version>_amd64.deb
# Checks: dpkg -i, systemd-analyze verify of the installed unit, the unit not enabled, inosync --version,
# man inosync and man inosync-watch, then that dpkg -r leaves only the conffile and dpkg -P nothing at all.
set -euo pipefail
deb=${1:?usage: check-deb-install.sh DEB}
[ "$(id -u)" -eq 0 ] || { echo "check-deb-install: run as root (it installs and removes the package)" >&2; exit 1; }
if dpkg -s inosync >/dev/null 2>&1; then
  echo "check-deb-install: inosync is installed already; this check installs and purges it, so it stops here" >&2
  exit 1
fi
# The package's own files (not the directories it shares with others), as absolute paths.
mapfile -t files < <(dpkg-deb --fsys-tarfile "$deb" | tar -t | grep -v '/$' | sed 's|^\./|/|')
trap 'dpkg -P inosync >/dev/null 2>&1 || true' EXIT

dpkg -i "$deb"
systemd-analyze verify /lib/systemd/system/inosync.service
state=$(systemctl is-enabled inosync.service 2>/dev/null || true)
[ "$state" = disabled ] || { echo "check-deb-install: the unit is '$state', not disabled" >&2; exit 1; }
inosync --version
# Read whole before grep: grep -q stops at the first line, and man killed by SIGPIPE would fail under pipefail.
for page in inosync inosync-watch; do grep -q '^NAME' <<<"$(MANPAGER=cat man "$page")"; done

dpkg -r inosync
left=()
for file in "${files[@]}"; do
  if [ -e "$file" ] || [ -L "$file" ]; then left+=("$file"); fi
done
[ "${left[*]}" = /etc/inosync/inosync.example.yaml ] || { echo "check-deb-install: dpkg -r left: ${left[*]}" >&2; exit 1; }
dpkg -P inosync
[ ! -e /etc/inosync/inosync.example.yaml ] || { echo "check-deb-install: dpkg -P left the conffile" >&2; exit 1; }
echo "check-deb-install: installed, verified and purged $deb"
