#!/usr/bin/env bash
# gui-test.sh BINARY — run the real ExoCal tray app under Xvfb, inside a private D-Bus session with a
# throw-away unlocked gnome-keyring, and drive it from outside as a tray host would:
#   0. with no session bus: runs without a tray (says so), shows the settings window, exits 0 on SIGTERM;
#   1. unconfigured: the tray's first menu line (read over D-Bus, com.canonical.dbusmenu) says
#      "Not set up — open Settings" and the settings window is open;
#   2. "Quit" clicked over D-Bus ends the app with exit status 0;
#   3. configured (pre-made config.json + EXOCAL_* registration): no window at start; a second launch
#      exits 0 and brings the first instance's settings window forward (no second tray item);
#      clicking "Pause" over D-Bus turns the first line into "Paused" and changes the icon;
#      with no tray host (org.kde.StatusNotifierWatcher) on the bus, the status window opens at start;
#   4. the secret is in none of: config file, logs, /proc/<pid>/cmdline, files under the XDG dirs;
#   5. with a tray host (.ci/tray-host.py): configured, no window at start; "Show status…" opens it;
#      the turn to error sends one desktop notification (org.freedesktop.Notifications), not one per retry;
#   6. `exocal demo` opens the status window at start even with a tray host.
# env SCREENSHOT=path.png         save the settings window (configured) as a PNG, e.g. docs/settings.png.
# env STATUS_SCREENSHOT=path.png  save the demo's status window as a PNG, e.g. docs/status.png.
#
# Needs: xvfb dbus libglib2.0-bin gnome-keyring libsecret-tools imagemagick (import), python3-dbus
# and python3-gi (the tray host). No TTY, no stdin, no window manager.
set -euo pipefail

if [ -z "${EXOCAL_GUI_TEST_SESSION:-}" ]; then
  export EXOCAL_GUI_TEST_SESSION=1
  here=$(cd "$(dirname "$0")" && pwd)
  # A private bus with a real Secret Service; the bus has no DISPLAY (no keyring prompt ever).
  exec "$here/keyring-session.sh" "$(readlink -f "$0")" "$@"
fi

BIN=$(readlink -f "${1:?usage: gui-test.sh BINARY}")
export LANG=C    # LANG=C.UTF-8 makes Fyne log "Error parsing user locale C"
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do
    for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true   # never leave a hung process behind
    wait "$p" 2>/dev/null || true
  done
  rm -rf "$tmp"
}
trap cleanup EXIT
log=/dev/null
fail() { echo "FAIL: $*" >&2; echo "--- app log ($log):" >&2; cat "$log" >&2 || true; exit 1; }

# Xvfb on a free display; -displayfd prints the display number once it accepts clients.
Xvfb -displayfd 3 -screen 0 1024x800x24 -nolisten tcp 3>"$tmp/display" >"$tmp/xvfb.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [ -s "$tmp/display" ] && break; sleep 0.1; done
[ -s "$tmp/display" ] || fail "Xvfb did not start: $(cat "$tmp/xvfb.log")"
export DISPLAY=":$(head -1 "$tmp/display")"

# Isolated configuration; XDG_DATA_HOME (the keyring's) and XDG_RUNTIME_DIR (the single-instance
# socket) come from keyring-session.sh.
export XDG_CONFIG_HOME="$tmp/config" XDG_CACHE_HOME="$tmp/cache"
mkdir -p "$XDG_CONFIG_HOME" "$XDG_CACHE_HOME"
unset EXOCAL_TENANT_ID EXOCAL_CLIENT_ID EXOCAL_CLIENT_SECRET

