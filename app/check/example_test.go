package check_test

import (
	"context"
	"fmt"
	"os"

	"github.com/exocal/exocal/app/check"
	"github.com/exocal/exocal/app/config"
	"github.com/exocal/exocal/app/secrets"
)

// How the settings window's "Test connection" uses the chain: run it off
// the UI goroutine, show each step as it arrives (through fyne.Do in the
// UI), then offer Details() behind "Copy details".
func Example() {
	path, _ := config.Path()
	s, err := config.Load(path)
	in := check.Input{Settings: s, SettingsErr: err, SettingsPath: path, Store: secrets.Default()}
	rep := check.Run(context.Background(), in, func(st check.Step) {
		// In the UI: fyne.Do(func() { list.Append(st.State.Mark(), st.Title, st.Finding, st.Fix) })
		_ = check.WriteStep(os.Stdout, st)
	})
	fmt.Println(rep.OK(), rep.ExitCode())
	_ = rep.Details() // for the clipboard: never holds the secret or a token
}
