package ews

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/exocal/exocal/sync/calendar"
)

// viaXML parses raw with encoding/xml only (the reference for the walker).
func viaXML(raw []byte) (getItemResponse, error) {
	var r getItemResponse
	err := xml.Unmarshal(raw, &r)
	return r, err
}

// viaWalker parses raw with the hand-written walker only (no fallback).
func viaWalker(raw []byte) (getItemResponse, error) {
	var r getItemResponse
	s := &xscan{b: raw}
	err := s.getItemResponse(&r)
	return r, err
}

// normalize clears what the walker does not fill: the namespace of the
// `,any` transitions' element names (convertTimeZone reads Local only).
func normalize(r *getItemResponse) {
	for i := range r.Messages {
		for j := range r.Messages[i].Items {
			w := &r.Messages[i].Items[j]
			for _, z := range []*wireTimeZoneDef{w.StartTimeZone, w.EndTimeZone} {
				if z == nil {
					continue
				}
				for g := range z.TransitionsGroups {
					for k := range z.TransitionsGroups[g].Transitions {
						z.TransitionsGroups[g].Transitions[k].XMLName.Space = ""
					}
				}
				if z.Transitions != nil {
					for k := range z.Transitions.List {
						z.Transitions.List[k].XMLName.Space = ""
					}
				}
			}
		}
	}
}

// checkSame fails when the walker accepts raw but encoding/xml rejects it or
// decodes it differently.
func checkSame(t *testing.T, name string, raw []byte) (walked bool) {
	t.Helper()
	got, err := viaWalker(raw)
	if err != nil {
		return false
	}
	want, werr := viaXML(raw)
	if werr != nil {
		t.Fatalf("%s: walker accepted what encoding/xml rejects (%v)", name, werr)
	}
	normalize(&got)
	normalize(&want)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s: walker: got %+v, want (encoding/xml) %+v", name, got, want)
	}
	return true
}

func TestFastGetItemMatchesXML(t *testing.T) {
	t.Parallel()
	files, _ := filepath.Glob("testdata/*/*getitem*.xml")
	if len(files) < 4 {
		t.Fatalf("got %d GetItem fixtures, want at least 4", len(files))
	}
	for _, p := range files {
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if !checkSame(t, p, raw) {
			t.Errorf("%s: walker fell back to encoding/xml, want it to handle Microsoft's sample", p)
		}
	}
}

func TestFastGetItemEdgeCases(t *testing.T) {
	t.Parallel()
	const head = `<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><m:GetItemResponse xmlns:m="m" xmlns:t="t"><m:ResponseMessages><m:GetItemResponseMessage ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode><m:Items><t:CalendarItem>`
	const tail = `</t:CalendarItem></m:Items></m:GetItemResponseMessage></m:ResponseMessages></m:GetItemResponse></s:Body></s:Envelope>`
	for _, tc := range []struct {
		name, item string
		walk       bool // the walker handles it (else encoding/xml decides)
	}{
		{"entities", `<t:Subject>a &amp; b &lt;c&gt; &quot;d&quot; &apos;e&apos; &#233;&#x263A;</t:Subject>`, true},
		{"crlf", "<t:Body BodyType=\"Text\">line1\r\nline2\rline3</t:Body>", true},
		{"cdata and comment", `<t:Subject>x<!-- c --><![CDATA[<y>&amp;]]>z</t:Subject>`, true},
		{"nested text ignored", `<t:Subject>a<t:X>b</t:X>c</t:Subject>`, true},
		{"repeated field", `<t:Subject>one</t:Subject><t:Subject>two</t:Subject>`, true},
		{"repeated pointer", `<t:Body BodyType="HTML">a</t:Body><t:Body>b</t:Body>`, true},
		{"self-closing", `<t:ItemId Id="i1" ChangeKey="c1"/><t:Subject/><t:IsAllDayEvent/>`, true},
		{"bool forms", `<t:IsAllDayEvent> 1 </t:IsAllDayEvent><t:IsMeeting>True</t:IsMeeting><t:ReminderIsSet>0</t:ReminderIsSet>`, true},
		{"bad bool", `<t:IsAllDayEvent>yes</t:IsAllDayEvent>`, false},
		{"bad int", `<t:AppointmentSequenceNumber>1.5</t:AppointmentSequenceNumber>`, false},
		{"unknown entity", `<t:Subject>&nbsp;</t:Subject>`, false},
		{"control char", "<t:Subject>a\x01b</t:Subject>", false},
		{"bad utf-8", "<t:Subject>a\xffb</t:Subject>", false},
		{"single quotes", `<t:ItemId Id='i1' ChangeKey = 'c1' />`, true},
		{"unknown elements", `<t:Foo><t:Subject>no</t:Subject></t:Foo><t:Subject>yes</t:Subject>`, true},
	} {
		raw := []byte(head + tc.item + tail)
		if got := checkSame(t, tc.name, raw); got != tc.walk {
			t.Errorf("%s: walker handled it: got %v, want %v", tc.name, got, tc.walk)
		}
		var r getItemResponse
		_, xerr := viaXML(raw)
		if err := unmarshalGetItem(raw, &r, nil); (err == nil) != (xerr == nil) {
			t.Errorf("%s: unmarshalGetItem: got error %v, want %v", tc.name, err, xerr)
		}
	}
}

