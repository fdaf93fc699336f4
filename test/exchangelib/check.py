#!/usr/bin/python3
"""check.py - drive Debian's python3-exchangelib against `exocal emulator`.

Usage: /usr/bin/python3 test/exchangelib/check.py INFO_JSON [MAILBOXES]

INFO_JSON is the first line `exocal emulator` prints ({"url", "tenant_id",
"client_id", "client_secret", "mailboxes"}). MAILBOXES (default 3) is how
many mailboxes to check.

exchangelib is used as its documentation describes for app-only access
(OAuth2Credentials with client id, secret, tenant id and an identity;
Configuration with a service endpoint and auth_type OAUTH2; Account with
access_type IMPERSONATION and autodiscover=False). Only two things point
it at the emulator instead of Microsoft: the token URL (exchangelib builds
it from tenant_id at login.microsoftonline.com) and the service endpoint;
plain http is allowed for the loopback emulator.

What exchangelib reads is compared with the emulator's ground truth
(GET /_emulator/truth): items, UIDs, subjects, start/end instants,
recurrence patterns and ranges, modified and deleted occurrences, the
occurrences of calendar.view(start, end), sync_items, and streaming
notifications after an item is added through the admin API.

Prints one JSON summary line; exits 1 listing every mismatch.
"""

import datetime
import json
import os
import sys
import threading
import time
import urllib.request

# requests-oauthlib refuses http:// token URLs unless told the transport is
# deliberately insecure; the emulator only listens on loopback.
os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"

from exchangelib import (  # noqa: E402
    IMPERSONATION,
    OAUTH2,
    Account,
    Configuration,
    Identity,
    OAuth2Credentials,
)
from exchangelib.items import CalendarItem  # noqa: E402
from exchangelib.recurrence import (  # noqa: E402
    AbsoluteMonthlyPattern,
    AbsoluteYearlyPattern,
    DailyPattern,
    EndDatePattern,
    NoEndPattern,
    NumberedPattern,
    RelativeMonthlyPattern,
    RelativeYearlyPattern,
    WeeklyPattern,
)

PATTERNS = {
    DailyPattern: "Daily",
    WeeklyPattern: "Weekly",
    AbsoluteMonthlyPattern: "AbsoluteMonthly",
    RelativeMonthlyPattern: "RelativeMonthly",
    AbsoluteYearlyPattern: "AbsoluteYearly",
    RelativeYearlyPattern: "RelativeYearly",
}
RANGES = {NoEndPattern: "NoEnd", EndDatePattern: "EndDate", NumberedPattern: "Numbered"}
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]

problems = []


def problem(msg):
    problems.append(msg)


def parse_time(s):
    # Go's RFC 3339 with optional fractions; Z or offset.
    s = s.replace("Z", "+00:00")
    if "." in s:
        head, tail = s.split(".", 1)
        frac, sep, off = tail.partition("+") if "+" in tail else tail.partition("-")
        s = head + sep + off
    return datetime.datetime.fromisoformat(s).astimezone(datetime.timezone.utc)


def utc(dt):
    if isinstance(dt, datetime.datetime):
        # EWSDateTime refuses plain tzinfo objects; go through the epoch.
        return datetime.datetime.fromtimestamp(dt.timestamp(), tz=datetime.timezone.utc)
    return dt


def day(x):
    """The calendar date of an EWS date (exchangelib may hand back a datetime)."""
    return str(x.date() if isinstance(x, datetime.datetime) else x)[:10]


def http_json(url, method="GET", body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read() or b"null")


