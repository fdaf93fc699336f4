package ics

import (
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/exocal/exocal/sync/calendar"
	"github.com/exocal/exocal/sync/emulator/tenant"
)

// benchEvents makes n events by repeating an emulated mailbox's items
// (every kind: series, exceptions, all-day, private, ...) under new UIDs.
func benchEvents(b *testing.B, n int) []calendar.Event {
	b.Helper()
	tn := tenant.Generate(tenant.Config{Seed: 1, Mailboxes: 1, Events: 200, Now: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)})
	var base []calendar.Event
	for _, it := range tn.Items(tn.Mailboxes()[0]) {
		base = append(base, eventFromTenant(&testing.T{}, it))
	}
	out := make([]calendar.Event, n)
	for i := range out {
		e := base[i%len(base)]
		e.UID = fmt.Sprintf("%s-%d", e.UID, i)
		e.ItemID = fmt.Sprintf("%s-%d", e.ItemID, i)
		out[i] = e
	}
	return out
}

// BenchmarkRender reports the time and memory to render 10,000 and
// 100,000 events (compare allocs/op and B/op between the two for linear
// growth); it asserts nothing.
func BenchmarkRender(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		events := benchEvents(b, n)
		b.Run(fmt.Sprintf("events=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				cw := &countWriter{}
				if err := Render(cw, "bench@contoso.com", events, Options{}); err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(cw.n)/float64(n), "bytes-out/event")
			}
		})
	}
}

type countWriter struct{ n int }

func (c *countWriter) Write(p []byte) (int, error) { c.n += len(p); return len(p), nil }

var _ io.Writer = (*countWriter)(nil)
