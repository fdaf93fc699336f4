package debughdr

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
)

func TestWriteRedacts(t *testing.T) {
	t.Parallel()
	h := http.Header{}
	h.Set("Authorization", "Bearer eyJ.secret.token")
	h.Add("Cookie", "exchangecookie=abc123; X-BackEndCookie=def456")
	h.Set("Set-Cookie", "X-BackEndCookie=ghi789; path=/EWS; secure")
	h.Set("X-BackEndOverrideCookie", "jkl012")
	h.Set("Content-Type", "text/xml; charset=utf-8")
	var b bytes.Buffer
	Write(&b, h)
	got := b.String()
	for _, leak := range []string{"eyJ.secret.token", "abc123", "def456", "ghi789", "jkl012"} {
		if strings.Contains(got, leak) {
			t.Errorf("got %q in\n%s", leak, got)
		}
	}
	for _, want := range []string{
		"Authorization: Bearer [REDACTED]\n",
		"Cookie: exchangecookie=[REDACTED]; X-BackEndCookie=[REDACTED]\n",
		"Set-Cookie: X-BackEndCookie=[REDACTED]; path=/EWS; secure\n",
		"X-Backendoverridecookie: [REDACTED]\n",
		"Content-Type: text/xml; charset=utf-8\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("want %q in\n%s", want, got)
		}
	}
	if i, j := strings.Index(got, "Authorization"), strings.Index(got, "Content-Type"); i > j {
		t.Errorf("headers not sorted by name:\n%s", got)
	}
}