has_owner() {
  gdbus call --session --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus \
    --method org.freedesktop.DBus.NameHasOwner "$1" 2>/dev/null | grep -q true
}
layout() { # the whole menu; "--" keeps gdbus from reading -1 as an option
  LC_ALL=C.UTF-8 gdbus call --session --dest "$NAME" --object-path /StatusNotifierMenu \
    --method com.canonical.dbusmenu.GetLayout -- 0 -1 '[]' 2>/dev/null
}
# "<id>\t<label>" of every labelled item, in order (ids change on each menu rebuild).
items() {
  layout | grep -o "<([0-9]*, {[^}]*'label': <'[^']*'>" |
    sed -E "s/^<\(([0-9]+), .*'label': <'([^']*)'>$/\1\t\2/" || true
}
first_label() { items | head -1 | cut -f2; }
wait_other() { # wait_other <label> <timeout-s>: wait until the first line is set and differs from <label>
  local not=$1 deadline=$((SECONDS + $2)) got=""
  while [ $SECONDS -lt $deadline ]; do
    got=$(first_label)
    [ -n "$got" ] && [ "$got" != "$not" ] && { echo "OK first tray line: '$got'"; return 0; }
    kill -0 "$APID" 2>/dev/null || fail "app exited"
    sleep 0.2
  done
  fail "first tray line: got '$got', want anything but '$not'"
}
wait_label() { # wait_label <label> <timeout-s>
  local want=$1 deadline=$((SECONDS + $2)) got=""
  while [ $SECONDS -lt $deadline ]; do
    got=$(first_label)
    [ "$got" = "$want" ] && { echo "OK first tray line: '$got'"; return 0; }
    kill -0 "$APID" 2>/dev/null || fail "app exited"
    sleep 0.2
  done
  fail "first tray line: got '$got', want '$want'"
}
click() { # click <label>: send dbusmenu Event(id, "clicked") for the item with that label
  local id="" _
  for _ in $(seq 30); do # the menu is briefly empty while it is rebuilt
    id=$(items | awk -F'\t' -v l="$1" '$2 == l { print $1; exit }')
    [ -n "$id" ] && break
    sleep 0.1
  done
  [ -n "$id" ] || fail "no tray item '$1' in: $(items | cut -f2 | tr '\n' '|')"
  LC_ALL=C.UTF-8 gdbus call --session --dest "$NAME" --object-path /StatusNotifierMenu \
    --method com.canonical.dbusmenu.Event "$id" clicked '<int32 0>' 0 >/dev/null
}
start_app() { # start_app <log> [args...]
  log=$1; shift
  "$BIN" "$@" >"$log" 2>&1 &
  APID=$!
  pids=("$APID" "${pids[@]}")
  NAME="org.kde.StatusNotifierItem-$APID-1"
  for _ in $(seq 300); do has_owner "$NAME" && break; kill -0 "$APID" 2>/dev/null || fail "app exited"; sleep 0.1; done
  has_owner "$NAME" || fail "$NAME never appeared on the session bus"
}
# grab <file>: screenshot of the settings window. import waits forever for a window that exists but
# is not mapped (hidden), so a grab that does not finish in 5 s means "not shown".
grab() { timeout 5 import -display "$DISPLAY" -window "ExoCal Settings" "$1" 2>/dev/null; }
grab_status() { timeout 5 import -display "$DISPLAY" -window "ExoCal" "$1" 2>/dev/null; } # the status window
status_shown() { # the status window is mapped on the X screen (within ~10 s)
  for _ in $(seq 50); do
    grab_status "$tmp/status.png" && return 0
    sleep 0.2
  done
  return 1
}
click_until() { # click_until <item> <first line wanted> [other]: click again if a rebuild ate the click
  local i
  for i in 1 2 3; do
    click "$1"
    for _ in $(seq 30); do
      if [ "${3:-}" = other ]; then
        [ "$(first_label)" != "$2" ] && [ -n "$(first_label)" ] && { echo "OK '$1' -> first tray line: '$(first_label)'"; return 0; }
      else
        [ "$(first_label)" = "$2" ] && { echo "OK '$1' -> first tray line: '$2'"; return 0; }
      fi
      sleep 0.1
    done
  done
  fail "clicked '$1' 3 times; first tray line: got '$(first_label)', want ${3:+anything but }'$2'"
}
quit() { # click "Quit"; dbusmenu ids change on every menu rebuild, so a click that raced a rebuild
  # hits a stale id and is ignored: re-read the ids and click again, up to 3 times.
  for _ in 1 2 3; do
    click "Quit"
    for _ in $(seq 30); do kill -0 "$APID" 2>/dev/null || return 0; sleep 0.1; done
  done
}
wait_exit() { # wait_exit <what>: the app must end within 10 s with status 0; else dump its goroutines
  for _ in $(seq 100); do kill -0 "$APID" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$APID" 2>/dev/null; then
    kill -QUIT "$APID"; sleep 1   # Go prints every goroutine's stack to the log
    fail "$1, but the app still runs"
  fi
  local rc=0
  wait "$APID" || rc=$?
  [ "$rc" = 0 ] || fail "$1: exit status $rc, want 0"
}
window_shown() { # the settings window is mapped on the X screen
  for _ in $(seq 50); do
    grab "$tmp/win.png" && return 0
    sleep 0.2
  done
  return 1
}

# 0) No session bus: no tray (fyne.io/systray would panic on Quit), the settings window instead, and
#    no bus autolaunched behind our back; SIGTERM ends it cleanly.
mkdir -p "$tmp/nobus" && chmod 700 "$tmp/nobus"
log="$tmp/app0.log"
: >"$log"
env -u DBUS_SESSION_BUS_ADDRESS XDG_RUNTIME_DIR="$tmp/nobus" EXOCAL_TENANT_ID=contoso.onmicrosoft.com \
  EXOCAL_CLIENT_ID=2f6a1c4e-8b1d-4c1e-9a53-6d0e7f4b2a91 EXOCAL_CLIENT_SECRET=not-used "$BIN" >"$log" 2>&1 &
