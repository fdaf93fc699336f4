package emulator

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/exocal/exocal/sync/emulator/tenant"
)

// --- SyncFolderItems (REF syncfolderitems-operation.md; samples 01-07) -------

// syncState is what the opaque SyncState carries: the journal position,
// the latest item time the client has seen (items created after it are
// new to the client: t:Create, else t:Update), whether the initial sync is
// still paging, and the mailbox it belongs to. It is signed so that truncation or tampering
// is detected (ErrorInvalidSyncStateData).
type syncState struct {
	seq      uint64
	baseline int64 // unix nanos
	mailbox  uint32
	initial  bool // the first (paged) sync has not reached its end
}

const syncStateMagic = "EXS1"

func (s *Server) stateKey() []byte {
	sum := sha256.Sum256([]byte(fmt.Sprintf("syncstate:%d:%s", s.opts.Seed, s.opts.TenantID)))
	return sum[:]
}

func (s *Server) encodeSyncState(st syncState) string {
	var b bytes.Buffer
	b.WriteString(syncStateMagic)
	binary.Write(&b, binary.BigEndian, st.seq)
	binary.Write(&b, binary.BigEndian, st.baseline)
	binary.Write(&b, binary.BigEndian, st.mailbox)
	b.WriteByte(boolByte(st.initial))
	mac := hmac.New(sha256.New, s.stateKey())
	mac.Write(b.Bytes())
	b.Write(mac.Sum(nil)[:12])
	return b64std.EncodeToString(b.Bytes())
}

func (s *Server) decodeSyncState(v string) (syncState, bool) {
	raw, err := b64std.DecodeString(strings.TrimSpace(v))
	if err != nil || len(raw) != 4+8+8+4+1+12 || string(raw[:4]) != syncStateMagic {
		return syncState{}, false
	}
	mac := hmac.New(sha256.New, s.stateKey())
	mac.Write(raw[:25])
	if !hmac.Equal(mac.Sum(nil)[:12], raw[25:]) {
		return syncState{}, false
	}
	return syncState{
		seq:      binary.BigEndian.Uint64(raw[4:12]),
		baseline: int64(binary.BigEndian.Uint64(raw[12:20])),
		mailbox:  binary.BigEndian.Uint32(raw[20:24]),
		initial:  raw[24] == 1,
	}, true
}

// writeSyncError answers SyncFolderItems with an error as sample 07 does:
// Error, empty SyncState, IncludesLastItemInRange true.
func writeSyncError(w http.ResponseWriter, req *ewsReq, f Faults, hit bool, code, text string) {
	const name = "SyncFolderItemsResponseMessage"
	body := envelope(true, "SyncFolderItemsResponse", func(w *xw) {
		errMessage(w, name, code, text)
		w.empty("m:SyncState")
		w.elem("m:IncludesLastItemInRange", "true")
		w.close("m:" + name)
	})
	writeXML(w, req.r, body, f, hit)
}