func TestFastGetItemFallsBack(t *testing.T) {
	t.Parallel()
	fault := fixture(t, "examples/serverbusy-fault.xml")
	var r getItemResponse
	if err := unmarshalGetItem(fault, &r, nil); err != nil || r.Fault == nil || !strings.Contains(r.Fault.FaultCode, "ErrorServerBusy") {
		t.Errorf("fault: got %+v, %v, want the SOAP fault", r.Fault, err)
	}
	raw := fixture(t, "handwritten/getitem-master-response.xml")
	for _, n := range []int{len(raw) / 3, len(raw) / 2, len(raw) - 5} {
		var r getItemResponse
		if err := unmarshalGetItem(raw[:n], &r, nil); err == nil {
			t.Errorf("truncated at %d: got no error, want one", n)
		}
	}
}

// FuzzFastGetItem holds the walker to encoding/xml on arbitrary input.
func FuzzFastGetItem(f *testing.F) {
	files, _ := filepath.Glob("testdata/*/*.xml")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		checkSame(t, "fuzz", b)
	})
}

// convertAll converts every item of r (errors as strings, to compare).
func convertAll(r getItemResponse) []any {
	var out []any
	for _, m := range r.Messages {
		for i := range m.Items {
			ev, err := convertItem(&m.Items[i])
			if err != nil {
				out = append(out, err.Error())
				continue
			}
			out = append(out, ev)
		}
	}
	return out
}

func TestZoneCacheSameEvents(t *testing.T) {
	t.Parallel()
	files, _ := filepath.Glob("testdata/*/*getitem*.xml")
	var zones zoneCache
	for round := 0; round < 2; round++ {
		for _, p := range files {
			raw, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			want, err := viaXML(raw)
			if err != nil {
				t.Fatal(err)
			}
			var got getItemResponse
			if err := unmarshalGetItem(raw, &got, &zones); err != nil {
				t.Fatal(err)
			}
			g, w := convertAll(got), convertAll(want)
			if !reflect.DeepEqual(g, w) {
				t.Errorf("%s (round %d): got %+v, want %+v", p, round, g, w)
			}
			// Each event owns its zone: changing one leaves the cache alone.
			for _, e := range g {
				if ev, ok := e.(calendar.Event); ok && ev.TimeZone != nil {
					ev.TimeZone.ID = "changed"
					if ev.TimeZone.ToDaylight != nil {
						ev.TimeZone.ToDaylight.Month = 13
					}
				}
			}
		}
	}
	if len(zones.m) == 0 {
		t.Error("got an empty zone cache, want the fixtures' zones")
	}
}

func TestZoneCacheRepeatedElement(t *testing.T) {
	t.Parallel()
	const zone = `<t:StartTimeZone Id="India Standard Time"><t:Periods><t:Period Bias="-PT5H30M" Name="Standard" Id="Std"/></t:Periods><t:TransitionsGroups><t:TransitionsGroup Id="0"><t:Transition><t:To Kind="Period">Std</t:To></t:Transition></t:TransitionsGroup></t:TransitionsGroups><t:Transitions><t:Transition><t:To Kind="Group">0</t:To></t:Transition></t:Transitions></t:StartTimeZone>`
	const second = `<t:StartTimeZone Id="Other"><t:Periods><t:Period Bias="PT1H" Name="X" Id="X"/></t:Periods></t:StartTimeZone>`
	reply := func(items ...string) []byte {
		var b strings.Builder
		b.WriteString(`<s:Envelope xmlns:s="s"><s:Body><m:GetItemResponse xmlns:m="m" xmlns:t="t"><m:ResponseMessages>`)
		for _, it := range items {
			b.WriteString(`<m:GetItemResponseMessage ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode><m:Items><t:CalendarItem><t:Start>2026-01-01T00:00:00Z</t:Start>` + it + `</t:CalendarItem></m:Items></m:GetItemResponseMessage>`)
		}
		b.WriteString(`</m:ResponseMessages></m:GetItemResponse></s:Body></s:Envelope>`)
		return []byte(b.String())
	}
	var zones zoneCache
	for _, raw := range [][]byte{reply(zone), reply(zone+second, zone)} {
		want, err := viaXML(raw)
		if err != nil {
			t.Fatal(err)
		}
		var got getItemResponse
		if err := unmarshalGetItem(raw, &got, &zones); err != nil {
			t.Fatal(err)
		}
		if g, w := convertAll(got), convertAll(want); !reflect.DeepEqual(g, w) {
			t.Errorf("got %+v, want %+v", g, w)
		}
	}
}
