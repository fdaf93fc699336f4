package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/exocal/exocal/sync/calendar"
	"github.com/exocal/exocal/sync/emulator"
	"github.com/exocal/exocal/sync/emulator/tenant"
	"github.com/exocal/exocal/sync/ews"
)

const (
	tenantID = "0d4c8a1e-7b3f-4e2a-9c5d-6f1e2a3b4c5d"
	clientID = "5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b"
	secret   = "Zz9~integration-secret-value-0123456789"
)

var now = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

// recorder adds the bearer token and keeps every request body by operation.
type recorder struct {
	token string
	base  http.RoundTripper
	mu    sync.Mutex
	byOp  map[string][][]byte
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	body, _ := io.ReadAll(req.Body)
	req = req.Clone(req.Context())
	req.Body = io.NopCloser(bytes.NewReader(body))
	r.mu.Lock()
	req.Header.Set("Authorization", "Bearer "+r.token)
	op := opOf(body)
	if len(r.byOp[op]) < 3 {
		r.byOp[op] = append(r.byOp[op], body)
	}
	r.mu.Unlock()
	return r.base.RoundTrip(req)
}

func opOf(body []byte) string {
	dec := xml.NewDecoder(bytes.NewReader(body))
	in := false
	for {
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		if se, ok := tok.(xml.StartElement); ok {
			if in {
				return se.Name.Local
			}
			in = se.Name.Local == "Body"
		}
	}
}

type env struct {
	srv *emulator.Server
	ten *tenant.Tenant
	rec *recorder
	c   *ews.Client
}

