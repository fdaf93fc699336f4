package settings

import (
	"context"
	"fmt"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/exocal/exocal/app/check"
	"github.com/exocal/exocal/app/config"
)

// Diagnoser checks values that are not saved yet; *app.App satisfies it.
// The settings window offers "Test connection" and "Find autodiscover
// server" only when its Store is also a Diagnoser.
type Diagnoser interface {
	// Check runs the setup chain on the form's values; secret "" means the
	// stored one. progress gets each step as it completes, from Check's
	// goroutine. The report never holds the secret or a token.
	Check(ctx context.Context, s config.Settings, tenantID, clientID, secret string, progress func(check.Step)) check.Report
	// FindAutodiscoverServer asks Autodiscover V2 for s.User's server.
	FindAutodiscoverServer(ctx context.Context, s config.Settings) (string, error)
}

// Words of the diagnosis buttons.
const (
	TestConnection   = "Test connection"
	CopyDetails      = "Copy details"
	FindAutodiscover = "Find autodiscover server"
	UseServer        = "Use this server"
	KeepServer       = "Keep mine"
)

// findTimeout bounds "Find autodiscover server".
const findTimeout = 60 * time.Second

// diagnosis is the form's "Test connection" checklist and "Find
// autodiscover server" button. Every method runs on the Fyne goroutine;
// the background work reports back through fyne.Do.
type diagnosis struct {
	f *Form
	d Diagnoser

	test, copy, find *widget.Button

	panel   *fyne.Container // heading, status, list; hidden until a test runs
	status  *widget.Label
	list    *fyne.Container
	rows    []stepRow
	report  *check.Report // the last finished report (for Copy details)
	run     int           // generation: results of an older run are dropped
	cancel  context.CancelFunc
	done    chan struct{} // closed when the current run's goroutine ended (tests wait on it)
	findRun int
	findEnd context.CancelFunc
	found   chan struct{}
	confirm dialog.Dialog // the open "use this server?" dialog
}

// stepRow is one line of the checklist.
type stepRow struct {
	step    check.Step
	icon    *widget.Icon
	finding *widget.Label
	fix     *widget.Label // nil when the step shows no fix
}

func newDiagnosis(f *Form, d Diagnoser) *diagnosis {
	g := &diagnosis{f: f, d: d}
	g.test = widget.NewButtonWithIcon(TestConnection, theme.MediaPlayIcon(), g.start)
	g.copy = widget.NewButtonWithIcon(CopyDetails, theme.ContentCopyIcon(), g.copyDetails)
	g.copy.Disable()
	g.find = widget.NewButtonWithIcon(FindAutodiscover, theme.SearchIcon(), g.findServer)
	g.status = widget.NewLabel("")
	g.status.Wrapping = fyne.TextWrapWord
	g.status.Hide()
	g.list = container.NewVBox()
	heading := widget.NewLabelWithStyle("Connection test (the values above, not saved yet)", fyne.TextAlignLeading, fyne.TextStyle{Italic: true})
	g.panel = container.NewVBox(widget.NewSeparator(), heading, g.list)
	g.panel.Hide()
	return g
}

// stateIcon is the checklist icon of a state, from the theme.
func stateIcon(s check.State) fyne.Resource {
	switch s {
	case check.StateOK:
		return theme.NewSuccessThemedResource(theme.ConfirmIcon())
	case check.StateWarning:
		return theme.NewWarningThemedResource(theme.WarningIcon())
	case check.StateFailed:
		return theme.NewErrorThemedResource(theme.ErrorIcon())
	}
	return theme.NewDisabledResource(theme.MediaSkipNextIcon())
}

// start runs the chain on the form's values off the Fyne goroutine.
func (g *diagnosis) start() {
	f := g.f
	f.clearErrors()
	s, tenant, client, secret, bad := f.values()
	if len(bad) > 0 {
		f.showErrors(bad, "Not tested")
		return
	}
	g.stop()
	g.run++
	run := g.run
	ctx, cancel := context.WithCancel(context.Background())
	g.cancel = cancel
	done := make(chan struct{})
	g.done = done
	g.report = nil
	g.rows = nil
	g.list.RemoveAll()
	g.copy.Disable()
	g.test.Disable()
	g.status.Importance = widget.MediumImportance
	g.status.SetText("Testing the values in this window (nothing is saved)…")
	g.status.Show()
	g.panel.Show()
	f.relayout()
	go func() {
		defer close(done)
		rep := g.d.Check(ctx, s, tenant, client, secret, func(st check.Step) {
			fyne.Do(func() {
				if g.run == run {
					g.add(st)
				}
			})
		})
		fyne.Do(func() {
			if g.run == run {
				g.finish(rep)
			}
		})
	}()
}

// add shows one finished step.
func (g *diagnosis) add(st check.Step) {
	row := newStepRow(st)
	g.rows = append(g.rows, row)
	g.list.Add(row.object())
	g.status.SetText(fmt.Sprintf("Testing… %d %s done.", len(g.rows), plural(len(g.rows), "step", "steps")))
	g.f.relayout()
	g.f.scroll.ScrollToBottom()
}

func newStepRow(st check.Step) stepRow {
	r := stepRow{step: st, icon: widget.NewIcon(stateIcon(st.State))}
	r.finding = widget.NewLabel(st.Finding)
	r.finding.Wrapping = fyne.TextWrapWord
	r.finding.Selectable = true
	if st.Fix != "" && (st.State == check.StateFailed || st.State == check.StateWarning) {
		r.fix = widget.NewLabelWithStyle(st.Fix, fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})
		r.fix.Wrapping = fyne.TextWrapWord
		r.fix.Selectable = true
	}
	return r
}