APID=$!
pids=("$APID" "${pids[@]}")
for _ in $(seq 100); do grep -q "without a tray icon" "$log" && break; kill -0 "$APID" 2>/dev/null || fail "app exited"; sleep 0.1; done
grep -q "without a tray icon" "$log" || fail "no session bus: the app did not say it runs without a tray"
window_shown || fail "no session bus: the settings window did not open"
kill -TERM "$APID"
wait_exit "no session bus: SIGTERM sent"
echo "OK no session bus: no tray, settings window shown, SIGTERM -> exit 0"

# 1) Unconfigured: first line and the settings window.
start_app "$tmp/app1.log"
wait_label "Not set up — open Settings" 30
window_shown || fail "the settings window did not open although ExoCal is not set up"
echo "OK settings window open at start (not configured)"

# 2) Quit from the tray menu.
quit
wait_exit "Quit clicked over D-Bus"
echo "OK Quit over D-Bus: exit 0"

# 3) Configured: a pre-made config.json and the registration in the environment. The endpoints are
#    a closed loopback port: the sync engine's attempts stay on this machine (and fail, so the first
#    line says "Error: Cannot connect to 127.0.0.1:9 …"; the test only needs it to be set up).
secret="gui-test~Secret.$RANDOM$RANDOM.value"
mkdir -p "$XDG_CONFIG_HOME/exocal"
cat >"$XDG_CONFIG_HOME/exocal/config.json" <<JSON
{"version": 1, "sync_type": "ews", "user": "admin@contoso.com", "exchange_server": "external",
 "supported_account": "single", "max_subscriptions_per_connection": 200,
 "mailboxes": ["alice@contoso.com", "room1@contoso.com"], "export_dir": "$tmp/calendars",
 "window_past_days": 30, "window_future_days": 365, "poll_interval": "5m0s", "privacy": "full",
 "authority_host": "http://127.0.0.1:9", "ews_url": "http://127.0.0.1:9/EWS/Exchange.asmx"}
JSON
export EXOCAL_TENANT_ID=contoso.onmicrosoft.com EXOCAL_CLIENT_ID=2f6a1c4e-8b1d-4c1e-9a53-6d0e7f4b2a91
export EXOCAL_CLIENT_SECRET=$secret
FYNE_THEME=light start_app "$tmp/app2.log"   # light: the screenshot is for the README
wait_other "Not set up — open Settings" 30
sleep 1
grab "$tmp/win.png" &&
  fail "configured: the settings window opened at start, want only the tray"
echo "OK configured: no settings window at start"
status_shown || fail "configured, no tray host: the status window did not open at start"
grep -q "no tray host" "$log" || fail "configured, no tray host: the app did not say why the status window opened"
echo "OK configured, no tray host: the status window opened at start"

# A second launch: exit 0, the first instance shows its settings window, no second tray item.
"$BIN" >"$tmp/second.log" 2>&1 || fail "second launch: exit $?: $(cat "$tmp/second.log")"
grep -q "already running" "$tmp/second.log" || fail "second launch said: $(cat "$tmp/second.log")"
for _ in $(seq 50); do grep -q "activated by a second launch" "$log" && break; sleep 0.1; done
grep -q "activated by a second launch" "$log" || fail "the running instance was not activated"
n=$(gdbus call --session --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus \
  --method org.freedesktop.DBus.ListNames | grep -o "org.kde.StatusNotifierItem-[0-9]*-1" | sort -u | wc -l)
[ "$n" = 1 ] || fail "tray items on the bus: got $n, want 1"
echo "OK second launch: $(head -1 "$tmp/second.log")"

window_shown || fail "the second launch did not bring the settings window forward"
echo "OK the settings window came forward"
if [ -n "${SCREENSHOT:-}" ]; then
  sleep 1   # let it finish drawing
  grab "$SCREENSHOT" || fail "could not save the screenshot"
  echo "OK screenshot of the settings window -> $SCREENSHOT ($(identify -format '%wx%h' "$SCREENSHOT"))"