func (s *Server) opSyncFolderItems(w http.ResponseWriter, req *ewsReq, f Faults, hit bool) {
	op := req.op
	maxStr := op.child(nsMessages, "MaxChangesReturned").text()
	maxN, err := strconv.Atoi(maxStr)
	if err != nil || maxN < 1 || maxN > 512 {
		s.writeFault(w, req.r, "ErrorSchemaValidation",
			fmt.Sprintf("The request failed schema validation: The 'http://schemas.microsoft.com/exchange/services/2006/messages:MaxChangesReturned' element is invalid - The value '%s' is invalid according to its datatype 'http://schemas.microsoft.com/exchange/services/2006/types:MaxSyncChangesReturnedType'.", maxStr), nil, f, hit)
		return
	}
	folder := op.child(nsMessages, "SyncFolderId")
	var target *node
	if folder != nil && len(folder.Children) > 0 {
		target = folder.Children[0]
	}
	mb, ok := s.folderTarget(req, target)
	const name = "SyncFolderItemsResponseMessage"
	if ok && s.outsideScope(mb) {
		writeSyncError(w, req, f, hit, "ErrorAccessDenied", accessDeniedText)
		return
	}
	if !ok {
		writeSyncError(w, req, f, hit, "ErrorSyncFolderNotFound", "The specified folder for synchronization could not be found.")
		return
	}
	shape := parseShape(op.child(nsMessages, "ItemShape"), true)
	ignore := map[string]bool{}
	for _, id := range op.child(nsMessages, "Ignore").all(nsTypes, "ItemId") {
		ignore[id.attr("Id")] = true
	}
	st := syncState{initial: true}
	if v := op.child(nsMessages, "SyncState").text(); v != "" {
		var valid bool
		st, valid = s.decodeSyncState(v)
		_, head := s.t.Journal(mb, ^uint64(0))
		if !valid || st.mailbox != hashString(mb) || st.seq > head {
			writeSyncError(w, req, f, hit, "ErrorInvalidSyncStateData", "Synchronization state data is corrupt or otherwise invalid.")
			return
		}
	}
	changes, _ := s.t.Journal(mb, st.seq)
	if st.initial {
		// First sync: what exists, no deletions.
		changes = slices.DeleteFunc(changes, func(c tenant.Change) bool { return c.Kind == tenant.Deleted })
	}
	page := changes
	more := len(page) > maxN
	if more {
		page = page[:maxN]
	}
	next := st
	next.mailbox = hashString(mb)
	if len(page) > 0 {
		next.seq = page[len(page)-1].Seq
	}
	next.initial = st.initial && more
	// Look the changed items up once; the newest item time seen becomes
	// the next state's baseline.
	found := map[string]tenant.Item{}
	for _, c := range page {
		if c.Kind == tenant.Deleted {
			continue
		}
		if it, ok := s.t.Item(mb, c.ItemID); ok {
			found[c.ItemID] = it
			next.baseline = max(next.baseline, it.Created.UnixNano(), it.LastModified.UnixNano())
		}
	}
	// Exchange Online returns the newest change first within a reply.
	slices.Reverse(page)
	body := envelope(true, "SyncFolderItemsResponse", func(w *xw) {
		okMessage(w, name)
		w.elem("m:SyncState", s.encodeSyncState(next))
		w.elem("m:IncludesLastItemInRange", boolStr(!more))
		w.open("m:Changes")
		for _, c := range page {
			if ignore[c.ItemID] {
				continue
			}
			if c.Kind == tenant.Deleted {
				w.open("t:Delete")
				w.empty("t:ItemId", "Id", c.ItemID)
				w.close("t:Delete")
				continue
			}
			it, ok := found[c.ItemID]
			if !ok {
				continue
			}
			kind := "t:Update"
			if st.initial || it.Created.UnixNano() > st.baseline {
				kind = "t:Create"
			}
			w.open(kind)
			s.writeCalendarItem(w, viewOf(mb, it), shape)
			w.close(kind)
		}
		w.close("m:Changes")
		w.close("m:" + name)
	})
	writeXML(w, req.r, body, f, hit)
}

// --- GetItem (REF getitem-operation-calendar-item.md; samples 16-23) --------

// errItem is an item-level error for a GetItem response message.
type errItem struct{ code, text string }

var errItemNotFound = &errItem{"ErrorItemNotFound", "The specified object was not found in the store., The process failed to get the correct properties."}

