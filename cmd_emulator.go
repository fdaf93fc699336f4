package main

import (
	"context"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // thumbprints only
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/exocal/exocal/sync/emulator"
	"github.com/exocal/exocal/sync/emulator/tenant"
)

func init() {
	register(command{name: "emulator", summary: "run the emulated Exchange Online tenant standalone (prints its URL and credentials)", run: runEmulator})
}

// emulatorInfo is the first line `exocal emulator` prints.
type emulatorInfo struct {
	URL            string   `json:"url"`
	TenantID       string   `json:"tenant_id"`
	ClientID       string   `json:"client_id"`
	ClientSecret   string   `json:"client_secret"`
	Mailboxes      []string `json:"mailboxes"`
	TokenURL       string   `json:"token_url"`
	EWSURL         string   `json:"ews_url"`
	InternalEWSURL string   `json:"internal_ews_url"`
	// CertificateThumbprint is the SHA-1 thumbprint (upper-case hex, as
	// Entra lists it) of the certificate given with --certificate.
	CertificateThumbprint string `json:"certificate_thumbprint,omitempty"`
}

func runEmulator(args []string) int {
	fs := flag.NewFlagSet("exocal emulator", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:0", "loopback address to listen on")
	nMailboxes := fs.Int("mailboxes", 4, "mailboxes in the tenant")
	nEvents := fs.Int("events", 30, "calendar items per mailbox")
	seed := fs.Int64("seed", 1, "seed for the generated tenant, ids and credentials")
	var modeNames []string
	for _, m := range emulator.Modes {
		modeNames = append(modeNames, string(m))
	}
	mode := fs.String("mode", "normal", "tenant state: normal or a comma-separated list of "+strings.Join(modeNames, ", "))
	unlicensed := fs.String("unlicensed", "", "mailboxes without an EWS licence (EWS answers 403): comma-separated addresses or 1-based numbers")
	outOfScope := fs.String("out-of-scope", "", "mailboxes outside the app's access policy / RBAC scope (ErrorAccessDenied): addresses or 1-based numbers")
	dateSkew := fs.Duration("date-skew", 0, "how far the token endpoint's Date is off in mode skewed-date (default 10m ahead)")
	latency := fs.Duration("latency", 0, "latency added to every request, e.g. 25ms")
	tokenLife := fs.Duration("token-lifetime", 0, "access token lifetime (default 3599s, as Entra)")
	heartbeat := fs.Duration("heartbeat", 0, "GetStreamingEvents heartbeat interval (default 45s)")
	streamMinute := fs.Duration("stream-minute", 0, "length of one ConnectionTimeout minute (test knob; default 1m)")
	certFile := fs.String("certificate", "", "PEM file with the app's public certificate (no key): client_assertion logins signed with its key are accepted")
	if code, done := parseFlags(fs, args); done {
		return code
	}
	if err := emulator.CheckLoopback(*addr); err != nil {
		fmt.Fprintf(os.Stderr, "exocal emulator: %s. Use --addr 127.0.0.1:PORT.\n", cliSentence(err))
		return exitSetup
	}
	var modes []emulator.Mode
	for _, m := range strings.Split(*mode, ",") {
		m = strings.TrimSpace(m)
		if m == "" || m == "normal" {
			continue
		}
		known := false
		for _, k := range emulator.Modes {
			known = known || string(k) == m
		}
		if !known {
			fmt.Fprintf(os.Stderr, "exocal emulator: unknown mode %q. Use normal or one of: %s.\n", m, strings.Join(modeNames, ", "))
			return exitSetup
		}
		modes = append(modes, emulator.Mode(m))
	}
	if *nMailboxes < 1 || *nEvents < 0 {
		fmt.Fprintln(os.Stderr, "exocal emulator: --mailboxes must be at least 1 and --events not negative.")
		return exitSetup
	}
	var cert *x509.Certificate
	if *certFile != "" {
		c, err := readPublicCertificate(*certFile)
		if err != nil {
			fmt.Fprintf(os.Stderr, "exocal emulator: %s. Give --certificate a PEM file holding only the public certificate (BEGIN CERTIFICATE), e.g. from `openssl x509 -in bundle.pem -out cert.pem`.\n", cliSentence(err))
			return exitSetup
		}
		cert = c
	}
	t := tenant.Generate(tenant.Config{Seed: *seed, Mailboxes: *nMailboxes, Events: *nEvents, Now: time.Now()})
	unlicensedMbs, err1 := pickMailboxes(*unlicensed, t.Mailboxes())
	outOfScopeMbs, err2 := pickMailboxes(*outOfScope, t.Mailboxes())
	if err := errors.Join(err1, err2); err != nil {
		fmt.Fprintf(os.Stderr, "exocal emulator: %s. Use addresses of the tenant or numbers from 1 to %d.\n", cliSentence(err), len(t.Mailboxes()))
		return exitSetup
	}
	info := emulatorInfo{
		TenantID:     seededGUID(*seed, "tenant"),
		ClientID:     seededGUID(*seed, "client"),
		ClientSecret: "emu~" + seededGUID(*seed, "secret"),
		Mailboxes:    t.Mailboxes(),
	}
	if cert != nil {
		sum := sha1.Sum(cert.Raw) //nolint:gosec // the thumbprint Entra shows is SHA-1; it identifies, it does not protect
		info.CertificateThumbprint = strings.ToUpper(hex.EncodeToString(sum[:]))
	}
	srv := emulator.New(emulator.Options{
		Tenant: t, TenantID: info.TenantID, ClientID: info.ClientID, ClientSecret: info.ClientSecret,
		Modes: modes, UnlicensedMailboxes: unlicensedMbs, OutOfScopeMailboxes: outOfScopeMbs, DateSkew: *dateSkew,
		Latency: *latency, Seed: *seed, TokenLifetime: *tokenLife,
		Heartbeat: *heartbeat, StreamMinute: *streamMinute, Certificate: cert,
		Logger: newServiceLogger(false).With("component", "emulator"),
	})
	if err := srv.Start(*addr); err != nil {
		fmt.Fprintf(os.Stderr, "exocal emulator: %s. Choose another --addr.\n", cliSentence(err))
		return exitSetup
	}
	defer srv.Close()
	// Catch the signals before telling anyone we are up: a caller that reads
	// the first line and at once sends SIGTERM must get a clean exit.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	info.URL, info.TokenURL, info.EWSURL, info.InternalEWSURL = srv.URL(), srv.TokenURL(), srv.EWSURL(), srv.InternalURL()
	line, _ := json.Marshal(info)
	fmt.Println(string(line))
	os.Stdout.Sync()
	<-ctx.Done()
	return exitOK
}

// readPublicCertificate reads the app's public certificate for the
// emulator from a PEM file. A file holding a private key is refused: the
// emulator only verifies signatures, and a key has no business there.
func readPublicCertificate(path string) (*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read the certificate: %w", err)
	}
	var cert *x509.Certificate
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		switch {
		case strings.Contains(b.Type, "PRIVATE KEY"):
			return nil, fmt.Errorf("%s holds a private key; the emulator needs only the public certificate", path)
		case b.Type == "CERTIFICATE" && cert == nil:
			c, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				return nil, fmt.Errorf("%s: the certificate cannot be parsed: %w", path, err)
			}
			cert = c
		}
	}
	if cert == nil {
		return nil, fmt.Errorf("%s holds no PEM certificate", path)
	}
	if _, ok := cert.PublicKey.(*rsa.PublicKey); !ok {
		return nil, fmt.Errorf("%s: the certificate's key is not RSA (Entra client assertions are RS256)", path)
	}
	return cert, nil
}

// pickMailboxes resolves a comma-separated list of mailbox addresses or
// 1-based numbers against the tenant's mailboxes.
func pickMailboxes(list string, mailboxes []string) ([]string, error) {
	var out []string
	for _, v := range strings.Split(list, ",") {
		v = strings.TrimSpace(v)
		if v == "" {
			continue
		}
		if n, err := strconv.Atoi(v); err == nil {
			if n < 1 || n > len(mailboxes) {
				return nil, fmt.Errorf("mailbox number %d is out of range", n)
			}
			out = append(out, mailboxes[n-1])
			continue
		}
		i := slices.IndexFunc(mailboxes, func(m string) bool { return strings.EqualFold(m, v) })
		if i < 0 {
			return nil, fmt.Errorf("%q is not a mailbox of the tenant", v)
		}
		out = append(out, mailboxes[i])
	}
	return out, nil
}

// seededGUID derives a stable GUID from the seed, so the same --seed gives
// the same made-up registration.
func seededGUID(seed int64, label string) string {
	sum := sha256.Sum256([]byte(fmt.Sprintf("exocal-emulator:%d:%s", seed, label)))
	b := sum[:16]
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
