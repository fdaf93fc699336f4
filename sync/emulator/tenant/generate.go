package tenant

import (
	"fmt"
	"math/rand/v2"
	"time"
)

func uidFor(mbx, n int) string {
	// Exchange's UIDs are the hex of a Global Object ID; this keeps the
	// well-known prefix and makes the rest from the item's number.
	return fmt.Sprintf("040000008200E00074C5B7101A82E00800000000%08X%08X0000000000000000", mbx, n)
}

func generate(cfg Config) *Tenant {
	if cfg.Domain == "" {
		cfg.Domain = "contoso.onmicrosoft.com"
	}
	if cfg.Now.IsZero() {
		cfg.Now = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	}
	s := newState(cfg.Domain, cfg.Now)
	rng := rand.New(rand.NewPCG(uint64(cfg.Seed), 0x9E3779B97F4A7C15))
	for i := 1; i <= cfg.Mailboxes; i++ {
		addr := fmt.Sprintf("user%03d@%s", i, cfg.Domain)
		mb := s.addMailbox(addr, fmt.Sprintf("User %03d", i), i, false)
		for n := 1; n <= cfg.Events; n++ {
			start := cfg.Now.Truncate(time.Hour).Add(time.Duration(rng.IntN(24*300)) * time.Hour)
			it := Item{ID: itemID(i, n), UID: uidFor(i, n), Subject: fmt.Sprintf("Meeting %d", n),
				Start: start, End: start.Add(time.Hour), StartTimeZone: "UTC", EndTimeZone: "UTC",
				FreeBusy: "Busy", Sensitivity: "Normal", Created: cfg.Now.Add(-time.Hour), LastModified: cfg.Now.Add(-time.Hour)}
			it.ChangeKey = changeKey(it.ID, 1)
			mb.insert(&it)
			mb.nextItem = n
		}
	}
	return &Tenant{impl: s}
}
