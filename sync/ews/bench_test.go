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

func benchParseGetItem(b *testing.B, parse func([]byte, *getItemResponse) error) {
	raw := fixture(b, "handwritten/getitem-master-response.xml")
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		var r getItemResponse
		if err := parse(raw, &r); err != nil {
			b.Fatal(err)
		}
		for _, m := range r.Messages {
			for i := range m.Items {
				if _, err := convertItem(&m.Items[i]); err != nil {
					b.Fatal(err)
				}
			}
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
