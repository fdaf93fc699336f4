package ews

import (
	"context"
	"slices"
	"strings"
	"sync"

	"github.com/exocal/exocal/sync/calendar"
)

// GetItemBatch is the number of items per GetItem request: Microsoft
// recommends batches of 10 ("Handling synchronization-related errors",
// ErrorTimeoutExpired).
const GetItemBatch = 10

// calendarFields are the properties GetItem asks for: AllProperties would
// leave out the recipients, the recurrence's occurrences and the time zone
// definitions, so they are named one by one (types.xsd UnindexedFieldURIType),
// and only those convertItem uses: every byte here is decoded 100,000 times
// in a first sync of a big tenant.
var calendarFields = []string{
	"item:Subject",
	"item:Body",
	"item:Categories",
	"item:Sensitivity",
	"item:ReminderIsSet",
	"item:ReminderMinutesBeforeStart",
	"item:LastModifiedTime",
	"calendar:UID",
	"calendar:Start",
	"calendar:End",
	"calendar:OriginalStart",
	"calendar:IsAllDayEvent",
	"calendar:LegacyFreeBusyStatus",
	"calendar:Location",
	"calendar:IsCancelled",
	"calendar:CalendarItemType",
	"calendar:Organizer",
	"calendar:RequiredAttendees",
	"calendar:OptionalAttendees",
	"calendar:Resources",
	"calendar:AppointmentSequenceNumber",
	"calendar:Recurrence",
	"calendar:ModifiedOccurrences",
	"calendar:DeletedOccurrences",
	"calendar:StartTimeZone",
	// Only the id of the end zone: its definition is nearly always the
	// start zone's and would add about a quarter to every item's XML. When
	// the ids differ, endZoneFields fetches the end zone's definition.
	"calendar:EndTimeZoneId",
}

// detailFields are the properties of calendarFields that say what an
// event is about, who takes part and how it reminds: what privacy
// "free-busy" keeps off the machine (not fetched, not cached).
// Sensitivity is among them: a busy block does not show it, and that an
// item is private is itself a detail.
var detailFields = map[string]bool{
	"item:Subject":                    true,
	"item:Body":                       true,
	"item:Categories":                 true,
	"item:Sensitivity":                true,
	"item:ReminderIsSet":              true,
	"item:ReminderMinutesBeforeStart": true,
	"calendar:Location":               true,
	"calendar:Organizer":              true,
	"calendar:RequiredAttendees":      true,
	"calendar:OptionalAttendees":      true,
	"calendar:Resources":              true,
}

// freeBusyFields are calendarFields without detailFields: what a busy
// block needs (times, all-day, free/busy status, cancellation, recurrence
// with its deleted and modified occurrences, time zones, UID, sequence and
// last-modified time for the file's change tracking).
var freeBusyFields = slices.DeleteFunc(slices.Clone(calendarFields), func(f string) bool { return detailFields[f] })

// endZoneFields are the properties of the follow-up GetItem for items whose
// EndTimeZoneId differs from their StartTimeZone.
var endZoneFields = []string{"calendar:EndTimeZone"}

// Detail says how much of each calendar item GetItem fetches.
type Detail int

const (
	// DetailFull fetches everything the calendar model holds.
	DetailFull Detail = iota
	// DetailFreeBusy fetches only busy blocks: no subject, body,
	// location, categories, sensitivity, reminder, organizer, attendees
	// or resources.
	DetailFreeBusy
)

func calendarShape() itemResponseShape { return shapeOf("Text", calendarFields) }

// freeBusyShape asks for no body, so it names no BodyType (optional in
// ItemResponseShapeType).
func freeBusyShape() itemResponseShape { return shapeOf("", freeBusyFields) }

func (d Detail) shape() itemResponseShape {
	if d == DetailFreeBusy {
		return freeBusyShape()
	}
	return calendarShape()
}

func shapeOf(bodyType string, fields []string) itemResponseShape {
	sh := itemResponseShape{BaseShape: "IdOnly", BodyType: bodyType, AdditionalProperties: &fieldURIs{}}
	for _, f := range fields {
		sh.AdditionalProperties.FieldURI = append(sh.AdditionalProperties.FieldURI, fieldURI{f})
	}
	return sh
}

