package check

import (
	"context"
	"strings"
	"testing"

	"github.com/exocal/exocal/app/secrets"
)

// multiEnv is a getenv with the given variables set.
func multiEnv(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

// TestRegistrationStepTitle: the registration step is titled by where its
// values come from (the keyring, EXOCAL_* variables, the caller), and its
// ID stays "registration" whatever the title (--json users key on it).
func TestRegistrationStepTitle(t *testing.T) {
	t.Parallel()
	const secret = "Good~secret-value-0000000000000000000000"
	keyring := func(t *testing.T) secrets.Store {
		m := secrets.NewMemory()
		if err := m.Set(context.Background(), secrets.DefaultProfile,
			secrets.Registration{TenantID: emuTenantID, ClientID: emuClientID, ClientSecret: secret}); err != nil {
			t.Fatal(err)
		}
		return m
	}
	allEnv := multiEnv(secrets.EnvTenantID, emuTenantID, secrets.EnvClientID, emuClientID, secrets.EnvClientSecret, secret)
	tests := []struct {
		name       string
		in         func(t *testing.T) Input
		title      string
		findingHas string
	}{
		{"keyring", func(t *testing.T) Input { return Input{Store: keyring(t)} },
			"App registration in the keyring", "(from the OS keyring)"},
		{"keyring under an unused overlay", func(t *testing.T) Input {
			return Input{Store: secrets.Env{Base: keyring(t), Getenv: multiEnv("OTHER", "x")}}
		}, "App registration in the keyring", "(from the OS keyring)"},
		{"all from EXOCAL_*", func(t *testing.T) Input {
			return Input{Store: secrets.Env{Base: secrets.NewMemory(), Getenv: allEnv}}
		}, "App registration from EXOCAL_* variables", "from EXOCAL_TENANT_ID, EXOCAL_CLIENT_ID, EXOCAL_CLIENT_SECRET"},
		{"client ID from EXOCAL_CLIENT_ID", func(t *testing.T) Input {
			return Input{Store: secrets.Env{Base: keyring(t), Getenv: multiEnv(secrets.EnvClientID, emuClientID)}}
		}, "App registration in the keyring and EXOCAL_* variables", "from the OS keyring and EXOCAL_CLIENT_ID"},
		{"as given", func(t *testing.T) Input {
			return Input{Registration: secrets.Registration{TenantID: emuTenantID, ClientID: emuClientID, ClientSecret: secret}}
		}, "App registration", "(as given)"},
		{"as given under EXOCAL_*", func(t *testing.T) Input {
			env := secrets.Env{Getenv: allEnv}
			return Input{Registration: secrets.Registration{TenantID: emuTenantID, ClientID: emuClientID, ClientSecret: secret}, Env: &env}
		}, "App registration from EXOCAL_* variables", "EXOCAL_* variables override"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := tt.in(t)
			in.Getenv = func(string) string { return "" }
			in.defaults()
			r := newRunner(context.Background(), in, nil)
			r.step(StepRegistration, registrationTitle, true, r.checkRegistration)
			st, ok := r.rep.Step(StepRegistration)
			if !ok || st.Title != tt.title || st.State != StateOK || !strings.Contains(st.Finding, tt.findingHas) {
				t.Errorf("got step %v %q %s %q, want %q OK with %q", ok, st.Title, st.State, st.Finding, tt.title, tt.findingHas)
			}
		})
	}
	// A failure's skips name the title the step had.
	in := Input{Store: secrets.Env{Base: secrets.NewMemory(), Getenv: multiEnv(secrets.EnvTenantID, "common", secrets.EnvClientID, emuClientID, secrets.EnvClientSecret, secret)},
		Getenv: func(string) string { return "" }}
	in.defaults()
	r := newRunner(context.Background(), in, nil)
	r.step(StepRegistration, registrationTitle, true, r.checkRegistration)
	r.step(StepToken, "Token from Microsoft Entra ID", true, r.checkToken)
	if st, _ := r.rep.Step(StepToken); st.State != StateSkipped || !strings.Contains(st.Finding, `"App registration from EXOCAL_* variables"`) {
		t.Errorf("got token step %s %q, want it skipped naming the registration step's title", st.State, st.Finding)
	}
}
