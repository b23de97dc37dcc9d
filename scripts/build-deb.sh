#!/usr/bin/env bash
# Makes dist/inosync_<version>_amd64.deb: the CLI under /usr/lib/inosync (the npm package with its production
# dependencies, from package-lock.json, and the prebuilt addon), /usr/bin/inosync, the systemd unit (installed
# disabled), an example config (a conffile), the man pages inosync(1) and inosync-watch(1), SECURITY.md and bash
# completion.
#   bash scripts/build-deb.sh              packs the package first (npm pack: builds the addon and the TypeScript)
#   bash scripts/build-deb.sh TARBALL [OUT]  from a tarball `npm pack` made; writes the .deb into OUT (default dist/)
# Then: sudo apt install ./dist/inosync_<version>_amd64.deb (or dpkg -i); the unit starts once
# /etc/inosync/inosync.yaml exists and `systemctl enable --now inosync` is run.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
version=$(node -p "require('$root/package.json').version")
# Who the package names as its maintainer: DEBFULLNAME and DEBEMAIL as Debian's tools read them, else git's.
maintainer="${DEBFULLNAME:-$(git -C "$root" config user.name)} <${DEBEMAIL:-$(git -C "$root" config user.email)}>"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tarball=${1:-}
out=${2:-$root/dist}
if [ -z "$tarball" ]; then
  (cd "$root" && npm pack --pack-destination "$work" >/dev/null)
  tarball=$work/inosync-$version.tgz
fi

stage=$work/stage
lib=$stage/usr/lib/inosync
doc=$stage/usr/share/doc/inosync
mkdir -p "$lib" "$stage/usr/bin" "$stage/lib/systemd/system" "$stage/etc/inosync" "$doc" \
         "$stage/usr/share/man/man1" "$stage/usr/share/bash-completion/completions" "$stage/DEBIAN"

# The package as npm installs it, with the exact dependency versions the tests ran. Install scripts stay off:
# the addon is the prebuilt one, which must load here (an amd64 glibc build host).
tar -xzf "$tarball" -C "$lib" --strip-components=1
cp "$root/package-lock.json" "$lib/"
(cd "$lib" && npm ci --omit=dev --ignore-scripts --prefer-offline --no-audit --no-fund >/dev/null)
rm -f "$lib/package-lock.json" "$lib/node_modules/.package-lock.json"
# What runs nothing on a server: source maps, type declarations, dotfiles and web pages of the dependencies.
find "$lib" \( -name '*.map' -o -name '*.d.ts' -o -name '*.d.cts' -o -name '*.d.mts' -o -name '.*' -o -name '*.html' \) -type f -delete
node -e "require('$lib/prebuilds/linux-x64/inotify.node')"
strip --strip-unneeded "$lib/prebuilds/linux-x64/inotify.node"
chmod 0644 "$lib/prebuilds/linux-x64/inotify.node"
chmod 0755 "$lib/dist/src/cli/launcher.cjs"
ln -s ../lib/inosync/dist/src/cli/launcher.cjs "$stage/usr/bin/inosync"

# The unit of the repository, running the packaged command; its header's install steps are the package's job.
sed -e 's|/usr/local/bin/inosync|/usr/bin/inosync|' -e '/^#   install:/,/^#   reload/{/^#   reload/!d}' \
  "$root/scripts/inosync.service" > "$stage/lib/systemd/system/inosync.service"
install -m 0644 "$root/scripts/inosync.example.yaml" "$stage/etc/inosync/inosync.example.yaml"
for page in inosync.1 inosync-watch.1; do
  gzip -9n < "$root/contrib/man/$page" > "$stage/usr/share/man/man1/$page.gz"
done
install -m 0644 "$root/contrib/bash-completion/inosync" "$stage/usr/share/bash-completion/completions/inosync"
# The security model the man page's SECURITY section refers to.
install -m 0644 "$root/SECURITY.md" "$doc/SECURITY.md"
cat > "$doc/copyright" <<EOF
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: inosync

Files: *
Copyright: inosync contributors
License: MIT
 Permission is hereby granted, free of charge, to any person obtaining a copy of this software and
 associated documentation files (the "Software"), to deal in the Software without restriction, including
 without limitation the rights to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
 copies of the Software, and to permit persons to whom the Software is furnished to do so, subject to the
 following conditions:
 .
 The above copyright notice and this permission notice shall be included in all copies or substantial
 portions of the Software.
 .
 THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING BUT NOT
 LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO
 EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER
 IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE
 USE OR OTHER DEALINGS IN THE SOFTWARE.
EOF
printf 'inosync (%s) unstable; urgency=medium\n\n  * Built from the npm package %s.\n\n -- %s  %s\n' \
  "$version" "$version" "$maintainer" "$(date -R -u -d "@${SOURCE_DATE_EPOCH:-$(git -C "$root" log -1 --format=%ct 2>/dev/null || date +%s)}")" \
  | gzip -9n > "$doc/changelog.gz"

# systemd learns of the unit (or forgets it) at once; it stays disabled until the admin enables it.
for script in postinst postrm; do
  printf '#!/bin/sh\nset -e\nif [ -d /run/systemd/system ]; then\n  systemctl --system daemon-reload >/dev/null || true\nfi\n' > "$stage/DEBIAN/$script"
  chmod 0755 "$stage/DEBIAN/$script"
done
echo /etc/inosync/inosync.example.yaml > "$stage/DEBIAN/conffiles"
(cd "$stage" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z | xargs -0 md5sum) > "$stage/DEBIAN/md5sums"
cat > "$stage/DEBIAN/control" <<EOF
Package: inosync
Version: $version
Architecture: amd64
Maintainer: $maintainer
Installed-Size: $(du -sk --exclude=DEBIAN "$stage" | cut -f1)
Depends: nodejs (>= 20), rsync, openssh-client, libc6 (>= 2.34), libstdc++6, libgcc-s1
Section: admin
Priority: optional
Description: live directory mirroring agent (inotify + rsync)
 inosync watches a source tree with inotify and keeps local directories and
 hosts over ssh identical to it, within milliseconds of every change, with
 one rsync per host at a time. Its watch command is a drop-in for inotifywait.
EOF
mkdir -p "$out"
dpkg-deb --build --root-owner-group -Zgzip "$stage" "$out/inosync_${version}_amd64.deb" >/dev/null
echo "$out/inosync_${version}_amd64.deb"
