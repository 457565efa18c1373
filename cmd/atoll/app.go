package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/atollhq/atoll/internal/appconfig"
	"github.com/atollhq/atoll/internal/dataaccess"
	"github.com/atollhq/atoll/internal/functions"
)

const appUsage = `Usage:
  atoll app validate [flags] DIR              check an App Services app directory; print every problem
  atoll app export --app DIR --out DIR2 [flags]  write DIR in the current layout to DIR2 (which must not exist or be empty)

Flags (both commands):
  --app-id ID          override the app id found in the directory
  --environment TAG    use this environment instead of the root config's ("" for none)
  --secrets FILE       JSON object of secret values; ATOLL_SECRET_<name> variables also supply secrets
`

// appCmd runs `atoll app ...`: the app directory tools built on
// internal/appconfig.
func appCmd(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, appUsage)
		return 2
	}
	switch args[0] {
	case "validate":
		return appValidate(args[1:], stdout, stderr)
	case "export":
		return appExport(args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, appUsage)
		return 0
	}
	fmt.Fprintf(stderr, "atoll app: unknown command %q\n\n%s", args[0], appUsage)
	return 2
}

// appFlags are the flags shared by the app commands.
type appFlags struct {
	appID       string
	environment string
	secrets     string
}

func (f *appFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.appID, "app-id", "", "override the app id")
	fs.StringVar(&f.environment, "environment", "", "environment tag to resolve templates with")
	fs.StringVar(&f.secrets, "secrets", "", "JSON file of secret values")
}

// options turns the flags into load options; --environment counts only
// when given, because "" is itself a valid tag.
func (f *appFlags) options(fs *flag.FlagSet) (appconfig.Options, error) {
	opts := appconfig.Options{AppID: f.appID}
	fs.Visit(func(fl *flag.Flag) {
		if fl.Name == "environment" {
			env := f.environment
			opts.Environment = &env
		}
	})
	secrets := map[string]string{}
	if f.secrets != "" {
		fromFile, err := appconfig.ReadSecretsFile(f.secrets)
		if err != nil {
			return opts, err
		}
		for k, v := range fromFile {
			secrets[k] = v
		}
	}
	for k, v := range appconfig.SecretsFromEnv(os.Environ()) {
		secrets[k] = v
	}
	opts.Secrets = secrets
	return opts, nil
}

// parseInterspersed parses flags that may come after positional
// arguments (`atoll app validate DIR --environment qa`), which the flag
// package alone does not allow.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return positional, nil
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
}

// loadApp loads an app and prints its warnings and problems; it reports
// whether the app loaded without problems.
func loadApp(dir string, opts appconfig.Options, stdout, stderr io.Writer, cmd string) (*appconfig.App, bool) {
	app, err := appconfig.Load(context.Background(), dir, opts)
	if app != nil {
		for _, w := range app.Warnings {
			fmt.Fprintf(stdout, "warning: %s\n", w)
		}
	}
	if err != nil {
		var probs appconfig.Problems
		if errors.As(err, &probs) {
			for _, p := range probs {
				fmt.Fprintln(stdout, p)
			}
			fmt.Fprintf(stderr, "%s: %s: %d problem%s\n", cmd, dir, len(probs), plural(len(probs)))
		} else {
			fmt.Fprintf(stderr, "%s: %v\n", cmd, err)
		}
		return nil, false
	}
	return app, true
}

