package app

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/exocal/exocal/app/config"
	"github.com/exocal/exocal/app/secrets"
)

// Core is exactly what the UI codes against.
type Core interface {
	Subscribe() (<-chan Status, func())
	Status() Status
	Settings() config.Settings
	Registration() (tenantID, clientID string, secretStored bool, err error)
	Save(s config.Settings, tenantID, clientID, secret string) error
	SyncNow()
	Pause()
	Resume()
	OnActivate(fn func())
	Run(ctx context.Context) error
}

var _ Core = (*App)(nil)

const (
	tenant = "3f2504e0-4f89-11d3-9a0c-0305e82c3301"
	client = "6e0a3c2b-5b4d-4c1e-8f7a-9d8c7b6a5f4e"
	secret = "Q8Q~very.secret_value-that-must-not-leak"
)

type fixture struct {
	app    *App
	store  *secrets.Memory
	path   string
	logBuf *syncBuffer
	eng    *fakeEngine
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type fakeEngine struct {
	mu              sync.Mutex
	reloads, syncs  int
	runCtxCancelled chan struct{}
}

func (e *fakeEngine) Run(ctx context.Context) error { <-ctx.Done(); return nil }
func (e *fakeEngine) SyncNow()                      { e.mu.Lock(); e.syncs++; e.mu.Unlock() }
func (e *fakeEngine) Reload()                       { e.mu.Lock(); e.reloads++; e.mu.Unlock() }
func (e *fakeEngine) counts() (int, int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.reloads, e.syncs
}

func newFixture(t *testing.T, store secrets.Store) *fixture {
	t.Helper()
	dir := t.TempDir()
	f := &fixture{path: filepath.Join(dir, "config", "exocal", "config.json"), logBuf: &syncBuffer{}, eng: &fakeEngine{}}
	if store == nil {
		f.store = secrets.NewMemory()
		store = f.store
	}
	logger := slog.New(slog.NewJSONHandler(f.logBuf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a, err := New(Options{ConfigPath: f.path, Secrets: store, Logger: logger, Engine: f.eng,
		SocketPath: filepath.Join(dir, "exocal.sock")})
	if err != nil {
		t.Fatal(err)
	}
	f.app = a
	return f
}

func validSettings(t *testing.T) config.Settings {
	s := config.Defaults()
	s.User = "alice@contoso.com"
	s.Mailboxes = []string{"alice@contoso.com", "room1@contoso.com"}
	s.ExportDir = filepath.Join(t.TempDir(), "ics")
	return s
}

func TestNotConfiguredThenIdle(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	st := f.app.Status()
	if st.State != StateNotConfigured || !strings.Contains(st.Err, "open Settings") {
		t.Fatalf("got %v %q, want not-configured saying to open Settings", st.State, st.Err)
	}
	if err := f.app.Save(validSettings(t), tenant, client, "  "+secret+"\n"); err != nil {
		t.Fatalf("Save: %v", err)
	}
	st = f.app.Status()
	if st.State != StateIdle || st.Err != "" {
		t.Errorf("got %v %q, want idle", st.State, st.Err)
	}
	if len(st.Mailboxes) != 2 || st.Mailboxes[1].Address != "room1@contoso.com" {
		t.Errorf("got mailboxes %+v, want the two configured", st.Mailboxes)
	}
	r, err := f.store.Get(context.Background(), secrets.DefaultProfile)
	if err != nil || r != (secrets.Registration{TenantID: tenant, ClientID: client, ClientSecret: secret}) {
		t.Errorf("got keyring %v, %v; want the registration with the trimmed secret", r, err)
	}
	if reloads, _ := f.eng.counts(); reloads != 1 {
		t.Errorf("got %d engine reloads, want 1", reloads)
	}
	// A second App reads what the first saved.
	b, err := New(Options{ConfigPath: f.path, Secrets: f.store})
	if err != nil {
		t.Fatal(err)
	}
	if got := b.Settings(); !config.Equal(got, f.app.Settings()) {
		t.Errorf("got %+v, want %+v", got, f.app.Settings())
	}
	tid, cid, stored, err := b.Registration()
	if tid != tenant || cid != client || !stored || err != nil {
		t.Errorf("got %q %q %v %v, want the registration with a stored secret", tid, cid, stored, err)
	}
}

func TestSaveKeepsStoredSecret(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	if err := f.app.Save(validSettings(t), tenant, client, secret); err != nil {
		t.Fatal(err)
	}
	s := f.app.Settings()
	s.MaxSubscriptionsPerConnection = 10
	if err := f.app.Save(s, tenant, client, ""); err != nil {
		t.Fatalf("Save with empty secret: %v", err)
	}
	r, _ := f.store.Get(context.Background(), secrets.DefaultProfile)
	if r.ClientSecret != secret {
		t.Errorf("got secret %q, want the stored one kept", r.ClientSecret)
	}
	if got := f.app.Settings().MaxSubscriptionsPerConnection; got != 10 {
		t.Errorf("got %d, want 10", got)
	}
}

func TestSaveRejectsAndSavesNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	s := validSettings(t)
	s.MaxSubscriptionsPerConnection = 500
	s.User = "alice"
	err := f.app.Save(s, "common", "not-a-guid", "")
	es := config.AsErrors(err)
	var keys []string
	for _, e := range es {
		keys = append(keys, e.Key)
	}
	want := []string{"user", "max_subscriptions_per_connection", "tenant_id", "client_id", "client_secret"}
	if !reflect.DeepEqual(keys, want) {
		t.Fatalf("got %v (%v), want field errors %v", keys, err, want)
	}
	if _, err := os.Stat(f.path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("got %v, want no config file written", err)
	}
	if _, err := f.store.Get(context.Background(), secrets.DefaultProfile); !errors.Is(err, secrets.ErrNotFound) {
		t.Errorf("got %v, want nothing in the keyring", err)
	}
	if st := f.app.Status(); st.State != StateNotConfigured {
		t.Errorf("got %v, want still not configured", st.State)
	}
	// One bad registration field alone also saves nothing.
	if err := f.app.Save(validSettings(t), tenant, client+"x", secret); err == nil {
		t.Fatal("got nil, want a client_id error")
	}
	if _, err := os.Stat(f.path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("got %v, want no config file written", err)
	}
}

func TestSaveDisabledWithoutRegistration(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	s := validSettings(t)
	s.SyncType, s.User, s.Mailboxes = config.SyncDisabled, "", nil
	if err := f.app.Save(s, "", "", ""); err != nil {
		t.Fatalf("got %v, want disabled sync saved without a registration", err)
	}
	if st := f.app.Status(); st.State != StateNotConfigured || !strings.Contains(st.Err, "disabled") {
		t.Errorf("got %v %q, want not configured because disabled", st.State, st.Err)
	}
}

// TestSecretNeverInFileOrLogs is the proof: after saving a
// registration through App.Save, neither config.json nor the log holds the
// secret.
func TestSecretNeverInFileOrLogs(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	if err := f.app.Save(validSettings(t), tenant, client, secret); err != nil {
		t.Fatal(err)
	}
	s := f.app.Settings()
	s.EWSDebug = true
	if err := f.app.Save(s, tenant, client, secret+"2"); err != nil {
		t.Fatal(err)
	}
	f.app.Pause()
	f.app.Resume()
	b, err := os.ReadFile(f.path)
	if err != nil {
		t.Fatal(err)
	}
	if f.logBuf.String() == "" {
		t.Fatal("got an empty log, want the app to have logged (else this test proves nothing)")
	}
	for name, text := range map[string]string{"config.json": string(b), "log": f.logBuf.String()} {
		if strings.Contains(text, "very.secret") {
			t.Errorf("%s contains the secret:\n%s", name, text)
		}
	}
	if !strings.Contains(string(b), "alice@contoso.com") {
		t.Errorf("got config.json\n%s\nwant the settings in it", b)
	}
	for _, k := range []string{"tenant_id", "client_id", "client_secret", tenant, client} {
		if strings.Contains(string(b), k) {
			t.Errorf("config.json contains %q; registration belongs in the keyring", k)
		}
	}
}

func TestEnvOverrideNeverPersisted(t *testing.T) {
	t.Parallel()
	base := secrets.NewMemory()
	env := map[string]string{secrets.EnvTenantID: tenant, secrets.EnvClientID: client, secrets.EnvClientSecret: secret}
	f := newFixture(t, secrets.Env{Base: base, Getenv: func(k string) string { return env[k] }})
	tid, cid, stored, err := f.app.Registration()
	if tid != tenant || cid != client || !stored || err != nil {
		t.Fatalf("got %q %q %v %v, want the environment's registration", tid, cid, stored, err)
	}
	if err := f.app.Save(validSettings(t), tenant, client, ""); err != nil {
		t.Fatal(err)
	}
	if st := f.app.Status(); st.State != StateIdle {
		t.Errorf("got %v %q, want idle", st.State, st.Err)
	}
	if r, err := base.Get(context.Background(), secrets.DefaultProfile); err == nil && r.ClientSecret != "" {
		t.Errorf("got keyring secret %q, want the environment's secret never written", r.ClientSecret)
	}
	b, _ := os.ReadFile(f.path)
	if strings.Contains(string(b), secret) {
		t.Error("config.json holds the environment's secret")
	}
}

type brokenStore struct{}

func (brokenStore) Get(context.Context, string) (secrets.Registration, error) {
	return secrets.Registration{}, &secrets.KeyringError{Reason: secrets.ReasonNoService, Err: errors.New("ServiceUnknown")}
}
func (brokenStore) Set(context.Context, string, secrets.Registration) error {
	return &secrets.KeyringError{Reason: secrets.ReasonNoService, Err: errors.New("ServiceUnknown")}
}
func (brokenStore) Delete(context.Context, string) error { return nil }

func TestKeyringUnavailableIsAnErrorState(t *testing.T) {
	t.Parallel()
	f := newFixture(t, brokenStore{})
	st := f.app.Status()
	if st.State != StateError || !strings.HasPrefix(st.Err, "No Secret Service") || !strings.Contains(st.Err, "EXOCAL_CLIENT_SECRET") {
		t.Errorf("got %v %q, want error state with the keyring's sentence", st.State, st.Err)
	}
	err := f.app.Save(validSettings(t), tenant, client, secret)
	if !errors.Is(err, secrets.ErrNoSecretService) {
		t.Errorf("got %v, want the keyring error", err)
	}
	if _, err := os.Stat(f.path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("got %v, want no config file when the keyring write failed", err)
	}
}

func TestPauseResumeSyncNow(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.app.Save(validSettings(t), tenant, client, secret)
	ch, cancel := f.app.Subscribe()
	defer cancel()
	if st := <-ch; st.State != StateIdle {
		t.Fatalf("got %v, want idle first", st.State)
	}
	f.app.Pause()
	if st := <-ch; st.State != StatePaused {
		t.Errorf("got %v, want paused", st.State)
	}
	f.app.SyncNow()
	if _, syncs := f.eng.counts(); syncs != 0 {
		t.Errorf("got %d syncs while paused, want 0", syncs)
	}
	f.app.Resume()
	if st := <-ch; st.State != StateIdle {
		t.Errorf("got %v, want idle after resume", st.State)
	}
	f.app.SyncNow()
	if _, syncs := f.eng.counts(); syncs != 1 {
		t.Errorf("got %d syncs, want 1", syncs)
	}
}

func TestSubscribeCoalesces(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.app.Save(validSettings(t), tenant, client, secret)
	ch, cancel := f.app.Subscribe()
	for i := 1; i <= 50; i++ {
		f.app.Publish(Status{State: StateSyncing, Done: i, Total: 50})
	}
	st := <-ch
	if st.State != StateSyncing || st.Done != 50 {
		t.Errorf("got %v %d/%d, want only the latest snapshot (syncing 50/50)", st.State, st.Done, st.Total)
	}
	select {
	case st := <-ch:
		t.Errorf("got a second snapshot %+v, want only one buffered", st)
	default:
	}
	cancel()
	cancel() // idempotent
	if _, ok := <-ch; ok {
		t.Error("got an open channel after unsubscribe, want closed")
	}
	f.app.Publish(Status{State: StateIdle}) // must not panic or block
}

func TestPublishConcurrent(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.app.Save(validSettings(t), tenant, client, secret)
	var wg sync.WaitGroup
	var cancels []func()
	for r := 0; r < 4; r++ {
		ch, cancel := f.app.Subscribe()
		cancels = append(cancels, cancel)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range ch {
			}
		}()
	}
	defer func() {
		for _, c := range cancels {
			c()
		}
		wg.Wait()
	}()
	var pw sync.WaitGroup
	for p := 0; p < 4; p++ {
		pw.Add(1)
		go func() {
			defer pw.Done()
			for i := 0; i < 200; i++ {
				f.app.Publish(Status{State: StateSyncing, Done: i})
				if i%50 == 0 {
					f.app.Pause()
					f.app.Resume()
				}
			}
		}()
	}
	pw.Wait()
}

func TestRunActivateAndSecondInstance(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	activated := make(chan struct{}, 1)
	f.app.OnActivate(func() { activated <- struct{}{} })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.app.Run(ctx) }()

	sock := f.app.opts.SocketPath
	var pid int
	var err error
	for i := 0; i < 200; i++ { // wait until Run listens
		if pid, err = Activate(context.Background(), sock); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err != nil || pid != os.Getpid() {
		t.Fatalf("Activate: got pid %d, %v; want %d", pid, err, os.Getpid())
	}
	select {
	case <-activated:
	case <-time.After(10 * time.Second):
		t.Fatal("OnActivate callback not called")
	}

	// A second App on the same socket does not start.
	b, _ := New(Options{ConfigPath: f.path, Secrets: secrets.NewMemory(), SocketPath: sock})
	err = b.Run(context.Background())
	var ar *AlreadyRunningError
	if !errors.As(err, &ar) || ar.PID != os.Getpid() || ar.Socket != sock || !errors.Is(err, ErrAlreadyRunning) {
		t.Fatalf("got %v, want AlreadyRunningError with pid and socket", err)
	}
	if !strings.Contains(err.Error(), "already running (pid ") {
		t.Errorf("got %q", err)
	}

	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: got %v, want nil when ctx ends", err)
	}
	if _, err := os.Stat(sock); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("got %v, want the socket removed after Run", err)
	}
}

