"""Independent oracle for the tenant's recurrence expansion.

Reads JSON from stdin: a list of {"id", "tz" (IANA), "dtstart" (local
"YYYY-MM-DDTHH:MM:SS"), "rrule" (RFC 5545 RRULE value), "from", "to" (UTC
ISO instants)} and prints {"id": [UTC instants "YYYY-MM-DDTHH:MM:SSZ" of
the rule's instances starting in [from, to)]}.

python-dateutil expands the rule in local wall time; zoneinfo resolves wall
times (fold=0: a skipped time takes the offset before the gap, a repeated
time the first, daylight, instant), which is what the tenant documents.
"""
import json
import sys
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr

out = {}
for job in json.load(sys.stdin):
    tz = ZoneInfo(job["tz"])
    start = datetime.fromisoformat(job["dtstart"])
    lo = datetime.fromisoformat(job["from"].replace("Z", "+00:00"))
    hi = datetime.fromisoformat(job["to"].replace("Z", "+00:00"))
    rule = rrulestr(job["rrule"], dtstart=start)
    got = []
    for naive in rule:
        inst = naive.replace(tzinfo=tz).astimezone(timezone.utc)
        if naive.year > hi.year + 1:
            break
        if lo <= inst < hi:
            got.append(inst.strftime("%Y-%m-%dT%H:%M:%SZ"))
        if inst >= hi and naive.replace(tzinfo=None) > hi.replace(tzinfo=None):
            break
    out[job["id"]] = got
json.dump(out, sys.stdout)
