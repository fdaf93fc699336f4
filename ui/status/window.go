package status

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/exocal/exocal/ui/tray"
)

// Title is the window's title (what `import -window` and tests look for).
const Title = "ExoCal"

// Actions are what the buttons run, on the Fyne goroutine; the same as
// the tray's (tray.Actions).
type Actions = tray.Actions

// Window is the status window. Its methods run on the Fyne goroutine.
type Window struct {
	w   fyne.Window
	act Actions
	m   Model

	icon     *widget.Icon
	headline *widget.Label
	detail   *widget.Label
	stream   *widget.Label
	rows     *fyne.Container
	rowList  []*row
	empty    *widget.Label
	folder   *widget.Label
	shown    bool
	onClose  func()

	SyncNow, Pause, OpenFolder, Settings, Quit *widget.Button
}

// New builds the (hidden) window. onClose runs when the user closes it
// (nil: the window just hides).
func New(a fyne.App, act Actions, onClose func()) *Window {
	s := &Window{w: a.NewWindow(Title), act: act}
	s.icon = widget.NewIcon(tray.Icon(0))
	s.headline = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	s.headline.Wrapping = fyne.TextWrapWord
	s.detail = widget.NewLabel("")
	s.detail.Wrapping = fyne.TextWrapWord
	s.detail.Importance = widget.WarningImportance
	s.detail.Hide()
	s.stream = widget.NewLabel("")
	s.stream.Wrapping = fyne.TextWrapWord
	s.stream.Hide()
	s.folder = widget.NewLabel("")
	s.folder.Truncation = fyne.TextTruncateEllipsis
	s.folder.TextStyle.Italic = true
	s.empty = widget.NewLabel("No mailboxes yet.")
	s.rows = container.NewVBox()

	call := func(f func()) func() {
		return func() {
			if f != nil {
				f()
			}
		}
	}
	s.SyncNow = widget.NewButtonWithIcon(tray.LabelSyncNow, theme.ViewRefreshIcon(), call(act.SyncNow))
	s.Pause = widget.NewButtonWithIcon(tray.LabelPause, theme.MediaPauseIcon(), s.togglePause)
	s.OpenFolder = widget.NewButtonWithIcon(tray.LabelOpenFolder, theme.FolderOpenIcon(), func() {
		if act.OpenFolder != nil && s.m.ExportDir != "" {
			act.OpenFolder(s.m.ExportDir)
		}
	})
	s.Settings = widget.NewButtonWithIcon(tray.LabelSettings, theme.SettingsIcon(), call(act.Settings))
	s.Quit = widget.NewButton(tray.LabelQuit, call(act.Quit))

	icon := container.NewVBox(container.NewGridWrap(fyne.NewSize(40, 40), s.icon)) // pinned to the top
	head := container.NewBorder(nil, nil, icon, nil, container.NewVBox(s.headline, s.detail, s.stream, s.folder))
	buttons := container.NewHBox(s.SyncNow, s.Pause, s.OpenFolder)
	buttons2 := container.NewHBox(s.Settings, s.Quit)
	bottom := container.NewVBox(widget.NewSeparator(), container.NewBorder(nil, nil, buttons, buttons2))
	list := container.NewVScroll(container.NewVBox(s.empty, s.rows))
	s.w.SetContent(container.NewBorder(container.NewVBox(head, widget.NewSeparator()), bottom, nil, nil, list))
	s.w.Resize(fyne.NewSize(680, 420)) // room for a fix and a few mailbox rows
	s.onClose = onClose
	s.w.SetCloseIntercept(s.closeIntercept)
	s.Update(Model{Headline: tray.LabelNotSetUp})
	return s
}

// closeIntercept runs when the user closes the window.
func (s *Window) closeIntercept() {
	s.Hide()
	if s.onClose != nil {
		s.onClose()
	}
}

func (s *Window) togglePause() {
	f := s.act.Pause
	if s.m.Paused {
		f = s.act.Resume
	}
	if f != nil {
		f()
	}
}

// Show brings the window up.
func (s *Window) Show() {
	s.shown = true
	s.w.Show()
	s.w.RequestFocus()
}

// Hide hides the window.
func (s *Window) Hide() {
	s.shown = false
	s.w.Hide()
}

// Visible reports whether the window is shown.
func (s *Window) Visible() bool { return s.shown }

// Window is the Fyne window (for tests and screenshots).
func (s *Window) Window() fyne.Window { return s.w }

