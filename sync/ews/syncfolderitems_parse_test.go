package ews

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// checkSameSync fails when the SyncFolderItems walker accepts raw but
// encoding/xml rejects it or decodes it differently.
func checkSameSync(t *testing.T, name string, raw []byte) (walked bool) {
	t.Helper()
	var got syncFolderItemsResponse
	s := &xscan{b: raw}
	if s.syncFolderItemsResponse(&got) != nil {
		return false
	}
	var want syncFolderItemsResponse
	if err := xml.Unmarshal(raw, &want); err != nil {
		t.Fatalf("%s: walker accepted what encoding/xml rejects (%v)", name, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s: walker: got %+v, want (encoding/xml) %+v", name, got, want)
	}
	return true
}

func TestFastSyncFolderItemsMatchesXML(t *testing.T) {
	t.Parallel()
	files, _ := filepath.Glob("testdata/msdocs/*syncfolderitems*.xml")
	if len(files) < 3 {
		t.Fatalf("got %d SyncFolderItems fixtures, want at least 3", len(files))
	}
	cases := map[string][]byte{"syncPageReply": []byte(syncPageReply)}
	for _, p := range files {
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		cases[p] = raw
	}
	const head = `<s:Envelope xmlns:s="s"><s:Body><m:SyncFolderItemsResponse xmlns:m="m" xmlns:t="t"><m:ResponseMessages><m:SyncFolderItemsResponseMessage ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode><m:SyncState>st</m:SyncState>`
	const tail = `</m:SyncFolderItemsResponseMessage></m:ResponseMessages></m:SyncFolderItemsResponse></s:Body></s:Envelope>`
	cases["mixed"] = []byte(head + `<m:Changes><t:Create><t:CalendarItem><t:ItemId Id="a" ChangeKey="k"/></t:CalendarItem><t:Message><t:ItemId Id="b"/></t:Message></t:Create>` +
		`<t:Delete><t:ItemId Id="c"/></t:Delete><t:ReadFlagChange><t:ItemId Id="d"/><t:IsRead>true</t:IsRead></t:ReadFlagChange>` +
		`<t:Update><t:CalendarItem><t:Subject>x</t:Subject></t:CalendarItem></t:Update><t:Other/><t:Delete/></m:Changes>` +
		`<m:Changes><t:Update><t:CalendarItem><t:ItemId Id="e"/><t:ItemId ChangeKey="k2"/></t:CalendarItem></t:Update></m:Changes>` + tail)
	cases["no IncludesLastItemInRange"] = []byte(head + tail)
	for name, raw := range cases {
		if !checkSameSync(t, name, raw) {
			t.Errorf("%s: walker fell back to encoding/xml, want it to handle it", name)
		}
	}
	// A fault and a truncated reply still parse (fault) or fail (truncated) through the fallback.
	var r syncFolderItemsResponse
	if err := unmarshalSyncFolderItems(fixture(t, "examples/serverbusy-fault.xml"), &r); err != nil || r.Fault == nil {
		t.Errorf("fault: got %+v, %v, want the SOAP fault", r.Fault, err)
	}
	raw := cases["mixed"]
	if err := unmarshalSyncFolderItems(raw[:len(raw)-20], &syncFolderItemsResponse{}); err == nil {
		t.Error("truncated: got no error, want one")
	}
}

// FuzzFastSyncFolderItems holds the walker to encoding/xml on arbitrary input.
func FuzzFastSyncFolderItems(f *testing.F) {
	files, _ := filepath.Glob("testdata/*/*.xml")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(syncPageReply))
	f.Fuzz(func(t *testing.T, b []byte) {
		checkSameSync(t, "fuzz", b)
	})
}