func TestReloadRequestPicksUpChanges(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- f.app.Run(ctx) }()
	ch, unsub := f.app.Subscribe()
	defer unsub()
	if st := <-ch; st.State != StateNotConfigured {
		t.Fatalf("got %v, want not configured", st.State)
	}

	// What `exocal config set` and `exocal secret set` do from another process.
	s := validSettings(t)
	if err := config.Save(f.path, s); err != nil {
		t.Fatal(err)
	}
	f.store.Set(context.Background(), secrets.DefaultProfile, secrets.Registration{TenantID: tenant, ClientID: client, ClientSecret: secret})
	var err error
	for i := 0; i < 200; i++ {
		if _, err = NotifyReload(context.Background(), f.app.opts.SocketPath); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("NotifyReload: %v", err)
	}
	select {
	case st := <-ch:
		if st.State != StateIdle {
			t.Errorf("got %v %q, want idle after reload", st.State, st.Err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no status after reload")
	}
	if got := f.app.Settings().User; got != "alice@contoso.com" {
		t.Errorf("got user %q, want the reloaded one", got)
	}
	// Reload publishes the new status before it tells the engine, so wait
	// for the engine's count rather than reading it once.
	reloads := 0
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if reloads, _ = f.eng.counts(); reloads >= 1 {
			break
		}
	}
	if reloads != 1 {
		t.Errorf("got %d engine reloads, want 1", reloads)
	}
	cancel()
	<-done
}

