#!/usr/bin/env bash
# deps.sh build|test — make sure the Debian packages ExoCal needs are installed.
#
# As root it installs what is missing (apt-get, non-interactive). As any other
# user it prints the one `sudo apt-get install …` line that is needed and
# exits 1, changing nothing. Also checks that Go is new enough.
set -euo pipefail

build_pkgs=(gcc libc6-dev pkg-config libgl-dev libx11-dev libxcursor-dev libxrandr-dev
  libxinerama-dev libxi-dev libxxf86vm-dev)
# run_pkgs: what the desktop app needs at run time beyond the libraries above.
run_pkgs=(dbus gnome-keyring libsecret-1-0)
# test_pkgs: the real parts the tests use instead of mocks.
test_pkgs=(xvfb dbus libglib2.0-bin gnome-keyring libsecret-tools imagemagick
  libxml2-utils python3 python3-exchangelib python3-icalendar python3-recurring-ical-events python3-dateutil
  python3-dbus python3-gi desktop-file-utils nodejs npm)

case "${1:-}" in
build) want=("${build_pkgs[@]}" "${run_pkgs[@]}") ;;
test) want=("${build_pkgs[@]}" "${run_pkgs[@]}" "${test_pkgs[@]}") ;;
*) echo "usage: $0 build|test" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
  # Already installed, or (for nodejs/npm) provided outside apt.
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' && continue
  case "$p" in nodejs) command -v node >/dev/null && continue ;; npm) command -v npm >/dev/null && continue ;; esac
  missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "deps: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "ExoCal needs these Debian packages. Install them with:" >&2
    echo "  sudo apt-get install --no-install-recommends ${missing[*]}" >&2
    exit 1
  fi
fi

# Go: the module needs the version in go.mod (Debian 12's golang-go is too old).
PATH=/usr/local/go/bin:$PATH
need=$(awk '/^go /{print $2; exit}' "$(dirname "$0")/../go.mod")
if ! command -v go >/dev/null; then
  echo "ExoCal needs Go $need or newer: install it from https://go.dev/dl/ into /usr/local/go." >&2
  exit 1
fi
have=$(go env GOVERSION | sed 's/^go//')
if [ "$(printf '%s\n%s\n' "$need" "$have" | sort -V | head -1)" != "$need" ]; then
  echo "ExoCal needs Go $need or newer; this machine has $have: install a newer Go from https://go.dev/dl/." >&2
  exit 1
fi
