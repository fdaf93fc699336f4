package emulator

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/exocal/exocal/sync/emulator/tenant"
)

// Streaming notifications (ews-protocol.md §6, §7; samples 24-38).

const (
	maxSubscriptionsPerMailbox = 20  // EWSMaxSubscriptions
	maxStreamsPerAccount       = 10  // HangingConnectionLimit
	maxIDsPerStream            = 200 // how-to-maintain-affinity, step 7
	maxEventsPerNotification   = 50  // getstreamingevents-operation.md, Remarks
)

type event struct {
	kind      string // CreatedEvent, ModifiedEvent, DeletedEvent
	itemID    string
	changeKey string
	at        time.Time
}

type subscription struct {
	id       string
	mailbox  string
	backend  string
	events   map[string]bool
	folderID string

	mu       sync.Mutex
	queue    []event
	stream   *stream // attached connection, or nil
	lastSeen time.Time
}

// stream is one open GetStreamingEvents connection.
type stream struct {
	wake     chan struct{} // an attached subscription has events
	takeover chan struct{} // a subscription moved to a newer connection
}

type subscriptions struct {
	s       *Server
	mu      sync.Mutex
	byID    map[string]*subscription
	seq     uint64
	perAcct map[string]int // open streams per impersonated mailbox
	closing chan struct{}
	once    sync.Once
}

func newSubscriptions(s *Server) *subscriptions {
	return &subscriptions{s: s, byID: map[string]*subscription{}, perAcct: map[string]int{}, closing: make(chan struct{})}
}

func (ss *subscriptions) closeAll() { ss.once.Do(func() { close(ss.closing) }) }

// deliver is the tenant watcher: it queues an event on every subscription
// of the changed mailbox that asked for that kind.
func (ss *subscriptions) deliver(mailbox string, c tenant.Change) {
	kind := map[tenant.ChangeKind]string{tenant.Created: "CreatedEvent", tenant.Updated: "ModifiedEvent", tenant.Deleted: "DeletedEvent"}[c.Kind]
	ev := event{kind: kind, itemID: c.ItemID, at: ss.s.now()}
	if c.Kind != tenant.Deleted {
		if it, ok := ss.s.t.Item(mailbox, c.ItemID); ok {
			ev.changeKey = it.ChangeKey
		}
	}
	ss.mu.Lock()
	var targets []*subscription
	for _, sub := range ss.byID {
		if strings.EqualFold(sub.mailbox, mailbox) && sub.events[kind] {
			targets = append(targets, sub)
		}
	}
	ss.mu.Unlock()
	for _, sub := range targets {
		sub.mu.Lock()
		sub.queue = append(sub.queue, ev)
		st := sub.stream
		sub.mu.Unlock()
		if st != nil {
			select {
			case st.wake <- struct{}{}:
			default:
			}
		}
	}
}

// backendOf is the mailbox server that holds a mailbox: a stable function
// of the address, shared by mailboxes with the same GroupingInformation.
func backendOf(mailbox string) string {
	n := hashString(mailbox) % 4
	return fmt.Sprintf("EM%dPR01MB%04d.emulator.prod.outlook.com", n, 1000+n)
}

// groupingOf is Autodiscover's GroupingInformation for a mailbox.
func groupingOf(mailbox string) string {
	return fmt.Sprintf("EM%dPR01", hashString(mailbox)%4)
}

// overrideCookie is the X-BackEndOverrideCookie a request carries, as a
// cookie (samples 36, 38) or as a header (as exchangelib sends it).
func overrideCookie(r *http.Request) string {
	if c, err := r.Cookie("X-BackEndOverrideCookie"); err == nil {
		return c.Value
	}
	return r.Header.Get("X-BackEndOverrideCookie")
}

func preferAffinity(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("X-PreferServerAffinity"), "true")
}

// route returns the backend a request lands on: the override cookie when
// affinity is preferred, else the anchor mailbox's server, else the
// impersonated mailbox's.
func (s *Server) route(req *ewsReq) string {
	if preferAffinity(req.r) {
		if c := overrideCookie(req.r); c != "" {
			if b, _, ok := strings.Cut(c, "~"); ok {
				return b
			}
		}
	}
	if req.anchor != "" {
		return backendOf(req.anchor)
	}
	return backendOf(req.mailbox)
}