fi
icon() { # a digest of the tray icon's pixmap as the tray host sees it
  gdbus call --session --dest "$NAME" --object-path /StatusNotifierItem \
    --method org.freedesktop.DBus.Properties.Get org.kde.StatusNotifierItem IconPixmap | md5sum | cut -c1-12
}
icon_before=$(icon)
click_until "Pause" "Paused"
for _ in $(seq 50); do [ "$(icon)" != "$icon_before" ] && break; sleep 0.1; done
[ "$(icon)" != "$icon_before" ] || fail "the tray icon did not change when pausing"
echo "OK tray icon changed with the state ($icon_before -> $(icon))"
click_until "Resume" "Paused" other

# 4) The secret never reaches a file, a log or the command line.
grep -qF "$secret" "$XDG_CONFIG_HOME/exocal/config.json" && fail "the secret is in config.json"
grep -qF "$secret" "$log" && fail "the secret is in the log"
tr '\0' ' ' <"/proc/$APID/cmdline" | grep -qF "$secret" && fail "the secret is on the command line"
grep -rqF "$secret" "$XDG_CONFIG_HOME" "$XDG_CACHE_HOME" && fail "the secret is in a file under the XDG dirs"
echo "OK the secret is in no file, log or argv"

quit
wait_exit "Quit clicked over D-Bus (configured)"

# 5) A tray host on the bus: the tray is seen, so no window at start; "Show status…" opens the status window.
/usr/bin/python3 "$(dirname "$0")/tray-host.py" >"$tmp/host.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do has_owner org.kde.StatusNotifierWatcher && break; sleep 0.1; done
has_owner org.kde.StatusNotifierWatcher || fail "the tray host did not start: $(cat "$tmp/host.log")"
start_app "$tmp/app5.log"
wait_other "Not set up — open Settings" 30
for _ in $(seq 50); do grep -q "^ITEM" "$tmp/host.log" && break; sleep 0.1; done
grep -q "^ITEM" "$tmp/host.log" || fail "tray host: the app did not register its tray item: $(cat "$tmp/host.log")"
sleep 1
grab_status "$tmp/status.png" && fail "tray host present: the status window opened at start, want only the tray"
grep -q "no tray host" "$log" && fail "tray host present: the app said there is none"
echo "OK tray host present: no status window at start"
for _ in $(seq 100); do grep -q "^NOTIFY ExoCal: syncing stopped" "$tmp/host.log" && break; sleep 0.1; done
grep -q "^NOTIFY ExoCal: syncing stopped" "$tmp/host.log" || fail "error state: no desktop notification: $(cat "$tmp/host.log")"
echo "OK desktop notification: $(grep -m1 '^NOTIFY' "$tmp/host.log" | cut -c1-100)"
click "Show status…"
status_shown || fail "'Show status…' did not open the status window"
echo "OK 'Show status…' opened the status window"
sleep 6   # the engine retries (5 s backoff) and reports the error again: no second notification
n=$(grep -c "^NOTIFY" "$tmp/host.log" || true)
[ "$n" = 1 ] || fail "desktop notifications: got $n, want 1 (once per turn to error): $(cat "$tmp/host.log")"
echo "OK one notification for the error, however often it is reported"
quit
wait_exit "Quit clicked over D-Bus (tray host)"

# 6) `exocal demo` (emulated tenant; it makes its own temporary XDG dirs and single-instance socket)
#    opens the status window at start although a tray host is present.
FYNE_THEME=light start_app "$tmp/demo.log" demo --live 0 --mailboxes 4 --events 30
status_shown || fail "demo: the status window did not open at start"
wait_other "Not set up — open Settings" 60
for _ in $(seq 150); do case "$(first_label)" in Synced*) break ;; esac; sleep 0.2; done
case "$(first_label)" in Synced*) ;; *) fail "demo: first tray line: got '$(first_label)', want 'Synced …'" ;; esac
echo "OK demo: status window open, first tray line '$(first_label)'"
if [ -n "${STATUS_SCREENSHOT:-}" ]; then
  sleep 1   # let it finish drawing
  grab_status "$STATUS_SCREENSHOT" || fail "could not save the status screenshot"
  echo "OK screenshot of the status window -> $STATUS_SCREENSHOT ($(identify -format '%wx%h' "$STATUS_SCREENSHOT"))"
fi
quit
wait_exit "Quit clicked over D-Bus (demo)"
demo_dir=$(sed -n 's|.*ICS files in \(/.*exocal-demo-[^/]*\)/.*|\1|p' "$tmp/demo.log" | head -1)
[ -n "$demo_dir" ] || fail "demo: its first line did not name its temporary folder: $(head -1 "$tmp/demo.log")"
sleep 0.5   # anything re-creating it would have done so by now
[ ! -e "$demo_dir" ] || fail "demo: its temporary folder $demo_dir is still there after Quit: $(find "$demo_dir" | head)"
echo "OK demo: its temporary folder is gone after Quit"
echo "PASS gui-test"
