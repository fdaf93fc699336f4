package app

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/exocal/exocal/app/secrets"
	"github.com/exocal/exocal/internal/testenv"
)

// certBundle is a self-signed certificate and its key as one PEM bundle.
func certBundle(t *testing.T, notAfter time.Time) string {
	return testenv.SelfSigned(t, "exocal-glue-test", notAfter.Add(-48*time.Hour), notAfter).PEM()
}

type failingStore struct{ secrets.Store }

func (failingStore) Get(context.Context, string) (secrets.Registration, error) {
	return secrets.Registration{}, errors.New("secrets: the keyring is locked")
}

func TestClientCertificate(t *testing.T) {
	t.Parallel()
	expires := time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)
	bundle := certBundle(t, expires)
	_, want, err := secrets.ParseCertificate(bundle)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		reg        *secrets.Registration // nil: nothing stored
		store      secrets.Store         // nil: a Memory store holding reg
		wantStored bool
		wantErr    bool
	}{
		{"nothing stored", nil, nil, false, false},
		{"secret only", &secrets.Registration{TenantID: "t", ClientID: "c", ClientSecret: "s3cret"}, nil, false, false},
		{"certificate", &secrets.Registration{TenantID: "t", ClientID: "c", ClientCertificate: bundle}, nil, true, false},
		{"broken certificate", &secrets.Registration{TenantID: "t", ClientID: "c", ClientCertificate: "-----BEGIN CERTIFICATE-----\nbm9wZQ==\n-----END CERTIFICATE-----\n"}, nil, true, true},
		{"keyring locked", nil, failingStore{secrets.NewMemory()}, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			store := tt.store
			if store == nil {
				m := secrets.NewMemory()
				if tt.reg != nil {
					if err := m.Set(context.Background(), secrets.DefaultProfile, *tt.reg); err != nil {
						t.Fatal(err)
					}
				}
				store = m
			}
			dir := t.TempDir()
			a, err := New(Options{ConfigPath: filepath.Join(dir, "config.json"), Secrets: store, SocketPath: filepath.Join(dir, "s.sock")})
			if err != nil {
				t.Fatal(err)
			}
			info, stored, err := a.ClientCertificate()
			if stored != tt.wantStored || (err != nil) != tt.wantErr {
				t.Fatalf("got stored %v, err %v; want stored %v, error %v", stored, err, tt.wantStored, tt.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), "bm9wZQ") {
				t.Errorf("got error %q, want it not to quote the PEM", err)
			}
			if tt.wantStored && !tt.wantErr {
				if info != want || !strings.Contains(info.String(), "expires 2027-03-01") {
					t.Errorf("got %+v, want %+v", info, want)
				}
			}
		})
	}
}