func (s *Server) opSubscribe(w http.ResponseWriter, req *ewsReq, f Faults, hit bool) {
	const name = "SubscribeResponseMessage"
	ssr := req.op.child(nsMessages, "StreamingSubscriptionRequest")
	if ssr == nil {
		body := envelope(true, "SubscribeResponse", func(w *xw) {
			errMessage(w, name, "ErrorInvalidSubscriptionRequest", "The emulator supports streaming subscriptions only.")
			w.close("m:" + name)
		})
		writeXML(w, req.r, body, f, hit)
		return
	}
	events := map[string]bool{}
	for _, e := range ssr.path(nsTypes, "EventTypes").all(nsTypes, "EventType") {
		events[e.text()] = true
	}
	folderID := ""
	if fids := ssr.child(nsTypes, "FolderIds"); fids != nil {
		for _, fid := range fids.Children {
			if mb, ok := s.folderTarget(req, fid); ok && strings.EqualFold(mb, req.mailbox) {
				folderID = s.calendarFolderID(mb)
			}
		}
	} else if ssr.attr("SubscribeToAllFolders") == "true" {
		folderID = s.calendarFolderID(req.mailbox)
	}
	backend := s.route(req)
	ss := s.subs
	now := s.now()
	ss.mu.Lock()
	// Subscriptions nobody listened to for 30 minutes are gone (the docs
	// give no number; inferred).
	count := 0
	for id, sub := range ss.byID {
		sub.mu.Lock()
		idle := sub.stream == nil && now.Sub(sub.lastSeen) > 30*s.opts.StreamMinute
		sub.mu.Unlock()
		if idle {
			delete(ss.byID, id)
			continue
		}
		if strings.EqualFold(sub.mailbox, req.mailbox) {
			count++
		}
	}
	if count >= maxSubscriptionsPerMailbox {
		ss.mu.Unlock()
		body := envelope(true, "SubscribeResponse", func(w *xw) {
			errMessage(w, name, "ErrorExceededSubscriptionCount", "You have exceeded the maximum number of subscriptions allowed for this mailbox.")
			w.close("m:" + name)
		})
		writeXML(w, req.r, body, f, hit)
		return
	}
	ss.seq++
	id := b64std.EncodeToString([]byte(fmt.Sprintf("%c%s\x10%08x%08x", len(backend), backend, hashString(req.mailbox), ss.seq+uint64(s.opts.Seed)<<20)))
	sub := &subscription{id: id, mailbox: req.mailbox, backend: backend, events: events, folderID: folderID, lastSeen: now}
	ss.byID[id] = sub
	ss.mu.Unlock()
	if preferAffinity(req.r) && overrideCookie(req.r) == "" {
		// Sample 35: the anchor's reply sets the override cookie. Over plain
		// http (loopback) the cookie cannot be "secure", or no client would
		// send it back.
		http.SetCookie(w, &http.Cookie{Name: "X-BackEndOverrideCookie", Value: backend + "~" + strconv.FormatUint(uint64(hashString(backend))*7919%2147483647, 10), Path: "/", HttpOnly: true})
	}
	body := envelope(true, "SubscribeResponse", func(w *xw) {
		okMessage(w, name)
		w.elem("m:SubscriptionId", id)
		w.close("m:" + name)
	})
	writeXML(w, req.r, body, f, hit)
}

func (s *Server) opUnsubscribe(w http.ResponseWriter, req *ewsReq, f Faults, hit bool) {
	const name = "UnsubscribeResponseMessage"
	id := req.op.child(nsMessages, "SubscriptionId").text()
	ss := s.subs
	ss.mu.Lock()
	sub, ok := ss.byID[id]
	if ok {
		delete(ss.byID, id)
	}
	ss.mu.Unlock()
	if ok {
		sub.mu.Lock()
		if st := sub.stream; st != nil {
			select {
			case st.wake <- struct{}{}:
			default:
			}
		}
		sub.mu.Unlock()
	}
	body := envelope(true, "UnsubscribeResponse", func(w *xw) {
		if !ok {
			errMessage(w, name, "ErrorSubscriptionNotFound", "The specified subscription was not found.")
		} else {
			okMessage(w, name)
		}
		w.close("m:" + name)
	})
	writeXML(w, req.r, body, f, hit)
}

