package tenant

import "time"

func (s *state) dump(start, end time.Time) GroundTruth {
	s.mu.RLock()
	defer s.mu.RUnlock()
	g := GroundTruth{
		Mailboxes: make(map[string][]Item, len(s.addrs)),
		View:      make(map[string][]Occurrence, len(s.addrs)),
		Start:     start.UTC(),
		End:       end.UTC(),
	}
	for _, addr := range s.addrs {
		mb := s.box(addr)
		g.Mailboxes[addr] = mb.sortedItems()
		view := []Occurrence{}
		for _, it := range mb.items {
			view = expandInto(view, it, start, end)
		}
		sortOccurrences(view)
		g.View[addr] = view
	}
	return g
}
