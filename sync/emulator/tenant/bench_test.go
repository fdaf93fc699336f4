package tenant

import (
	"testing"
	"time"
)

// BenchmarkGenerate builds the load-test tenant: 200 mailboxes × 500 items.
func BenchmarkGenerate(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		Generate(Config{Seed: 1, Mailboxes: 200, Events: 500, Now: genNow})
	}
}

// BenchmarkCalendarViewYear expands one 500-item mailbox over a year.
func BenchmarkCalendarViewYear(b *testing.B) {
	tn := Generate(Config{Seed: 1, Mailboxes: 2, Events: 500, Now: genNow})
	mb := tn.Mailboxes()[0]
	from, to := genNow.AddDate(0, 0, -30), genNow.AddDate(0, 0, 335)
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for b.Loop() {
		n = len(tn.CalendarView(mb, from, to))
	}
	b.ReportMetric(float64(n), "occurrences")
}

// BenchmarkJournalAndMutation measures one Update plus an incremental Journal read.
func BenchmarkJournalAndMutation(b *testing.B) {
	tn := Generate(Config{Seed: 1, Mailboxes: 1, Events: 500, Now: genNow})
	mb := tn.Mailboxes()[0]
	items := tn.Items(mb)
	_, head := tn.Journal(mb, 0)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		tn.Update(mb, items[i%len(items)].ID, func(it *Item) { it.Subject += "." })
		var ch []Change
		ch, head = tn.Journal(mb, head)
		_ = ch
		i++
	}
	_ = time.Second
}