// streamEnvelope writes one GetStreamingEvents envelope (sample 27 shape,
// plus ConnectionStatus), without an XML declaration so that envelopes
// can follow each other on one stream.
func streamEnvelope(notes map[*subscription][]event, order []*subscription, folderOf func(*subscription) string, status string) []byte {
	const name = "GetStreamingEventsResponseMessage"
	return envelope(false, "GetStreamingEventsResponse", func(w *xw) {
		okMessage(w, name)
		if len(order) > 0 {
			w.open("m:Notifications")
			for _, sub := range order {
				evs := notes[sub]
				// Exchange sends m:Notification, not the schema's t:
				// (ews-protocol.md §6, wire quirk).
				w.open("m:Notification")
				w.elem("t:SubscriptionId", sub.id)
				for _, ev := range evs {
					w.open("t:" + ev.kind)
					w.elem("t:TimeStamp", ts(ev.at))
					if ev.changeKey != "" {
						w.empty("t:ItemId", "Id", ev.itemID, "ChangeKey", ev.changeKey)
					} else {
						w.empty("t:ItemId", "Id", ev.itemID)
					}
					w.empty("t:ParentFolderId", "Id", folderOf(sub), "ChangeKey", "AgAAAA==")
					w.close("t:" + ev.kind)
				}
				w.close("m:Notification")
			}
			w.close("m:Notifications")
		}
		w.elem("m:ConnectionStatus", status)
		w.close("m:" + name)
	})
}

func (s *Server) streamError(w http.ResponseWriter, req *ewsReq, code, text string, badIDs []string, f Faults, hit bool) {
	const name = "GetStreamingEventsResponseMessage"
	body := envelope(true, "GetStreamingEventsResponse", func(w *xw) {
		errMessage(w, name, code, text)
		if len(badIDs) > 0 {
			// Exchange's wire form: m:SubscriptionId (the schema says t:).
			w.open("m:ErrorSubscriptionIds")
			for _, id := range badIDs {
				w.elem("m:SubscriptionId", id)
			}
			w.close("m:ErrorSubscriptionIds")
		}
		w.elem("m:ConnectionStatus", "Closed")
		w.close("m:" + name)
	})
	writeXML(w, req.r, body, f, hit)
}