func start(t *testing.T, mailboxes, events int) *env {
	t.Helper()
	ten := tenant.Generate(tenant.Config{Seed: 11, Mailboxes: mailboxes, Events: events, Now: now})
	srv := emulator.New(emulator.Options{Tenant: ten, TenantID: tenantID, ClientID: clientID, ClientSecret: secret, Seed: 11,
		Heartbeat: 100 * time.Millisecond, StreamMinute: 2 * time.Second})
	if err := srv.Start(""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	rec := &recorder{token: fetchToken(t, srv), base: &http.Transport{}, byOp: map[string][][]byte{}}
	t.Cleanup(func() { rec.base.(*http.Transport).CloseIdleConnections() })
	c := ews.New(ews.Config{URL: srv.EWSURL(), HTTPClient: &http.Client{Transport: rec}, UserAgent: "ExoCal/test",
		Retry: &ews.Retry{Base: 10 * time.Millisecond, Max: 100 * time.Millisecond}, HeartbeatTimeout: 5 * time.Second})
	return &env{srv: srv, ten: ten, rec: rec, c: c}
}

// fetchToken gets an app-only token from the emulator's Entra endpoint.
func fetchToken(t *testing.T, srv *emulator.Server) string {
	t.Helper()
	resp, err := http.PostForm(srv.TokenURL(), url.Values{
		"grant_type": {"client_credentials"}, "client_id": {clientID}, "client_secret": {secret},
		"scope": {"https://outlook.office365.com/.default"},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("token: %v (status %d)", err, resp.StatusCode)
	}
	return tok.AccessToken
}

func (e *env) httpClient() *http.Client { return &http.Client{Transport: e.rec} }

// fullSync pages SyncFolderItems until Done and returns the events by id and the state.
func fullSync(t *testing.T, src calendar.Source, mailbox, state string, items map[string]calendar.Event) (string, int) {
	t.Helper()
	pages := 0
	for {
		p, err := src.SyncPage(context.Background(), mailbox, state)
		if err != nil {
			t.Fatalf("%s: %v", mailbox, err)
		}
		pages++
		for _, e := range p.Upserts {
			items[e.ItemID] = e
		}
		for _, id := range p.Deletes {
			delete(items, id)
		}
		state = p.State
		if p.Done {
			return state, pages
		}
	}
}

func compare(t *testing.T, mailbox string, want tenant.Item, got calendar.Event) {
	t.Helper()
	where := mailbox + "/" + want.Subject
	check := func(field string, ok bool, g, w any) {
		if !ok {
			t.Errorf("%s: %s: got %v, want %v", where, field, g, w)
		}
	}
	check("UID", got.UID == want.UID, got.UID, want.UID)
	check("Subject", got.Subject == want.Subject, got.Subject, want.Subject)
	check("Location", got.Location == want.Location, got.Location, want.Location)
	check("Body", strings.TrimSpace(got.Body) == strings.TrimSpace(want.Body), got.Body, want.Body)
	check("Start", got.Start.Equal(want.Start), got.Start, want.Start)
	check("End", got.End.Equal(want.End), got.End, want.End)
	check("AllDay", got.AllDay == want.AllDay, got.AllDay, want.AllDay)
	check("Cancelled", got.Cancelled == want.IsCancelled, got.Cancelled, want.IsCancelled)
	check("Sequence", got.Sequence == want.Sequence, got.Sequence, want.Sequence)
	check("LastModified", got.LastModified.Equal(want.LastModified), got.LastModified, want.LastModified)
	if got.TimeZone == nil || got.TimeZone.ID != want.StartTimeZone {
		t.Errorf("%s: TimeZone: got %+v, want %s", where, got.TimeZone, want.StartTimeZone)
	} else if z, ok := tenant.Zone(want.StartTimeZone); ok && got.TimeZone.HasDefinition {
		check("StandardOffset", got.TimeZone.StandardOffset == -z.StandardBias, got.TimeZone.StandardOffset, -z.StandardBias)
		check("DST", (got.TimeZone.ToDaylight != nil) == (z.ToDaylight != nil), got.TimeZone.ToDaylight, z.ToDaylight)
		if z.ToDaylight != nil && got.TimeZone.ToDaylight != nil {
			check("ToDaylight.Month", int(got.TimeZone.ToDaylight.Month) == z.ToDaylight.Month, got.TimeZone.ToDaylight.Month, z.ToDaylight.Month)
		}
	}
	fb := map[string]calendar.FreeBusy{"Free": calendar.Free, "Tentative": calendar.Tentative, "Busy": calendar.Busy,
		"OOF": calendar.OutOfOffice, "WorkingElsewhere": calendar.WorkingElsewhere, "NoData": calendar.NoData}
	if w, ok := fb[want.FreeBusy]; ok {
		check("FreeBusy", got.FreeBusy == w, got.FreeBusy, want.FreeBusy)
	}
	sens := map[string]calendar.Sensitivity{"Normal": calendar.Normal, "Personal": calendar.Personal, "Private": calendar.Private, "Confidential": calendar.Confidential}
	if w, ok := sens[want.Sensitivity]; ok {
		check("Sensitivity", got.Sensitivity == w, got.Sensitivity, want.Sensitivity)
	}
	if want.ReminderSet {
		check("Reminder", got.Reminder != nil && *got.Reminder == time.Duration(want.ReminderMinutes)*time.Minute, got.Reminder, want.ReminderMinutes)
	} else {
		check("Reminder", got.Reminder == nil, got.Reminder, "none")
	}
	check("Categories", strings.Join(got.Categories, "|") == strings.Join(want.Categories, "|"), got.Categories, want.Categories)
	check("Attendees", len(got.Attendees) == len(want.Attendees), len(got.Attendees), len(want.Attendees))
	if want.Organizer.Email != "" {
		check("Organizer", got.Organizer != nil && strings.EqualFold(got.Organizer.Email, want.Organizer.Email), got.Organizer, want.Organizer)
	}
	if (want.Recurrence == nil) != (got.Recurrence == nil) {
		t.Errorf("%s: Recurrence: got %+v, want %+v", where, got.Recurrence, want.Recurrence)
		return
	}
	if r, w := got.Recurrence, want.Recurrence; r != nil {
		pat := map[string]calendar.Pattern{"Daily": calendar.Daily, "Weekly": calendar.Weekly, "AbsoluteMonthly": calendar.AbsoluteMonthly,
			"RelativeMonthly": calendar.RelativeMonthly, "AbsoluteYearly": calendar.AbsoluteYearly, "RelativeYearly": calendar.RelativeYearly}
		check("Pattern", r.Pattern == pat[w.Pattern], r.Pattern, w.Pattern)
		check("StartDate", r.StartDate.String() == w.StartDate, r.StartDate, w.StartDate)
		check("DaysOfWeek", len(r.DaysOfWeek) == len(w.DaysOfWeek), r.DaysOfWeek, w.DaysOfWeek)
		rng := map[string]calendar.RangeKind{"NoEnd": calendar.NoEnd, "EndDate": calendar.EndDate, "Numbered": calendar.Numbered}
		check("Range", r.Range == rng[w.Range], r.Range, w.Range)
		if w.Range == "Numbered" {
			check("Count", r.Count == w.Count, r.Count, w.Count)
		}
		if w.Range == "EndDate" {
			check("EndDate", r.EndDate.String() == w.EndDate, r.EndDate, w.EndDate)
		}
		if w.Interval > 0 && (w.Pattern == "Daily" || w.Pattern == "Weekly" || strings.HasSuffix(w.Pattern, "Monthly")) {
			check("Interval", r.Interval == w.Interval, r.Interval, w.Interval)
		}
	}
	check("DeletedOccurrences", len(got.DeletedOccurrences) == len(want.DeletedOccurrences), got.DeletedOccurrences, want.DeletedOccurrences)
	gotDel := map[int64]bool{}
	for _, d := range got.DeletedOccurrences {
		gotDel[d.Unix()] = true
	}
	for _, d := range want.DeletedOccurrences {
		check("DeletedOccurrence", gotDel[d.Unix()], got.DeletedOccurrences, d)
	}
	check("ModifiedOccurrences", len(got.ModifiedOccurrences) == len(want.ModifiedOccurrences), len(got.ModifiedOccurrences), len(want.ModifiedOccurrences))
	gotMod := map[int64]calendar.Event{}
	for _, m := range got.ModifiedOccurrences {
		gotMod[m.OriginalStart.Unix()] = m
	}
	for _, wm := range want.ModifiedOccurrences {
		gm, ok := gotMod[wm.OriginalStart.Unix()]
		if !ok {
			t.Errorf("%s: no modified occurrence with OriginalStart %v", where, wm.OriginalStart)
			continue
		}
		check("exception Start", gm.Start.Equal(wm.Start), gm.Start, wm.Start)
		check("exception Subject", gm.Subject == wm.Subject, gm.Subject, wm.Subject)
		check("exception Recurrence", gm.Recurrence == nil, gm.Recurrence, nil)
	}
}

// TestSyncAgainstEmulator: a full sync of every mailbox equals the
// tenant's ground truth; an incremental sync sees nothing new; changes made
// in the tenant arrive in the next page; a refused state is reported.
func TestSyncAgainstEmulator(t *testing.T) {
	e := start(t, 3, 30)
	src := ews.NewSource(e.c)
	src.MaxChanges = 17 // several pages
	var withExceptions, withDeleted, allDay, recurring, attendees int
	defer func() {
		// The comparison is only worth something if the tenant has every kind of item.
		if withExceptions == 0 || withDeleted == 0 || allDay == 0 || recurring == 0 || attendees == 0 {
			t.Errorf("tenant lacks kinds: exceptions %d deleted %d all-day %d recurring %d with attendees %d",
				withExceptions, withDeleted, allDay, recurring, attendees)
		}
		t.Logf("compared: %d series with exceptions, %d with deleted occurrences, %d all-day, %d recurring, %d with attendees",
			withExceptions, withDeleted, allDay, recurring, attendees)
	}()
	for _, mb := range e.ten.Mailboxes() {
		items := map[string]calendar.Event{}
		state, pages := fullSync(t, src, mb, "", items)
		want := e.ten.Items(mb)
		if len(items) != len(want) {
			t.Errorf("%s: got %d items, want %d", mb, len(items), len(want))
		}
		if pages < 2 {
			t.Errorf("%s: got %d pages, want several at 17 changes each", mb, pages)
		}
		for _, w := range want {
			got, ok := items[w.ID]
			if !ok {
				t.Errorf("%s: item %s (%s) missing", mb, w.ID, w.Subject)
				continue
			}
			compare(t, mb, w, got)
			if len(w.ModifiedOccurrences) > 0 {
				withExceptions++
			}
			if len(w.DeletedOccurrences) > 0 {
				withDeleted++
			}
			if w.AllDay {
				allDay++
			}
			if w.Recurrence != nil {
				recurring++
			}
			if len(w.Attendees) > 0 {
				attendees++
			}
		}

		// No change: one page, nothing in it.
		p, err := src.SyncPage(context.Background(), mb, state)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Upserts)+len(p.Deletes) != 0 || !p.Done {
			t.Errorf("%s: got %d upserts %d deletes done %v on a quiet calendar", mb, len(p.Upserts), len(p.Deletes), p.Done)
		}
		state = p.State

		// Add, update, delete.
		added, err := e.ten.Add(mb, tenant.Item{Subject: "Integration added", Start: now.Add(24 * time.Hour), End: now.Add(25 * time.Hour),
			StartTimeZone: "W. Europe Standard Time", EndTimeZone: "W. Europe Standard Time", FreeBusy: "Busy", Sensitivity: "Normal"})
		if err != nil {
			t.Fatal(err)
		}
		upd := want[0].ID
		if _, err := e.ten.Update(mb, upd, func(it *tenant.Item) { it.Subject = "Integration renamed" }); err != nil {
			t.Fatal(err)
		}
		del := want[1].ID
		if err := e.ten.Delete(mb, del); err != nil {
			t.Fatal(err)
		}
		state, _ = fullSync(t, src, mb, state, items)
		if items[added.ID].Subject != "Integration added" || items[upd].Subject != "Integration renamed" {
			t.Errorf("%s: got added %q updated %q", mb, items[added.ID].Subject, items[upd].Subject)
		}
		if _, ok := items[del]; ok {
			t.Errorf("%s: deleted item still there", mb)
		}
		if len(items) != len(e.ten.Items(mb)) {
			t.Errorf("%s: got %d items after changes, want %d", mb, len(items), len(e.ten.Items(mb)))
		}
		_ = state
	}

	_, err := src.SyncPage(context.Background(), e.ten.Mailboxes()[0], "bm90IGEgc3RhdGU=")
	if !errors.Is(err, calendar.ErrInvalidSyncState) {
		t.Errorf("got %v for a bogus state, want calendar.ErrInvalidSyncState", err)
	}

	// Diagnostics path: FindItem CalendarView and GetFolder.
	mb := e.ten.Mailboxes()[0]
	if _, err := e.c.GetFolder(context.Background(), nil, mb); err != nil {
		t.Errorf("GetFolder: %v", err)
	}
	view, _, err := e.c.CalendarView(context.Background(), nil, mb, now, now.AddDate(0, 1, 0), 0)
	if err != nil {
		t.Errorf("CalendarView: %v", err)
	}
	wantView := e.ten.CalendarView(mb, now, now.AddDate(0, 1, 0))
	if len(view) != len(wantView) {
		t.Errorf("CalendarView: got %d entries, want %d", len(view), len(wantView))
	}
	validateAll(t, e.rec)
}

// TestWatchAgainstEmulator: grouped streaming subscriptions report changes
// of every mailbox; with 5 mailboxes and 2 per connection, 3 connections.
func TestWatchAgainstEmulator(t *testing.T) {
	e := start(t, 5, 3)
	mbs := e.ten.Mailboxes()
	w := &ews.Watcher{Client: e.c, MaxPerConnection: 2, ConnectionTimeout: time.Minute, MinBackoff: 10 * time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	changed := make(chan string, 100)
	done := make(chan error, 1)
	go func() { done <- w.Watch(ctx, mbs, func(mb string) { changed <- mb }) }()

	// Wait for all groups to be streaming.
	deadline := time.Now().Add(20 * time.Second)
	for e.srv.Stats().StreamsOpen < 3 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if got := e.srv.Stats().StreamsOpen; got != 3 {
		t.Fatalf("got %d open streams, want 3", got)
	}
	for _, mb := range mbs {
		id := e.ten.Items(mb)[0].ID
		if _, err := e.ten.Update(mb, id, func(it *tenant.Item) { it.Location = "Moved" }); err != nil {
			t.Fatal(err)
		}
		timeout := time.After(10 * time.Second)
	wait:
		for {
			select {
			case got := <-changed:
				if strings.EqualFold(got, mb) {
					break wait
				}
			case <-timeout:
				t.Fatalf("no notification for %s", mb)
			}
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Watch: %v", err)
	}
	if got := e.srv.Stats().StreamsTotal; got < 3 {
		t.Errorf("got %d streams in total, want at least 3", got)
	}
	validateAll(t, e.rec)
}

// validateAll checks a few requests of every operation with validate-ews.
func validateAll(t *testing.T, rec *recorder) {
	t.Helper()
	if _, err := exec.LookPath("xmllint"); err != nil {
		t.Skip("schema validation skipped: xmllint is not installed (apt-get install libxml2-utils)")
	}
	out, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		t.Skipf("schema validation skipped: no repository root: %v", err)
	}
	script := filepath.Join(strings.TrimSpace(string(out)), "..", "shared", "ews-schema", "validate-ews")
	if _, err := os.Stat(script); err != nil {
		t.Skipf("schema validation skipped: %s not found", script)
	}
	dir := t.TempDir()
	var files []string
	rec.mu.Lock()
	ops := make([]string, 0, len(rec.byOp))
	for op := range rec.byOp {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	for _, op := range ops {
		for i, b := range rec.byOp[op] {
			p := filepath.Join(dir, fmt.Sprintf("%s-%d.xml", op, i))
			os.WriteFile(p, b, 0o600)
			files = append(files, p)
		}
	}
	rec.mu.Unlock()
	res, err := exec.Command(script, files...).CombinedOutput()
	if err != nil {
		t.Errorf("validate-ews over %v: %v\n%s", ops, err, res)
	}
}