// resolveItem finds what an ItemId, OccurrenceItemId or
// RecurringMasterItemId names.
func (s *Server) resolveItem(mailbox string, id *node) (itemView, *errItem) {
	switch id.Local {
	case "ItemId":
		v := id.attr("Id")
		if it, ok := s.t.Item(mailbox, v); ok {
			return viewOf(mailbox, it), nil
		}
		if master, idx, ok := tenant.ParseOccurrenceID(v); ok {
			if m, ok := s.t.Item(mailbox, master); ok && m.Recurrence != nil {
				return s.occurrenceByIndex(mailbox, m, idx)
			}
		}
		return itemView{}, errItemNotFound
	case "OccurrenceItemId":
		m, ok := s.t.Item(mailbox, id.attr("RecurringMasterId"))
		if !ok {
			return itemView{}, errItemNotFound
		}
		idx, err := strconv.Atoi(id.attr("InstanceIndex"))
		if err != nil || idx < 1 {
			return itemView{}, &errItem{"ErrorCalendarOccurrenceIndexIsOutOfRecurrenceRange", "Occurrence index is out of recurrence range."}
		}
		if m.Recurrence == nil {
			return itemView{}, &errItem{"ErrorCalendarIsNotOrganizer", "The item is not a recurring master."}
		}
		return s.occurrenceByIndex(mailbox, m, idx)
	case "RecurringMasterItemId":
		occ := id.attr("OccurrenceId")
		if master, _, ok := tenant.ParseOccurrenceID(occ); ok {
			if m, ok := s.t.Item(mailbox, master); ok {
				return viewOf(mailbox, m), nil
			}
		}
		if it, ok := s.t.Item(mailbox, occ); ok {
			if it.Recurrence != nil {
				return viewOf(mailbox, it), nil
			}
			for _, m := range s.t.Items(mailbox) {
				for _, e := range m.ModifiedOccurrences {
					if e.ID == occ {
						return viewOf(mailbox, m), nil
					}
				}
			}
		}
		return itemView{}, errItemNotFound
	}
	return itemView{}, &errItem{"ErrorInvalidIdMalformed", "Id is malformed."}
}

func occurrenceView(mailbox string, master tenant.Item, id string, start, end, orig time.Time) itemView {
	v := viewOf(mailbox, master)
	v.typ, v.id, v.changeKey = "Occurrence", id, master.ChangeKey
	v.start, v.end, v.originalStart = start, end, orig
	return v
}

// occurrenceByIndex finds the idx-th instance of a series (deleted
// occurrences keep their index), as tenant.OccurrenceAt defines it.
func (s *Server) occurrenceByIndex(mailbox string, m tenant.Item, idx int) (itemView, *errItem) {
	o, err := s.t.OccurrenceAt(mailbox, m.ID, idx)
	switch {
	case errors.Is(err, tenant.ErrOccurrenceDeleted):
		return itemView{}, &errItem{"ErrorCalendarOccurrenceIsDeletedFromRecurrence", "Occurrence with this index was previously deleted from the recurrence."}
	case errors.Is(err, tenant.ErrOccurrenceOutOfRange):
		return itemView{}, &errItem{"ErrorCalendarOccurrenceIndexIsOutOfRecurrenceRange", "Occurrence index is out of recurrence range."}
	case err != nil:
		return itemView{}, errItemNotFound
	}
	if o.Type == "Exception" {
		if it, ok := s.t.Item(mailbox, o.ItemID); ok {
			return viewOf(mailbox, it), nil
		}
	}
	return occurrenceView(mailbox, m, o.ItemID, o.Start, o.End, cmpTime(o.OriginalStart, o.Start)), nil
}

func (s *Server) opGetItem(w http.ResponseWriter, req *ewsReq, f Faults, hit bool) {
	shape := parseShape(req.op.child(nsMessages, "ItemShape"), false)
	ids := req.op.child(nsMessages, "ItemIds")
	if ids == nil || len(ids.Children) == 0 {
		s.writeFault(w, req.r, "ErrorSchemaValidation", "The request failed schema validation: ItemIds is empty.", nil, f, hit)
		return
	}
	const name = "GetItemResponseMessage"
	body := envelope(true, "GetItemResponse", func(w *xw) {
		for _, id := range ids.Children {
			v, e := s.resolveItem(req.mailbox, id)
			if e != nil {
				errMessage(w, name, e.code, e.text)
				w.empty("m:Items")
				w.close("m:" + name)
				continue
			}
			okMessage(w, name)
			w.open("m:Items")
			s.writeCalendarItem(w, v, shape)
			w.close("m:Items")
			w.close("m:" + name)
		}
	})
	writeXML(w, req.r, body, f, hit)
}

// --- FindItem (REF finditem-operation.md, calendarview.md; samples 10-15) ---