func (r stepRow) object() fyne.CanvasObject {
	title := widget.NewLabelWithStyle(r.step.Title, fyne.TextAlignLeading, fyne.TextStyle{Bold: true, Italic: true})
	title.Wrapping = fyne.TextWrapWord
	body := container.NewVBox(title, r.finding)
	if r.fix != nil {
		how := widget.NewLabel("How to fix:")
		how.Importance = widget.LowImportance
		body.Add(how)
		body.Add(r.fix)
	}
	return container.NewBorder(nil, nil, container.NewVBox(r.icon), nil, body)
}

// finish shows the verdict and offers the details.
func (g *diagnosis) finish(rep check.Report) {
	g.cancel = nil
	g.report = &rep
	if len(g.rows) != len(rep.Steps) { // a Diagnoser that reported no progress
		g.rows = nil
		g.list.RemoveAll()
		for _, st := range rep.Steps {
			row := newStepRow(st)
			g.rows = append(g.rows, row)
			g.list.Add(row.object())
		}
	}
	g.status.Importance = widget.SuccessImportance
	if !rep.OK() {
		g.status.Importance = widget.DangerImportance
	}
	g.status.SetText(rep.Summary() + " Nothing was saved: press OK to keep these values.")
	g.test.Enable()
	g.copy.Enable()
	g.f.relayout()
}

// stop abandons a running check or lookup (Cancel, OK, Load).
func (g *diagnosis) stop() {
	if g.cancel != nil {
		g.cancel()
		g.cancel = nil
		g.run++
		g.test.Enable()
	}
	if g.findEnd != nil {
		g.findEnd()
		g.findEnd = nil
		g.findRun++
		g.find.Enable()
	}
	if g.confirm != nil {
		g.confirm.Hide()
		g.confirm = nil
	}
}

// reset forgets the last test (Load).
func (g *diagnosis) reset() {
	g.stop()
	g.report = nil
	g.rows = nil
	g.list.RemoveAll()
	g.status.SetText("")
	g.status.Hide()
	g.copy.Disable()
	g.panel.Hide()
}

// copyDetails puts the redacted report on the clipboard.
func (g *diagnosis) copyDetails() {
	a := fyne.CurrentApp()
	if a == nil || g.report == nil {
		return
	}
	a.Clipboard().SetContent(g.report.Details())
	f := g.f
	f.note.SetText("Copied the test's details for a support ticket: the settings, every step and its technical detail; never the client secret or a token.")
	f.note.Show()
	f.relayout()
}

// findServer asks Autodiscover V2 for the User's autodiscover server.
func (g *diagnosis) findServer() {
	f := g.f
	l := f.errs["autodiscover_url"]
	l.SetText("")
	l.Hide()
	s, _, _, _, _ := f.values()
	if err := s.ValidateField("user"); err != nil || s.User == "" {
		msg := config.Labels["autodiscover_url"] + ": enter the User first; Autodiscover V2 looks up the server for that address."
		if es := config.AsErrors(err); len(es) > 0 && s.User != "" {
			msg = es[0].Error()
		}
		l.SetText(msg)
		l.Show()
		f.relayout()
		return
	}
	if g.findEnd != nil {
		return
	}
	g.findRun++
	run := g.findRun
	ctx, cancel := context.WithTimeout(context.Background(), findTimeout)
	g.findEnd = cancel
	found := make(chan struct{})
	g.found = found
	g.find.Disable()
	g.find.SetText("Finding…")
	go func() {
		defer close(found)
		url, err := g.d.FindAutodiscoverServer(ctx, s)
		cancel()
		fyne.Do(func() {
			if g.findRun == run {
				g.foundServer(s.User, url, err)
			}
		})
	}()
}

func (g *diagnosis) foundServer(user, url string, err error) {
	f := g.f
	g.findEnd = nil
	g.find.SetText(FindAutodiscover)
	g.find.Enable()
	l := f.errs["autodiscover_url"]
	switch {
	case err != nil:
		l.SetText(config.Labels["autodiscover_url"] + ": Autodiscover V2 found no server for " + user + ": " + sentence(err))
	case url == "":
		l.SetText(config.Labels["autodiscover_url"] + ": Autodiscover V2 named no server for " + user + "; leave the field empty to use " + config.DefaultAutodiscoverURL + ".")
	}
	if err != nil || url == "" {
		l.Show()
		f.relayout()
		return
	}
	if f.parent == nil { // no window to ask in: say what was found
		f.note.SetText("Autodiscover V2 names " + url + " for " + user + ".")
		f.note.Show()
		f.relayout()
		return
	}
	shown := widget.NewLabelWithStyle(url, fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})
	shown.Selectable = true
	content := container.NewVBox(
		widget.NewLabel("Autodiscover V2 names this autodiscover server for "+user+":"),
		shown,
		widget.NewLabel("Use it as the Autodiscover URL? It is saved when you press OK."),
	)
	d := dialog.NewCustomConfirm("Autodiscover server found", UseServer, KeepServer, content, func(use bool) {
		g.confirm = nil
		if use {
			f.autodiscoverURL.SetText(url)
		}
	}, f.parent)
	g.confirm = d
	d.Show()
}
