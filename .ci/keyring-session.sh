#!/usr/bin/env bash
# keyring-session.sh CMD… — run CMD inside a private D-Bus session with a
# throw-away, unlocked gnome-keyring (a real Secret Service), so that tests
# can use the OS keyring with no desktop, TTY or prompt. The bus, the daemon
# and the keyring files are gone when CMD ends.
#
# Needs: dbus gnome-keyring libglib2.0-bin (gdbus); libsecret-tools for secret-tool.
set -euo pipefail

if [ -z "${EXOCAL_KEYRING_SESSION:-}" ]; then
  export EXOCAL_KEYRING_SESSION=1
  # No DISPLAY on this bus: a locked keyring must never pop up a prompt.
  exec env -u DISPLAY dbus-run-session -- "$0" "$@" </dev/null
fi

home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
export XDG_DATA_HOME="$home/data" XDG_RUNTIME_DIR="$home/run"
mkdir -p "$XDG_DATA_HOME" "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"

# --unlock reads a password on stdin and creates/unlocks the 'login' keyring.
eval "$(printf 'throw-away' | gnome-keyring-daemon --daemonize --unlock --components=secrets)"
export GNOME_KEYRING_CONTROL

for _ in $(seq 50); do
  gdbus call --session --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus \
    --method org.freedesktop.DBus.NameHasOwner org.freedesktop.secrets 2>/dev/null | grep -q true && break
  sleep 0.1
done

"$@"