func (s *Server) opFindItem(w http.ResponseWriter, req *ewsReq, f Faults, hit bool) {
	op := req.op
	shape := parseShape(op.child(nsMessages, "ItemShape"), true)
	parents := op.child(nsMessages, "ParentFolderIds")
	const name = "FindItemResponseMessage"
	if parents == nil || len(parents.Children) == 0 {
		s.writeFault(w, req.r, "ErrorSchemaValidation", "The request failed schema validation: ParentFolderIds is missing.", nil, f, hit)
		return
	}
	mb, ok := s.folderTarget(req, parents.Children[0])
	if !ok || s.outsideScope(mb) {
		code, text := "ErrorFolderNotFound", "The specified folder could not be found in the store."
		if ok {
			code, text = "ErrorAccessDenied", accessDeniedText
		}
		body := envelope(true, "FindItemResponse", func(w *xw) {
			errMessage(w, name, code, text)
			w.close("m:" + name)
		})
		writeXML(w, req.r, body, f, hit)
		return
	}
	if cv := op.child(nsMessages, "CalendarView"); cv != nil {
		s.findCalendarView(w, req, mb, cv, shape, f, hit)
		return
	}
	// A shallow traversal without CalendarView: single items and recurring
	// masters, not expanded (sample 13).
	items := s.t.Items(mb)
	if rn := op.child(nsMessages, "Restriction"); rn != nil && len(rn.Children) == 1 {
		match, err := parseRestriction(rn.Children[0])
		if err != nil {
			body := envelope(true, "FindItemResponse", func(w *xw) {
				errMessage(w, name, "ErrorUnsupportedPathForQuery", "The property path is not supported for this query.")
				w.close("m:" + name)
			})
			writeXML(w, req.r, body, f, hit)
			return
		}
		items = slices.DeleteFunc(items, func(it tenant.Item) bool { return !match(it) })
	}
	slices.SortStableFunc(items, func(a, b tenant.Item) int { return a.Start.Compare(b.Start) })
	total := len(items)
	offset, maxN := 0, total
	if ip := op.child(nsMessages, "IndexedPageItemView"); ip != nil {
		offset, _ = strconv.Atoi(ip.attr("Offset"))
		if ip.attr("BasePoint") == "End" {
			offset = max(0, total-offset-1)
		}
		if v := ip.attr("MaxEntriesReturned"); v != "" {
			maxN, _ = strconv.Atoi(v)
		}
	}
	offset = min(max(offset, 0), total)
	end := min(offset+max(maxN, 0), total)
	page := items[offset:end]
	body := envelope(true, "FindItemResponse", func(w *xw) {
		okMessage(w, name)
		w.open("m:RootFolder", "IndexedPagingOffset", fmt.Sprint(end), "TotalItemsInView", fmt.Sprint(total), "IncludesLastItemInRange", boolStr(end == total))
		w.open("t:Items")
		for _, it := range page {
			s.writeCalendarItem(w, viewOf(mb, it), shape)
		}
		w.close("t:Items")
		w.close("m:RootFolder")
		w.close("m:" + name)
	})
	writeXML(w, req.r, body, f, hit)
}

func (s *Server) findCalendarView(w http.ResponseWriter, req *ewsReq, mb string, cv *node, shape propSet, f Faults, hit bool) {
	const name = "FindItemResponseMessage"
	start, err1 := time.Parse(time.RFC3339, cv.attr("StartDate"))
	end, err2 := time.Parse(time.RFC3339, cv.attr("EndDate"))
	if err1 != nil || err2 != nil || end.Before(start) {
		s.writeFault(w, req.r, "ErrorSchemaValidation", "The request failed schema validation: CalendarView needs StartDate and EndDate, with EndDate not before StartDate.", nil, f, hit)
		return
	}
	if end.Sub(start) > 2*366*24*time.Hour || end.After(start.AddDate(2, 0, 0)) {
		body := envelope(true, "FindItemResponse", func(w *xw) {
			errMessage(w, name, "ErrorCalendarViewRangeTooBig", "The duration of the calendar view exceeds the maximum allowed duration of two years.")
			w.close("m:" + name)
		})
		writeXML(w, req.r, body, f, hit)
		return
	}
	occs := s.t.CalendarView(mb, start, end)
	total := len(occs)
	page := occs
	if v := cv.attr("MaxEntriesReturned"); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n >= 0 && n < len(page) {
			page = page[:n]
		}
	}
	// Masters, looked up once per series, give occurrences their data.
	masters := map[string]tenant.Item{}
	body := envelope(true, "FindItemResponse", func(w *xw) {
		okMessage(w, name)
		w.open("m:RootFolder", "TotalItemsInView", fmt.Sprint(total), "IncludesLastItemInRange", boolStr(len(page) == total))
		w.open("t:Items")
		for _, o := range page {
			var v itemView
			switch o.Type {
			case "Occurrence":
				m, ok := masters[o.MasterID]
				if !ok {
					if m, ok = s.t.Item(mb, o.MasterID); !ok {
						continue
					}
					masters[o.MasterID] = m
				}
				v = occurrenceView(mb, m, o.ItemID, o.Start, o.End, cmpTime(o.OriginalStart, o.Start))
			default:
				it, ok := s.t.Item(mb, o.ItemID)
				if !ok {
					continue
				}
				v = viewOf(mb, it)
			}
			s.writeCalendarItem(w, v, shape)
		}
		w.close("t:Items")
		w.close("m:RootFolder")
		w.close("m:" + name)
	})
	writeXML(w, req.r, body, f, hit)
}

