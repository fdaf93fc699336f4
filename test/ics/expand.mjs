#!/usr/bin/env node
// Expand an .ics file between two instants with ical.js (the iCalendar
// library Thunderbird uses), independently of ExoCal's Go code, printing the
// occurrences as JSON in the same shape as expand.py:
//
//   [{"uid", "recurrence_id" (optional), "start", "end", "summary", "all_day"?}, ...]
//
// Timed occurrences are UTC ISO instants; all-day ones are dates. Time zones
// come only from the file's VTIMEZONEs (registered with the TimezoneService).
//
// usage: node expand.mjs FILE.ics START END   (START/END: UTC ISO instants)
import { readFileSync } from 'node:fs';
import ICAL from 'ical.js';

const [file, startArg, endArg] = process.argv.slice(2);
if (!file || !startArg || !endArg) {
  console.error('usage: node expand.mjs FILE.ics START END');
  process.exit(2);
}
const winStart = new Date(startArg).getTime();
const winEnd = new Date(endArg).getTime();

const root = new ICAL.Component(ICAL.parse(readFileSync(file, 'utf8')));
for (const vtz of root.getAllSubcomponents('vtimezone')) {
  ICAL.TimezoneService.register(new ICAL.Timezone(vtz));
}

function fmt(t) {
  if (t.isDate) return { v: t.toString(), allDay: true };
  return { v: t.toJSDate().toISOString().replace(/\.\d{3}Z$/, 'Z'), allDay: false };
}

function instant(t) {
  return t.toJSDate().getTime();
}

// Masters (no RECURRENCE-ID) and their exceptions, by UID.
const masters = new Map();
const exceptions = new Map();
for (const comp of root.getAllSubcomponents('vevent')) {
  const uid = comp.getFirstPropertyValue('uid');
  if (comp.hasProperty('recurrence-id')) {
    if (!exceptions.has(uid)) exceptions.set(uid, []);
    exceptions.get(uid).push(comp);
  } else {
    masters.set(uid, comp);
  }
}

const out = [];
function emit(uid, start, end, summary, recurrenceId) {
  const s = fmt(start);
  const e = fmt(end);
  if (!(instant(start) < winEnd && instant(end) > winStart) &&
      !(instant(start) === instant(end) && instant(start) >= winStart && instant(start) < winEnd)) {
    return;
  }
  const o = { uid, start: s.v, end: e.v, summary: summary ?? '' };
  if (s.allDay) o.all_day = true;
  if (recurrenceId) o.recurrence_id = fmt(recurrenceId).v;
  out.push(o);
}

// An exception may be moved far from its original place: iterate a year
// past the window and keep what overlaps it.
const iterLimit = winEnd + 400 * 86400 * 1000;
for (const [uid, comp] of masters) {
  // Pass the exceptions explicitly: without options.exceptions ical.js
  // relates every RECURRENCE-ID component of the calendar, whatever its UID.
  const ev = new ICAL.Event(comp, { strictExceptions: true, exceptions: exceptions.get(uid) ?? [] });
  exceptions.delete(uid);
  if (!ev.isRecurring()) {
    emit(uid, ev.startDate, ev.endDate, ev.summary);
    continue;
  }
  const it = ev.iterator();
  for (let next = it.next(); next; next = it.next()) {
    if (instant(next) > iterLimit) break;
    const d = ev.getOccurrenceDetails(next);
    emit(uid, d.startDate, d.endDate, d.item.summary,
      d.item.component.hasProperty('recurrence-id') ? d.recurrenceId : null);
  }
}
// Exceptions without a master are standalone events.
for (const [uid, comps] of exceptions) {
  for (const comp of comps) {
    const ev = new ICAL.Event(comp, { exceptions: [] });
    emit(uid, ev.startDate, ev.endDate, ev.summary, ev.recurrenceId);
  }
}

const key = (o) => [o.uid, o.start, o.recurrence_id ?? ''];
out.sort((a, b) => {
  const ka = key(a), kb = key(b);
  for (let i = 0; i < ka.length; i++) {
    if (ka[i] < kb[i]) return -1;
    if (ka[i] > kb[i]) return 1;
  }
  return 0;
});
process.stdout.write(JSON.stringify(out, null, 1) + '\n');
