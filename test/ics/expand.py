#!/usr/bin/python3
"""Expand an .ics file between two instants with Debian's python3-icalendar
and python3-recurring-ical-events (an iCalendar implementation independent
of ExoCal's), printing the occurrences as JSON:

    [{"uid", "recurrence_id" (optional), "start", "end", "summary"}, ...]

start/end are UTC ISO 8601 instants ("2026-03-02T08:00:00Z"); an all-day
occurrence's are its dates ("2026-03-02") and "all_day": true.

usage: /usr/bin/python3 expand.py FILE.ics START END   (START/END: UTC ISO instants)
"""
import datetime
import json
import sys

import icalendar
import recurring_ical_events


def parse_instant(s):
    s = s.replace("Z", "+00:00")
    return datetime.datetime.fromisoformat(s).astimezone(datetime.timezone.utc)


def fmt(v):
    if isinstance(v, datetime.datetime):
        if v.tzinfo is None:
            raise SystemExit("floating time in output: %r" % v)
        return v.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), False
    return v.isoformat(), True


def main():
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    with open(sys.argv[1], "rb") as f:
        cal = icalendar.Calendar.from_ical(f.read())
    start, end = parse_instant(sys.argv[2]), parse_instant(sys.argv[3])
    out = []
    for ev in recurring_ical_events.of(cal).between(start, end):
        s, all_day = fmt(ev["DTSTART"].dt)
        e, _ = fmt(ev["DTEND"].dt)
        occ = {"uid": str(ev["UID"]), "start": s, "end": e, "summary": str(ev.get("SUMMARY", ""))}
        if all_day:
            occ["all_day"] = True
        if "RECURRENCE-ID" in ev:
            occ["recurrence_id"], _ = fmt(ev["RECURRENCE-ID"].dt)
        out.append(occ)
    out.sort(key=lambda o: (o["uid"], o["start"], o.get("recurrence_id", "")))
    json.dump(out, sys.stdout, indent=1, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
