#!/usr/bin/env bash
# Installs the example platform on a systemd VM (Debian 12 or similar, as
# root): secretvisor, the config, the credentials (root-only), the example
# service, the units from ../../systemd/, and starts the frontend, the backend
# and the worker pools finance and research. No account is created: each unit
# runs as a user systemd allocates for it alone (DynamicUser=yes).
#
#   sudo ./install.sh
#
# With DESTDIR=/some/dir it only lays the files out under that folder (no
# npm, no systemctl), to review or package them.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
dest="${DESTDIR:-}"
pools=(finance research)

if [[ -z "$dest" && "$(id -u)" != 0 ]]; then
  echo "install.sh: run as root (sudo ./install.sh), or set DESTDIR to lay the files out elsewhere" >&2
  exit 1
fi

# Files secretvisor reads as secrets belong to root (systemd reads them for
# LoadCredential=) and nobody else: folder 0700, files 0600.
owner=()
[[ -z "$dest" ]] && owner=(-o root -g root)

if [[ -z "$dest" ]]; then
  if ! command -v /usr/local/bin/secretvisor >/dev/null; then
    echo "installing secretvisor into /usr/local from $repo"
    work="$(mktemp -d)"
    (cd "$repo" && npm ci && npm run build && npm pack --pack-destination "$work")
    npm install --global --prefix /usr/local "$work"/secretvisor-*.tgz
    rm -rf "$work"
  fi
fi

install -d -m 0755 "$dest/etc/noxus"
install -m 0644 "$here/secretvisor.yaml" "$dest/etc/noxus/secretvisor.yaml"

install -d -m 0700 "${owner[@]}" "$dest/etc/noxus/credentials"
for file in "$here"/credentials/*; do
  target="$dest/etc/noxus/credentials/$(basename "$file")"
  if [[ -e "$target" ]]; then
    echo "kept $target (already there; the example value was not copied over it)"
  else
    install -m 0600 "${owner[@]}" "$file" "$target"
  fi
done

install -d -m 0755 "$dest/opt/noxus/bin"
for role in frontend backend worker; do
  install -m 0755 "$here/noxus-app.mjs" "$dest/opt/noxus/bin/$role"
done

install -d -m 0755 "$dest/etc/systemd/system"
install -m 0644 "$repo"/systemd/secretvisor-*.service "$repo"/systemd/secretvisor-*.socket "$dest/etc/systemd/system/"

if [[ -n "$dest" ]]; then
  echo "laid out under $dest (no account created, nothing started)"
  exit 0
fi

systemctl daemon-reload
units=(secretvisor-frontend.service secretvisor-backend.service)
for pool in "${pools[@]}"; do units+=("secretvisor-worker@$pool.service"); done
systemctl enable --now "${units[@]}"
systemctl --no-pager --lines=0 status "${units[@]}"
echo
echo "each service's view: journalctl -u 'secretvisor-*' --since -5min | grep ' sees '"
echo "audit:               sudo CREDENTIALS_DIRECTORY=/etc/noxus/credentials secretvisor audit -c /etc/noxus/secretvisor.yaml"