// Headline and Detail are the texts shown at the top.
func (s *Window) Headline() string { return s.headline.Text }

// Detail is the fix shown under the headline ("" when none).
func (s *Window) Detail() string { return s.detail.Text }

// Streaming is the live-updates line and its reason ("" when hidden).
func (s *Window) Streaming() string {
	if !s.stream.Visible() {
		return ""
	}
	return s.stream.Text
}

// Folder is the export folder line ("" when hidden).
func (s *Window) Folder() string {
	if !s.folder.Visible() {
		return ""
	}
	return s.folder.Text
}

// Rows is what the mailbox rows show, one string per row:
// "address|state|items|synced|error".
func (s *Window) Rows() []string {
	var out []string
	for _, r := range s.rowList[:len(s.rows.Objects)] {
		out = append(out, r.addr.Text+"|"+r.state.Text+"|"+r.info.Text+"|"+r.err.Text)
	}
	return out
}

// Update shows m.
func (s *Window) Update(m Model) {
	s.m = m
	s.icon.SetResource(tray.Icon(m.Icon))
	s.headline.SetText(m.Headline)
	s.detail.SetText(m.Detail)
	if m.Detail == "" {
		s.detail.Hide()
	} else {
		s.detail.Show()
	}
	switch {
	case m.Streaming == "":
		s.stream.Hide()
	case m.StreamReason != "":
		s.stream.SetText(m.Streaming + "\n" + m.StreamReason)
	default:
		s.stream.SetText(m.Streaming)
	}
	if m.Streaming != "" {
		if m.StreamDown {
			s.stream.Importance = widget.WarningImportance
		} else {
			s.stream.Importance = widget.MediumImportance // plain: a light green on white reads badly; the icon says "ok"
		}
		s.stream.Refresh()
		s.stream.Show()
	}
	if m.ExportDir == "" {
		s.folder.Hide()
	} else {
		s.folder.SetText("ICS files in " + m.ExportDir)
		s.folder.Show()
	}
	for len(s.rowList) < len(m.Rows) {
		s.rowList = append(s.rowList, newRow())
	}
	objs := make([]fyne.CanvasObject, len(m.Rows))
	for i, r := range m.Rows {
		s.rowList[i].set(r)
		objs[i] = s.rowList[i].box
	}
	s.rows.Objects = objs
	s.rows.Refresh()
	if len(m.Rows) == 0 {
		s.empty.Show()
	} else {
		s.empty.Hide()
	}

	if m.Paused {
		s.Pause.SetText(tray.LabelResume)
		s.Pause.SetIcon(theme.MediaPlayIcon())
	} else {
		s.Pause.SetText(tray.LabelPause)
		s.Pause.SetIcon(theme.MediaPauseIcon())
	}
	enable(s.SyncNow, m.Configured && !m.Paused)
	enable(s.Pause, m.Configured || m.Paused)
	enable(s.OpenFolder, m.ExportDir != "")
}

func enable(b *widget.Button, on bool) {
	if on {
		b.Enable()
	} else {
		b.Disable()
	}
}

// row is one mailbox: address and state on the left, items and last sync
// on the right, the error (with its fix) wrapped underneath.
type row struct {
	box                    *fyne.Container
	addr, state, info, err *widget.Label
}

func newRow() *row {
	r := &row{
		addr:  widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		state: widget.NewLabel(""),
		info:  widget.NewLabelWithStyle("", fyne.TextAlignTrailing, fyne.TextStyle{}),
		err:   widget.NewLabel(""),
	}
	r.addr.Truncation = fyne.TextTruncateEllipsis
	r.err.Wrapping = fyne.TextWrapWord
	r.err.Importance = widget.DangerImportance
	line := container.NewBorder(nil, nil, nil, container.NewHBox(r.state, r.info), r.addr)
	r.box = container.NewVBox(line, r.err)
	return r
}

func (r *row) set(v Row) {
	r.addr.SetText(v.Address)
	r.state.SetText(v.State)
	if v.Failing {
		r.state.Importance = widget.DangerImportance
	} else {
		r.state.Importance = widget.MediumImportance
	}
	r.state.Refresh()
	info := v.Items + " · " + v.Synced
	if v.Live != "" {
		info += " · " + v.Live
	}
	r.info.SetText(info)
	r.err.SetText(v.Err)
	if v.Err == "" {
		r.err.Hide()
	} else {
		r.err.Show()
	}
}