// OccurrenceRef points at a modified occurrence of a series (OccurrenceInfoType).
type OccurrenceRef struct {
	ItemID        string
	OriginalStart string // as sent (xs:dateTime)
}

// ItemResult is GetItem's answer for one id: the converted event (its
// ModifiedOccurrences not yet fetched; see Modified), or Err — for
// instance an error for which IsItemNotFound holds.
type ItemResult struct {
	ID       string
	Event    *calendar.Event
	Kind     string          // CalendarItemType: Single, Occurrence, Exception, RecurringMaster
	Modified []OccurrenceRef // the series' modified occurrences, to fetch by id
	Err      error
}

// IsItemNotFound reports ErrorItemNotFound (the item was deleted meanwhile).
func IsItemNotFound(err error) bool {
	e, ok := asError(err)
	return ok && e.ResponseCode == "ErrorItemNotFound"
}

// GetItem fetches calendar items of mailbox by id with the properties
// detail asks for, in batches of GetItemBatch requests, up to parallel
// batches at once (<1 means 1). The results are in the order of ids. The
// returned error is for a failure of a whole batch; per-item failures are
// in ItemResult.Err.
func (c *Client) GetItem(ctx context.Context, s *Session, mailbox string, ids []string, parallel int, detail Detail) ([]ItemResult, error) {
	s = c.sessionFor(s, mailbox)
	results := make([]ItemResult, len(ids))
	if parallel < 1 {
		parallel = 1
	}
	var (
		wg    sync.WaitGroup
		sem   = make(chan struct{}, parallel)
		mu    sync.Mutex
		first error
	)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for start := 0; start < len(ids); start += GetItemBatch {
		end := min(start+GetItemBatch, len(ids))
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func(start, end int) {
			defer wg.Done()
			defer func() { <-sem }()
			err := c.getItemBatch(ctx, s, mailbox, ids[start:end], results[start:end], detail)
			if err != nil {
				mu.Lock()
				if first == nil {
					first = err
				}
				mu.Unlock()
				cancel()
			}
		}(start, end)
	}
	wg.Wait()
	if first != nil {
		return nil, first
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return results, nil
}

func (c *Client) getItemBatch(ctx context.Context, s *Session, mailbox string, ids []string, out []ItemResult, detail Detail) error {
	req := &getItemRequest{ItemShape: detail.shape()}
	for _, id := range ids {
		req.ItemIDs.ItemID = append(req.ItemIDs.ItemID, reqItemID{ID: id})
	}
	var endZones []int // items whose end zone's definition is still missing
	err := c.do(ctx, "GetItem", func(ctx context.Context) error {
		endZones = endZones[:0]
		var resp getItemResponse
		if err := c.call(ctx, s, "GetItem", mailbox, req, &resp); err != nil {
			return err
		}
		if len(resp.Messages) != len(ids) {
			return &Error{Op: "GetItem", Mailbox: mailbox, HTTPStatus: 200, Err: errNoMessage}
		}
		for i, m := range resp.Messages {
			out[i] = ItemResult{ID: ids[i]}
			if e := messageError("GetItem", mailbox, 200, m.responseMessage); e != nil {
				if IsTransient(e) {
					return e // the whole batch is retried
				}
				out[i].Err = e
				continue
			}
			if len(m.Items) == 0 {
				out[i].Err = &Error{Op: "GetItem", Mailbox: mailbox, HTTPStatus: 200, ResponseCode: "ErrorItemNotFound",
					MessageText: "the reply holds no calendar item"}
				continue
			}
			w := &m.Items[0]
			ev, err := convertItem(w)
			if err != nil {
				out[i].Err = &Error{Op: "GetItem", Mailbox: mailbox, HTTPStatus: 200, Err: err}
				continue
			}
			out[i].Event = &ev
			out[i].Kind = strings.TrimSpace(w.CalendarItemType)
			for _, o := range w.ModifiedOccurrences {
				out[i].Modified = append(out[i].Modified, OccurrenceRef{ItemID: o.ItemID.ID, OriginalStart: o.OriginalStart})
			}
			if needsEndZone(w) {
				endZones = append(endZones, i)
			}
		}
		return nil
	})
	if err != nil || len(endZones) == 0 {
		return err
	}
	return c.getEndZones(ctx, s, mailbox, endZones, out)
}

// needsEndZone reports an item whose EndTimeZoneId names another zone than
// its StartTimeZone (or that has no start zone), so its EndTimeZone
// definition must be fetched.
func needsEndZone(w *wireCalendarItem) bool {
	if w.EndTimeZone != nil || w.EndTimeZoneID == "" {
		return false
	}
	return w.StartTimeZone == nil || strings.TrimSpace(w.StartTimeZone.ID) != w.EndTimeZoneID
}

// getEndZones fetches the EndTimeZone of the items out[idx] in one request
// and sets their events' EndTimeZone as convertItem does.
func (c *Client) getEndZones(ctx context.Context, s *Session, mailbox string, idx []int, out []ItemResult) error {
	req := &getItemRequest{ItemShape: shapeOf("", endZoneFields)}
	for _, i := range idx {
		req.ItemIDs.ItemID = append(req.ItemIDs.ItemID, reqItemID{ID: out[i].ID})
	}
	return c.do(ctx, "GetItem", func(ctx context.Context) error {
		var resp getItemResponse
		if err := c.call(ctx, s, "GetItem", mailbox, req, &resp); err != nil {
			return err
		}
		if len(resp.Messages) != len(idx) {
			return &Error{Op: "GetItem", Mailbox: mailbox, HTTPStatus: 200, Err: errNoMessage}
		}
		for k, m := range resp.Messages {
			r := &out[idx[k]]
			if e := messageError("GetItem", mailbox, 200, m.responseMessage); e != nil {
				if IsTransient(e) {
					return e
				}
				*r = ItemResult{ID: r.ID, Err: e}
				continue
			}
			if len(m.Items) == 0 || m.Items[0].EndTimeZone == nil {
				continue // no definition: as if EndTimeZone had been absent
			}
			ev := r.Event
			if ev.TimeZone == nil || m.Items[0].EndTimeZone.ID != ev.TimeZone.ID {
				tz, err := convertTimeZone(m.Items[0].EndTimeZone)
				if err != nil {
					*r = ItemResult{ID: r.ID, Err: &Error{Op: "GetItem", Mailbox: mailbox, HTTPStatus: 200, Err: err}}
					continue
				}
				ev.EndTimeZone = tz
			}
		}
		return nil
	})
}

// FetchEvents fetches the events with the given ids, with the properties
// detail asks for: each series with its modified occurrences (fetched as
// items by their ItemId, with OriginalStart set). Ids that no longer
// exist are returned in gone.
func (c *Client) FetchEvents(ctx context.Context, s *Session, mailbox string, ids []string, parallel int, detail Detail) (events []calendar.Event, gone []string, err error) {
	res, err := c.GetItem(ctx, s, mailbox, ids, parallel, detail)
	if err != nil {
		return nil, nil, err
	}
	type ref struct {
		master int
		orig   string
	}
	var occIDs []string
	var refs []ref
	for _, r := range res {
		if r.Err != nil {
			if IsItemNotFound(r.Err) {
				gone = append(gone, r.ID)
				continue
			}
			return nil, nil, r.Err
		}
		events = append(events, *r.Event)
		for _, m := range r.Modified {
			occIDs = append(occIDs, m.ItemID)
			refs = append(refs, ref{len(events) - 1, m.OriginalStart})
		}
	}
	if len(occIDs) == 0 {
		return events, gone, nil
	}
	occ, err := c.GetItem(ctx, s, mailbox, occIDs, parallel, detail)
	if err != nil {
		return nil, nil, err
	}
	for i, r := range occ {
		if r.Err != nil {
			if IsItemNotFound(r.Err) {
				continue // removed since the master was read; the next sync sees the master change
			}
			return nil, nil, r.Err
		}
		ev := *r.Event
		ev.Recurrence = nil
		if ev.OriginalStart.IsZero() {
			ev.OriginalStart, _ = parseDateTime(refs[i].orig)
		}
		m := &events[refs[i].master]
		if ev.UID == "" {
			ev.UID = m.UID
		}
		if ev.TimeZone == nil {
			ev.TimeZone = m.TimeZone
		}
		m.ModifiedOccurrences = append(m.ModifiedOccurrences, ev)
	}
	return events, gone, nil
}