func boolByte(b bool) byte {
	if b {
		return 1
	}
	return 0
}

// restriction is a parsed m:Restriction (the subset of SearchExpression a
// calendar query uses: And/Or/Not and comparisons of a property with a
// constant). Constants without a zone are read as UTC (TimeZoneContext is
// not applied).
type restriction func(tenant.Item) bool

var errUnsupportedPath = errors.New("emulator: unsupported path for query")

func parseRestriction(n *node) (restriction, error) {
	switch n.Local {
	case "And", "Or":
		var subs []restriction
		for _, c := range n.Children {
			r, err := parseRestriction(c)
			if err != nil {
				return nil, err
			}
			subs = append(subs, r)
		}
		and := n.Local == "And"
		return func(it tenant.Item) bool {
			for _, r := range subs {
				if r(it) != and {
					return !and
				}
			}
			return and
		}, nil
	case "Not":
		if len(n.Children) != 1 {
			return nil, errUnsupportedPath
		}
		r, err := parseRestriction(n.Children[0])
		if err != nil {
			return nil, err
		}
		return func(it tenant.Item) bool { return !r(it) }, nil
	case "IsEqualTo", "IsNotEqualTo", "IsGreaterThan", "IsGreaterThanOrEqualTo", "IsLessThan", "IsLessThanOrEqualTo":
		field := n.child(nsTypes, "FieldURI").attr("FieldURI")
		val := n.path(nsTypes, "FieldURIOrConstant", "Constant").attr("Value")
		get, ok := queryFields[field]
		if !ok {
			return nil, errUnsupportedPath
		}
		op := n.Local
		return func(it tenant.Item) bool {
			c := get(it, val)
			switch op {
			case "IsEqualTo":
				return c == 0
			case "IsNotEqualTo":
				return c != 0
			case "IsGreaterThan":
				return c > 0
			case "IsGreaterThanOrEqualTo":
				return c >= 0
			case "IsLessThan":
				return c < 0
			}
			return c <= 0
		}, nil
	}
	return nil, errUnsupportedPath
}

// queryFields compare an item's property with a constant (-1, 0, 1).
var queryFields = map[string]func(tenant.Item, string) int{
	"calendar:Start": func(it tenant.Item, v string) int { return it.Start.Compare(parseConstTime(v)) },
	"calendar:End":   func(it tenant.Item, v string) int { return it.End.Compare(parseConstTime(v)) },
	"item:Subject":   func(it tenant.Item, v string) int { return strings.Compare(it.Subject, v) },
	"calendar:UID":   func(it tenant.Item, v string) int { return strings.Compare(it.UID, v) },
	"calendar:IsAllDayEvent": func(it tenant.Item, v string) int {
		return strings.Compare(boolStr(it.AllDay), strings.ToLower(v))
	},
}

func parseConstTime(v string) time.Time {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t
	}
	t, _ := time.Parse("2006-01-02T15:04:05", v)
	return t
}