func appValidate(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("atoll app validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f appFlags
	f.register(fs)
	dir := fs.String("app", "", "app directory (or give it as an argument)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	switch {
	case len(pos) == 1 && *dir == "":
		*dir = pos[0]
	case len(pos) > 1 || (len(pos) == 1 && *dir != ""):
		fmt.Fprintf(stderr, "atoll app validate: expected one app directory, got %q\n", pos)
		return 2
	case *dir == "":
		fmt.Fprint(stderr, "atoll app validate: missing app directory\n\n"+appUsage)
		return 2
	}
	opts, err := f.options(fs)
	if err != nil {
		fmt.Fprintf(stderr, "atoll app validate: %v\n", err)
		return 2
	}
	app, ok := loadApp(*dir, opts, stdout, stderr, "atoll app validate")
	if !ok {
		return 1
	}
	// Rules and schemas as the server compiles them, %function checks
	// included.
	if err := dataaccess.Check(app, dataaccess.Options{}); err != nil {
		fmt.Fprintf(stderr, "atoll app validate: %v\n", err)
		return 1
	}
	// Function sources as the server compiles them.
	if err := functions.Check(app); err != nil {
		fmt.Fprintf(stderr, "atoll app validate: %v\n", err)
		return 1
	}
	for _, name := range app.MissingSecrets() {
		fmt.Fprintf(stdout, "warning: secret %q is not supplied (set %s%s or use --secrets)\n",
			name, appconfig.SecretEnvPrefix, strings.ReplaceAll(name, "-", "_"))
	}
	for _, n := range unserved(app) {
		fmt.Fprintf(stdout, "note: %s\n", n)
	}
	fmt.Fprintf(stdout, "ok: %s\n", summary(app))
	return 0
}

// unserved lists what the app configures that Atoll loads and exports but
// does not serve yet, so that someone migrating learns it before clients
// fail.
func unserved(a *appconfig.App) []string {
	var out []string
	if a.Sync != nil && a.Sync.State == "enabled" {
		out = append(out, "Device Sync is enabled (sync/config.json): Atoll does not serve the sync protocol yet; its permissions still govern data access")
	}
	if a.GraphQL != nil && len(a.GraphQL.CustomResolvers) > 0 {
		out = append(out, fmt.Sprintf("GraphQL is not served yet (%d custom resolver(s) in graphql/)", len(a.GraphQL.CustomResolvers)))
	}
	enabled := 0
	for _, e := range a.HTTPSEndpoints {
		if !e.Disabled {
			enabled++
		}
	}
	if enabled > 0 {
		out = append(out, fmt.Sprintf("HTTPS endpoints are not served yet (%d enabled)", enabled))
	}
	if a.DataAPI != nil && !a.DataAPI.Disabled {
		out = append(out, "the Data API is enabled (data_api_config.json) but not served yet")
	}
	if a.Hosting != nil && len(a.Hosting.Files) > 0 {
		out = append(out, fmt.Sprintf("static hosting is not served (%d file(s) in hosting/files/)", len(a.Hosting.Files)))
	}
	if len(a.LogForwarders) > 0 {
		out = append(out, fmt.Sprintf("log forwarders are not run (%d in log_forwarders/)", len(a.LogForwarders)))
	}
	return out
}

func appExport(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("atoll app export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f appFlags
	f.register(fs)
	dir := fs.String("app", "", "app directory to read")
	out := fs.String("out", "", "directory to write (must not exist or be empty)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if len(pos) > 0 {
		fmt.Fprintf(stderr, "atoll app export: unexpected argument %q\n", pos[0])
		return 2
	}
	if *dir == "" || *out == "" {
		fmt.Fprint(stderr, "atoll app export: --app and --out are required\n\n"+appUsage)
		return 2
	}
	opts, err := f.options(fs)
	if err != nil {
		fmt.Fprintf(stderr, "atoll app export: %v\n", err)
		return 2
	}
	app, ok := loadApp(*dir, opts, stdout, stderr, "atoll app export")
	if !ok {
		return 1
	}
	if err := app.Write(context.Background(), *out); err != nil {
		fmt.Fprintf(stderr, "atoll app export: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "exported %s to %s\n", summary(app), *out)
	return 0
}

// summary describes an app in one line.
func summary(a *appconfig.App) string {
	colls := 0
	for _, d := range a.DataSources {
		colls += len(d.Collections)
	}
	return fmt.Sprintf("app %q (app id %q, %s layout): %s, %s (%s), %s, %s, %s, %s",
		a.Name(), a.AppID, a.Generation,
		count(len(a.AuthProviders), "auth provider"),
		count(len(a.DataSources), "data source"), count(colls, "collection"),
		count(len(a.Functions), "function"), count(len(a.Triggers), "trigger"),
		count(len(a.Values), "value"), count(len(a.Environments), "environment"))
}

func count(n int, what string) string { return fmt.Sprintf("%d %s%s", n, what, plural(n)) }

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
