package ews

import (
	"bytes"
	"encoding/xml"
	"testing"
)

// BenchmarkParseGetItem measures parsing and converting a GetItem reply
// (two calendar items, one a series with a full time zone definition) the
// way Client.GetItem does (the hand-written walker).
func BenchmarkParseGetItem(b *testing.B) {
	var zones zoneCache
	benchParseGetItem(b, func(raw []byte, r *getItemResponse) error { return unmarshalGetItem(raw, r, &zones) })
}

// BenchmarkParseGetItemXML is the same with encoding/xml (the walker's
// fallback and reference), for comparison.
func BenchmarkParseGetItemXML(b *testing.B) {
	benchParseGetItem(b, func(raw []byte, r *getItemResponse) error { return xml.Unmarshal(raw, r) })
}

// BenchmarkParseGetItemBatch parses and converts a batch of GetItemBatch
// items (the handwritten fixture's two items, five times) through one
// Client's zone cache, as a sync does; allocs/op ÷ 10 is per item.
func BenchmarkParseGetItemBatch(b *testing.B) {
	raw := fixture(b, "handwritten/getitem-master-response.xml")
	open, end := []byte("<m:ResponseMessages>"), []byte("</m:ResponseMessages>")
	i, j := bytes.Index(raw, open)+len(open), bytes.Index(raw, end)
	batch := bytes.Join([][]byte{raw[:i], bytes.Repeat(raw[i:j], GetItemBatch/2), raw[j:]}, nil)
	var zones zoneCache
	benchParse(b, batch, GetItemBatch, func(raw []byte, r *getItemResponse) error { return unmarshalGetItem(raw, r, &zones) })
}

func benchParseGetItem(b *testing.B, parse func([]byte, *getItemResponse) error) {
	benchParse(b, fixture(b, "handwritten/getitem-master-response.xml"), 2, parse)
}

func benchParse(b *testing.B, raw []byte, items int, parse func([]byte, *getItemResponse) error) {
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		var r getItemResponse
		if err := parse(raw, &r); err != nil {
			b.Fatal(err)
		}
		n := 0
		for _, m := range r.Messages {
			for i := range m.Items {
				if _, err := convertItem(&m.Items[i]); err != nil {
					b.Fatal(err)
				}
				n++
			}
		}
		if n != items {
			b.Fatalf("got %d items, want %d", n, items)
		}
	}
}

// BenchmarkParseStream measures the streaming parser over four envelopes.
func BenchmarkParseStream(b *testing.B) {
	raw := bytes.Join([][]byte{
		fixture(b, "examples/getstreamingevents-heartbeat.xml"),
		fixture(b, "msdocs/27-getstreamingevents-response.xml"),
		fixture(b, "examples/getstreamingevents-error-wire-form.xml"),
		fixture(b, "examples/getstreamingevents-heartbeat.xml"),
	}, nil)
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		if err := parseStream(bytes.NewReader(raw), func(*streamingEnvelope) error { n++; return nil }); err != nil || n != 4 {
			b.Fatalf("got %d envelopes, %v", n, err)
		}
	}
}