func (s *Server) opGetStreamingEvents(w http.ResponseWriter, req *ewsReq, f Faults, hit bool) {
	op := req.op
	var ids []string
	for _, n := range op.child(nsMessages, "SubscriptionIds").all(nsTypes, "SubscriptionId") {
		ids = append(ids, n.text())
	}
	minutes, err := strconv.Atoi(op.child(nsMessages, "ConnectionTimeout").text())
	if len(ids) == 0 || err != nil || minutes < 1 || minutes > 30 {
		s.writeFault(w, req.r, "ErrorSchemaValidation", "The request failed schema validation: GetStreamingEvents needs t:SubscriptionId elements and a ConnectionTimeout of 1 to 30 minutes.", nil, f, hit)
		return
	}
	if len(ids) > maxIDsPerStream {
		s.streamError(w, req, "ErrorInvalidArgument", fmt.Sprintf("A GetStreamingEvents request can carry at most %d subscription ids; this one has %d.", maxIDsPerStream, len(ids)), nil, f, hit)
		return
	}
	backend := s.route(req)
	ss := s.subs
	ss.mu.Lock()
	var subs []*subscription
	var bad []string
	for _, id := range ids {
		sub, ok := ss.byID[id]
		if !ok || sub.backend != backend {
			// Unknown, expired, or on another mailbox server (no affinity).
			bad = append(bad, id)
			continue
		}
		subs = append(subs, sub)
	}
	acct := strings.ToLower(req.mailbox)
	tooMany := len(bad) == 0 && ss.perAcct[acct] >= maxStreamsPerAccount
	if len(bad) == 0 && !tooMany {
		ss.perAcct[acct]++
	}
	ss.mu.Unlock()
	if len(bad) > 0 {
		s.streamError(w, req, "ErrorSubscriptionNotFound", "The specified subscription was not found.", bad, f, hit)
		return
	}
	if tooMany {
		s.streamError(w, req, "ErrorExceededConnectionCount", "You have exceeded the available concurrent connections for your account.  Try again once your other requests have completed.", nil, f, hit)
		return
	}
	s.stats.streamsOpen.Add(1)
	s.stats.streamsTotal.Add(1)
	st := &stream{wake: make(chan struct{}, 1), takeover: make(chan struct{}, 1)}
	for _, sub := range subs {
		sub.mu.Lock()
		if old := sub.stream; old != nil && old != st {
			select {
			case old.takeover <- struct{}{}:
			default:
			}
		}
		sub.stream = st
		sub.mu.Unlock()
	}
	defer func() {
		for _, sub := range subs {
			sub.mu.Lock()
			if sub.stream == st {
				sub.stream = nil
			}
			sub.lastSeen = s.now()
			sub.mu.Unlock()
		}
		ss.mu.Lock()
		ss.perAcct[acct]--
		ss.mu.Unlock()
		s.stats.streamsOpen.Add(-1)
	}()

	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	fl, _ := w.(http.Flusher)
	send := func(b []byte) bool {
		if hit && f.Kind == FaultTruncate {
			w.Write(b[:len(b)/2])
			if fl != nil {
				fl.Flush()
			}
			panic(http.ErrAbortHandler)
		}
		if hit && f.Kind == FaultSlow {
			d := cmpDur(f.SlowDelay, 50*time.Millisecond)
			piece := max(len(b)/8, 64)
			for i := 0; i < len(b); i += piece {
				if _, err := w.Write(b[i:min(i+piece, len(b))]); err != nil {
					return false
				}
				if fl != nil {
					fl.Flush()
				}
				addWait(req.r, d)
				time.Sleep(d)
			}
			return true
		}
		if _, err := w.Write(b); err != nil {
			return false
		}
		if fl != nil {
			fl.Flush()
		}
		return true
	}
	folderOf := func(sub *subscription) string {
		if sub.folderID != "" {
			return sub.folderID
		}
		return s.calendarFolderID(sub.mailbox)
	}
	// flush sends queued events (at most 50 per subscription per envelope),
	// or a heartbeat when force is set and nothing is queued.
	flush := func(force bool) bool {
		notes := map[*subscription][]event{}
		var order []*subscription
		more := false
		for _, sub := range subs {
			sub.mu.Lock()
			if len(sub.queue) > 0 && sub.stream == st {
				n := min(len(sub.queue), maxEventsPerNotification)
				notes[sub] = append([]event(nil), sub.queue[:n]...)
				sub.queue = sub.queue[n:]
				more = more || len(sub.queue) > 0
				order = append(order, sub)
			}
			sub.mu.Unlock()
		}
		if len(order) == 0 && !force {
			return true
		}
		if !send(streamEnvelope(notes, order, folderOf, "OK")) {
			return false
		}
		if more {
			select {
			case st.wake <- struct{}{}:
			default:
			}
		}
		return true
	}
	deadline := time.NewTimer(time.Duration(minutes) * s.opts.StreamMinute)
	defer deadline.Stop()
	heartbeat := time.NewTicker(s.opts.Heartbeat)
	defer heartbeat.Stop()
	if !flush(true) {
		return
	}
	for {
		waitStart := time.Now()
		select {
		case <-st.wake:
			addWait(req.r, time.Since(waitStart))
			if !flush(false) {
				return
			}
		case <-heartbeat.C:
			addWait(req.r, time.Since(waitStart))
			if !flush(true) {
				return
			}
		case <-st.takeover:
			addWait(req.r, time.Since(waitStart))
			send(streamEnvelope(nil, nil, folderOf, "Closed"))
			return
		case <-deadline.C:
			addWait(req.r, time.Since(waitStart))
			flush(false)
			send(streamEnvelope(nil, nil, folderOf, "Closed"))
			return
		case <-ss.closing:
			addWait(req.r, time.Since(waitStart))
			send(streamEnvelope(nil, nil, folderOf, "Closed"))
			return
		case <-req.r.Context().Done():
			addWait(req.r, time.Since(waitStart))
			return
		}
	}
}

func cmpDur(a, b time.Duration) time.Duration {
	if a > 0 {
		return a
	}
	return b
}
