package functions

import "github.com/atollhq/atoll/internal/appconfig"

// Check compiles every function source of app as the engine would, without
// running anything: a syntax error is reported naming the function's file
// and line. `atoll app validate` uses it so that validation refuses what
// `atoll serve` would refuse.
func Check(app *appconfig.App) error {
	_, err := compileApp(app)
	return err
}
