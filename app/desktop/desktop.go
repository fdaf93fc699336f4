// Package desktop puts ExoCal into the Linux desktop the freedesktop.org
// way: an application menu entry with its icon (Desktop Entry and Icon
// Theme specifications) and an entry that starts ExoCal at login (Desktop
// Application Autostart specification). Every file goes under the user's
// own XDG folders; nothing needs root.
//
// The entries name the executable by absolute path, quoted by the Desktop
// Entry rules, so a binary outside PATH or in a folder with spaces starts.
package desktop

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/exocal/exocal/internal/atomicfile"
)

// ID names the entries and the icon; it is FyneApp.toml's app ID, which
// is also the Wayland app ID the window reports.
const ID = "com.exocal.app"

// Paths are the XDG base folders the entries go under.
type Paths struct {
	Data   string // $XDG_DATA_HOME: applications/ and icons/
	Config string // $XDG_CONFIG_HOME: autostart/
}

// DefaultPaths reads XDG_DATA_HOME and XDG_CONFIG_HOME, with the
// specification's defaults under $HOME. Relative values are ignored, as
// the XDG Base Directory specification says.
func DefaultPaths() (Paths, error) {
	home, herr := os.UserHomeDir()
	base := func(env, def string) (string, error) {
		if v := os.Getenv(env); filepath.IsAbs(v) {
			return v, nil
		}
		if herr != nil {
			return "", fmt.Errorf("desktop: neither %s nor HOME is set; set HOME: %w", env, herr)
		}
		return filepath.Join(home, def), nil
	}
	data, err := base("XDG_DATA_HOME", ".local/share")
	if err != nil {
		return Paths{}, err
	}
	cfg, err := base("XDG_CONFIG_HOME", ".config")
	if err != nil {
		return Paths{}, err
	}
	return Paths{Data: data, Config: cfg}, nil
}

// MenuEntry is the application menu entry's path.
func (p Paths) MenuEntry() string { return filepath.Join(p.Data, "applications", ID+".desktop") }

// Icon is the scalable app icon's path in the hicolor theme.
func (p Paths) Icon() string {
	return filepath.Join(p.Data, "icons", "hicolor", "scalable", "apps", ID+".svg")
}

// AutostartEntry is the login entry's path.
func (p Paths) AutostartEntry() string { return filepath.Join(p.Config, "autostart", ID+".desktop") }

// Entry returns the desktop entry that runs exe (an absolute path) with no
// arguments: the tray app. autostart adds the keys of a login entry.
func Entry(exe string, autostart bool) ([]byte, error) {
	if !filepath.IsAbs(exe) {
		return nil, fmt.Errorf("desktop: %q is not an absolute path; give the full path of the exocal binary", exe)
	}
	if strings.IndexFunc(exe, unicode.IsControl) >= 0 {
		return nil, fmt.Errorf("desktop: the path %q holds a control character, which a desktop entry cannot name; move the exocal binary to a plain path", exe)
	}
	if !utf8.ValidString(exe) {
		return nil, fmt.Errorf("desktop: the path %q is not UTF-8, which a desktop entry must be; move the exocal binary to a path with a UTF-8 name", exe)
	}
	if strings.Contains(exe, "%") {
		// The specification writes it %%, but GLib's GIO looks for the
		// program before it expands %% and then refuses the entry.
		return nil, fmt.Errorf("desktop: the path %q holds a %%, which desktops do not read alike in an entry; move the exocal binary to a path without %%", exe)
	}
	var b bytes.Buffer
	b.WriteString("[Desktop Entry]\n")
	b.WriteString("Type=Application\n")
	b.WriteString("Version=1.4\n")
	b.WriteString("Name=ExoCal\n")
	b.WriteString("GenericName=Calendar export\n")
	b.WriteString("Comment=Keep Exchange Online calendars on this desktop as ICS files\n")
	b.WriteString("Keywords=Exchange;Outlook;ICS;iCalendar;\n")
	fmt.Fprintf(&b, "TryExec=%s\n", escapeString(exe))
	fmt.Fprintf(&b, "Exec=%s\n", QuoteExec(exe))
	fmt.Fprintf(&b, "Icon=%s\n", ID)
	b.WriteString("Terminal=false\n")
	b.WriteString("Categories=Office;Calendar;\n")
	b.WriteString("StartupNotify=false\n")
	if autostart {
		b.WriteString("X-GNOME-Autostart-enabled=true\n")
	}
	return b.Bytes(), nil
}

// QuoteExec quotes one argument of an Exec key: always in double quotes,
// with ", `, $ and \ escaped by a backslash and % doubled (Desktop Entry
// Specification, "The Exec key"); then the string escaping of every value
// doubles each backslash again, as the specification says it applies first
// when reading.
func QuoteExec(arg string) string {
	var q strings.Builder
	q.WriteByte('"')
	for _, r := range arg {
		switch r {
		case '"', '`', '$', '\\':
			q.WriteByte('\\')
			q.WriteRune(r)
		case '%':
			q.WriteString("%%")
		default:
			q.WriteRune(r)
		}
	}
	q.WriteByte('"')
	return escapeString(q.String())
}