// unlockLater fails like a locked keyring until unlocked.
type unlockLater struct {
	*secrets.Memory
	mu       sync.Mutex
	unlocked bool
}

func (u *unlockLater) Get(ctx context.Context, p string) (secrets.Registration, error) {
	u.mu.Lock()
	ok := u.unlocked
	u.mu.Unlock()
	if !ok {
		return secrets.Registration{}, &secrets.KeyringError{Reason: secrets.ReasonLocked, Err: errors.New("failed to unlock correct collection")}
	}
	return u.Memory.Get(ctx, p)
}

func TestKeyringUnlockedLaterIsNoticed(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "config.json")
	if err := config.Save(path, validSettings(t)); err != nil {
		t.Fatal(err)
	}
	store := &unlockLater{Memory: secrets.NewMemory()}
	store.Memory.Set(context.Background(), secrets.DefaultProfile, secrets.Registration{TenantID: tenant, ClientID: client, ClientSecret: secret})
	a, err := New(Options{ConfigPath: path, Secrets: store, SocketPath: filepath.Join(dir, "s.sock"), KeyringRetry: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ch, unsub := a.Subscribe()
	defer unsub()
	if st := <-ch; st.State != StateError || !strings.Contains(st.Err, "locked") {
		t.Fatalf("got %v %q, want the locked-keyring error", st.State, st.Err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go a.Run(ctx)
	store.mu.Lock()
	store.unlocked = true
	store.mu.Unlock()
	select {
	case st := <-ch:
		if st.State != StateIdle {
			t.Errorf("got %v %q, want idle once the keyring is unlocked", st.State, st.Err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("unlocking the keyring was not noticed")
	}
}

// A certificate is set with `exocal secret set --certificate`, never in the
// settings window: saving the window must keep it, and a registration with
// only a certificate counts as set up.
func TestSaveKeepsStoredCertificate(t *testing.T) {
	t.Parallel()
	const pem = "-----BEGIN CERTIFICATE-----\nnot parsed here\n-----END CERTIFICATE-----\n"
	store := secrets.NewMemory()
	if err := store.Set(context.Background(), secrets.DefaultProfile, secrets.Registration{TenantID: tenant, ClientID: client, ClientCertificate: pem}); err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, store)
	f.store = store
	if _, _, stored, err := f.app.Registration(); err != nil || !stored {
		t.Fatalf("Registration: got stored=%v err=%v, want a stored credential (the certificate)", stored, err)
	}
	if err := f.app.Save(validSettings(t), tenant, client, ""); err != nil {
		t.Fatalf("Save: %v", err)
	}
	r, err := f.store.Get(context.Background(), secrets.DefaultProfile)
	if err != nil {
		t.Fatal(err)
	}
	if r.ClientCertificate != pem {
		t.Errorf("got certificate %q after Save, want the stored one kept", r.ClientCertificate)
	}
	if strings.Contains(f.logBuf.String(), "not parsed here") {
		t.Error("the certificate reached the log")
	}
}

// The settings window shows the IDs EXOCAL_* variables supply; OK with
// them unchanged writes none of them to the keyring, which keeps its own.
func TestSaveNeverWritesEnvironmentValues(t *testing.T) {
	t.Parallel()
	const envTenant, envClient = "9a8b7c6d-0000-4000-8000-00000000000e", "9a8b7c6d-0000-4000-8000-00000000000c"
	base := secrets.NewMemory()
	ctx := context.Background()
	if err := base.Set(ctx, secrets.DefaultProfile, secrets.Registration{TenantID: tenant, ClientID: client, ClientSecret: secret}); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{secrets.EnvTenantID: envTenant, secrets.EnvClientID: envClient, secrets.EnvClientSecret: "Env~secret-value-000000000000000000"}
	dir := t.TempDir()
	a, err := New(Options{ConfigPath: filepath.Join(dir, "config.json"), SocketPath: filepath.Join(dir, "s.sock"),
		Secrets: secrets.Env{Base: base, Getenv: func(k string) string { return env[k] }}})
	if err != nil {
		t.Fatal(err)
	}
	shownTenant, shownClient, _, _ := a.Registration()
	if shownTenant != envTenant || shownClient != envClient {
		t.Fatalf("the form would show %q, %q; want the variables' values", shownTenant, shownClient)
	}
	if err := a.Save(validSettings(t), shownTenant, shownClient, ""); err != nil {
		t.Fatalf("Save: %v", err)
	}
	r, _ := base.Get(ctx, secrets.DefaultProfile)
	if r.TenantID != tenant || r.ClientID != client || r.ClientSecret != secret {
		t.Errorf("keyring after OK: got tenant %q, client %q, secret changed %v; want its own values kept", r.TenantID, r.ClientID, r.ClientSecret != secret)
	}
	// A value typed over the variable's is the user's: it is stored.
	if err := a.Save(validSettings(t), "contoso.onmicrosoft.com", shownClient, ""); err != nil {
		t.Fatalf("Save: %v", err)
	}
	if r, _ := base.Get(ctx, secrets.DefaultProfile); r.TenantID != "contoso.onmicrosoft.com" || r.ClientID != client {
		t.Errorf("keyring after a typed tenant: got %q, %q; want the typed tenant and the keyring's own client", r.TenantID, r.ClientID)
	}
}