def main():
    info = json.loads(sys.argv[1])
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    base = info["url"]

    class EmulatorCredentials(OAuth2Credentials):
        """OAuth2Credentials whose token endpoint is the emulator's."""

        @property
        def token_url(self):
            return f"{base}/{self.tenant_id}/oauth2/v2.0/token"

    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    start, end = now - datetime.timedelta(days=30), now + datetime.timedelta(days=300)
    truth = http_json(
        f"{base}/_emulator/truth?start={start.strftime('%Y-%m-%dT%H:%M:%SZ')}&end={end.strftime('%Y-%m-%dT%H:%M:%SZ')}"
    )
    summary = {"mailboxes": 0, "items": 0, "occurrences": 0, "exceptions": 0, "deleted": 0, "synced": 0, "notifications": 0}

    for mbx in info["mailboxes"][:n]:
        creds = EmulatorCredentials(
            client_id=info["client_id"],
            client_secret=info["client_secret"],
            tenant_id=info["tenant_id"],
            identity=Identity(primary_smtp_address=mbx),
        )
        config = Configuration(service_endpoint=base + "/EWS/Exchange.asmx", auth_type=OAUTH2, credentials=creds)
        account = Account(primary_smtp_address=mbx, config=config, autodiscover=False, access_type=IMPERSONATION)
        cal = account.calendar
        summary["mailboxes"] += 1

        # Items (singles and masters) with their properties.
        want = {it["ID"]: it for it in truth["mailboxes"][mbx]}
        got = {it.id: it for it in cal.all() if isinstance(it, CalendarItem)}
        if set(got) != set(want):
            problem(f"{mbx}: item ids differ: missing {sorted(set(want) - set(got))[:5]}, extra {sorted(set(got) - set(want))[:5]}")
        for iid, w in want.items():
            g = got.get(iid)
            if g is None:
                continue
            summary["items"] += 1
            if g.subject != w["Subject"]:
                problem(f"{mbx} {iid}: subject {g.subject!r} != {w['Subject']!r}")
            if g.uid != w["UID"]:
                problem(f"{mbx} {iid}: uid {g.uid!r} != {w['UID']!r}")
            if w["AllDay"]:
                # exchangelib turns all-day starts into dates in the item's zone.
                if not g.is_all_day:
                    problem(f"{mbx} {iid}: is_all_day false, want true")
            else:
                if utc(g.start) != parse_time(w["Start"]) or utc(g.end) != parse_time(w["End"]):
                    problem(f"{mbx} {iid}: start/end {g.start}/{g.end} != {w['Start']}/{w['End']}")
            rec = w.get("Recurrence")
            if (g.recurrence is None) != (rec is None):
                problem(f"{mbx} {iid}: recurrence presence differs")
                continue
            if rec is None:
                continue
            pat = PATTERNS.get(type(g.recurrence.pattern))
            rng = RANGES.get(type(g.recurrence.boundary))
            if pat != rec["Pattern"] or rng != rec["Range"]:
                problem(f"{mbx} {iid}: recurrence {pat}/{rng} != {rec['Pattern']}/{rec['Range']}")
            if day(g.recurrence.boundary.start) != rec["StartDate"]:
                problem(f"{mbx} {iid}: recurrence start {g.recurrence.boundary.start} != {rec['StartDate']}")
            if rng == "Numbered" and g.recurrence.boundary.number != rec["Count"]:
                problem(f"{mbx} {iid}: occurrences {g.recurrence.boundary.number} != {rec['Count']}")
            if rng == "EndDate" and day(g.recurrence.boundary.end) != rec["EndDate"]:
                problem(f"{mbx} {iid}: end date {g.recurrence.boundary.end} != {rec['EndDate']}")
            if pat == "Weekly" and [DAYS[d - 1] for d in g.recurrence.pattern.weekdays] != rec["DaysOfWeek"]:
                problem(f"{mbx} {iid}: weekdays {g.recurrence.pattern.weekdays} != {rec['DaysOfWeek']}")
            wmod = sorted((e["ID"], parse_time(e["OriginalStart"])) for e in (w.get("ModifiedOccurrences") or []))
            gmod = sorted((o.id, utc(o.original_start)) for o in (g.modified_occurrences or []))
            if wmod != gmod:
                problem(f"{mbx} {iid}: modified occurrences {gmod} != {wmod}")
            wdel = sorted(parse_time(d) for d in (w.get("DeletedOccurrences") or []))
            gdel = sorted(utc(o.start) for o in (g.deleted_occurrences or []))
            if wdel != gdel:
                problem(f"{mbx} {iid}: deleted occurrences {gdel} != {wdel}")
            summary["exceptions"] += len(gmod)
            summary["deleted"] += len(gdel)

        # calendar.view: server-side expansion.
        wview = [(o["ItemID"], parse_time(o["Start"]), parse_time(o["End"]), o["Type"]) for o in truth["view"][mbx]]
        gview = [(o.id, utc(o.start), utc(o.end), o.type) for o in cal.view(start=start, end=end)]
        norm = lambda v: sorted((i, s, e, t) for (i, s, e, t) in v)  # noqa: E731
        # All-day items come back as dates from exchangelib; compare ids/types for those.
        if sorted((i, t) for (i, _, _, t) in gview) != sorted((i, t) for (i, _, _, t) in wview):
            problem(f"{mbx}: view ids/types differ ({len(gview)} vs {len(wview)})")
        else:
            timed = {i for (i, s, e, t) in wview}
            mism = [g for g, w in zip(norm(gview), norm(wview)) if isinstance(g[1], datetime.datetime) and g != w]
            if mism:
                problem(f"{mbx}: {len(mism)} view occurrences have other times, e.g. {mism[:2]}")
            summary["occurrences"] += len(timed)

    # SyncFolderItems and streaming on the first mailbox.
    mbx = info["mailboxes"][0]
    creds = EmulatorCredentials(
        client_id=info["client_id"], client_secret=info["client_secret"], tenant_id=info["tenant_id"],
        identity=Identity(primary_smtp_address=mbx),
    )
    config = Configuration(service_endpoint=base + "/EWS/Exchange.asmx", auth_type=OAUTH2, credentials=creds)
    account = Account(primary_smtp_address=mbx, config=config, autodiscover=False, access_type=IMPERSONATION)
    cal = account.calendar
    created = set()
    for change, item in cal.sync_items(max_changes_returned=10):
        if change == "create":
            created.add(item.id)
        else:
            problem(f"initial sync_items: unexpected {change}")
    current = {it["ID"] for it in http_json(f"{base}/_emulator/truth")["mailboxes"][mbx]}
    if created != current:
        problem(f"sync_items: {len(created)} creates != {len(current)} items")
    summary["synced"] = len(created)
    state = cal.item_sync_state

    sub = cal.subscribe_to_streaming()
    new_item = {}

    def add_later():
        time.sleep(1.0)
        s = now + datetime.timedelta(days=3)
        new_item.update(http_json(f"{base}/_emulator/items/{mbx}", "POST", {
            "Subject": "Added through the admin API", "Start": s.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "End": (s + datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "StartTimeZone": "UTC", "EndTimeZone": "UTC", "FreeBusy": "Busy", "Sensitivity": "Normal",
        }))

    t = threading.Thread(target=add_later)
    t.start()
    seen = []
    for notification in cal.get_streaming_events(sub, connection_timeout=1):
        for ev in notification.events:
            summary["notifications"] += 1
            seen.append((type(ev).__name__, getattr(getattr(ev, "item_id", None), "id", None)))
    t.join()
    if ("CreatedEvent", new_item.get("ID")) not in seen:
        problem(f"streaming: no CreatedEvent for {new_item.get('ID')}; saw {seen}")
    cal.unsubscribe(sub)

    changes = list(cal.sync_items(sync_state=state))
    if [(c, i.id) for c, i in changes] != [("create", new_item.get("ID"))]:
        problem(f"incremental sync_items: {[(c, getattr(i, 'id', i)) for c, i in changes]} != create {new_item.get('ID')}")

    summary["problems"] = len(problems)
    print(json.dumps(summary))
    for p in problems:
        print("MISMATCH:", p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