// escapeString applies the backslash escape of a string value; Entry
// refuses the control characters that would need the others, and the
// absolute path never starts with a space.
func escapeString(s string) string { return strings.ReplaceAll(s, `\`, `\\`) }

// Install writes the menu entry for exe and the app icon (SVG). It returns
// the files written.
func Install(p Paths, exe string, iconSVG []byte) ([]string, error) {
	entry, err := Entry(exe, false)
	if err != nil {
		return nil, err
	}
	if err := writeFile(p.Icon(), iconSVG); err != nil {
		return nil, err
	}
	if err := writeFile(p.MenuEntry(), entry); err != nil {
		return []string{p.Icon()}, err
	}
	return []string{p.MenuEntry(), p.Icon()}, nil
}

// Uninstall removes the menu entry, the icon and the login entry; it
// returns the files that were there and are gone.
func Uninstall(p Paths) ([]string, error) {
	var gone []string
	var errs []error
	for _, f := range []string{p.MenuEntry(), p.Icon(), p.AutostartEntry()} {
		switch err := os.Remove(f); {
		case err == nil:
			gone = append(gone, f)
		case !errors.Is(err, os.ErrNotExist):
			errs = append(errs, fmt.Errorf("desktop: %w", err))
		}
	}
	return gone, errors.Join(errs...)
}

// SetAutostart writes (on) or removes (off) the login entry for exe.
func SetAutostart(p Paths, exe string, on bool) error {
	if !on {
		if err := os.Remove(p.AutostartEntry()); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("desktop: %w", err)
		}
		return nil
	}
	entry, err := Entry(exe, true)
	if err != nil {
		return err
	}
	return writeFile(p.AutostartEntry(), entry)
}

// Installed says what an entry file holds.
type Installed struct {
	Present bool   // the file exists
	Enabled bool   // present and not turned off (Hidden=true or X-GNOME-Autostart-enabled=false)
	Exec    string // the executable it runs ("" when unreadable)
	Missing bool   // Exec names a file that does not exist (ExoCal was moved)
}

// Read reports on the entry file at path (MenuEntry or AutostartEntry).
func Read(path string) (Installed, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return Installed{}, nil
	}
	if err != nil {
		return Installed{}, fmt.Errorf("desktop: %w", err)
	}
	in := Installed{Present: true, Enabled: true}
	group := ""
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "[") {
			group = line
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok || group != "[Desktop Entry]" {
			continue
		}
		switch strings.TrimSpace(key) {
		case "Hidden":
			in.Enabled = in.Enabled && strings.TrimSpace(value) != "true"
		case "X-GNOME-Autostart-enabled":
			in.Enabled = in.Enabled && strings.TrimSpace(value) != "false"
		case "Exec":
			in.Exec = firstArg(strings.TrimSpace(value))
		}
	}
	if in.Exec != "" && filepath.IsAbs(in.Exec) {
		if _, err := os.Stat(in.Exec); errors.Is(err, os.ErrNotExist) {
			in.Missing = true
		}
	}
	return in, nil
}

// firstArg undoes the string escapes and the quoting of the Exec value's
// first argument.
func firstArg(v string) string {
	var s strings.Builder
	for i := 0; i < len(v); i++ { // string escapes
		if v[i] == '\\' && i+1 < len(v) {
			i++
			switch v[i] {
			case 's':
				s.WriteByte(' ')
			case 'n':
				s.WriteByte('\n')
			case 't':
				s.WriteByte('\t')
			case 'r':
				s.WriteByte('\r')
			default:
				s.WriteByte(v[i])
			}
			continue
		}
		s.WriteByte(v[i])
	}
	v = s.String()
	if !strings.HasPrefix(v, `"`) {
		arg, _, _ := strings.Cut(v, " ")
		return strings.ReplaceAll(arg, "%%", "%")
	}
	var a strings.Builder
	for i := 1; i < len(v); i++ {
		switch c := v[i]; {
		case c == '\\' && i+1 < len(v):
			i++
			a.WriteByte(v[i])
		case c == '"':
			return strings.ReplaceAll(a.String(), "%%", "%")
		default:
			a.WriteByte(c)
		}
	}
	return strings.ReplaceAll(a.String(), "%%", "%")
}

// writeFile writes b to path, mode 0644, through internal/atomicfile, so
// a desktop never reads half an entry.
func writeFile(path string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("desktop: %w", err)
	}
	if err := atomicfile.WriteBytes(path, 0o644, b); err != nil {
		return fmt.Errorf("desktop: %w", err)
	}
	return nil
}
