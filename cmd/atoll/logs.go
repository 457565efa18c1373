package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/appconfig"
	"github.com/atollhq/atoll/internal/applog"
	"github.com/atollhq/atoll/internal/store"
)

const logsUsage = `Usage: atoll logs [--app DIR] [--data DIR | --mongodb-uri URI] [--type function] [--limit N] [--follow]

Prints the app log (function runs: time, name, outcome, duration, caller,
trigger, arguments, result or error, console output), oldest first, from
__atoll.app_logs of the store. --follow keeps printing new entries until
interrupted. The embedded store admits one process at a time: against
--data, run it while the server is stopped (or use --mongodb-uri).

--app names the app directory the server runs (as for atoll serve, env
ATOLL_APP): it is loaded and checked first, and function entries naming a
function the app does not define are counted in a warning on stderr (a
store serves one app, so they mean the store holds another app's log, or
functions since removed). Entries are never hidden for it.
`

// logsCmd is `atoll logs`.
func logsCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("atoll logs", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, logsUsage); fs.PrintDefaults() }
	var sf storeFlags
	sf.register(fs)
	var o logsOptions
	var appDir, appID string
	fs.StringVar(&appDir, "app", envOr("ATOLL_APP", ""), "App Services app directory whose log this is (env ATOLL_APP)")
	fs.StringVar(&appID, "app-id", envOr("ATOLL_APP_ID", ""), "override the app id (env ATOLL_APP_ID)")
	fs.StringVar(&o.typ, "type", "", "only entries of this type (function)")
	fs.IntVar(&o.limit, "limit", 100, "print at most the newest N entries (before following)")
	fs.BoolVar(&o.follow, "follow", false, "keep printing new entries until interrupted")
	if code := parseFlags(fs, args, 0); code >= 0 {
		return code
	}
	if o.limit <= 0 {
		fmt.Fprintln(stderr, "atoll logs: --limit must be positive")
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if appDir != "" {
		app, err := loadLogsApp(ctx, appDir, appID, stderr)
		if err != nil {
			fmt.Fprintf(stderr, "atoll logs: %v\n", err)
			return 1
		}
		o.functions = map[string]bool{}
		for _, f := range app.Functions {
			o.functions[f.Name] = true
		}
		o.appName = app.Name()
		o.warn = stderr
	}
	return sf.withStore(ctx, stderr, func(ctx context.Context, st store.Store) error {
		return printLogs(ctx, st, o, stdout)
	})
}

// logsOptions are atoll logs' choices.
type logsOptions struct {
	typ    string
	limit  int
	follow bool
	// poll is how often --follow looks for new entries (default 1 s).
	poll time.Duration
	// functions are the function names of the --app app (nil without
	// --app); entries of other functions are counted in a warning to
	// warn, which names the app as appName.
	functions map[string]bool
	appName   string
	warn      io.Writer
}

// loadLogsApp loads the --app directory as atoll serve does (secrets from
// ATOLL_SECRETS and ATOLL_SECRET_<name>): an app serve would refuse is an
// error here too. Warnings are not repeated: this command only reads.
func loadLogsApp(ctx context.Context, dir, appID string, stderr io.Writer) (*appconfig.App, error) {
	if st, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("app directory: %w", err)
	} else if !st.IsDir() {
		return nil, fmt.Errorf("app directory %s is not a directory", dir)
	}
	ac, err := appServeFromEnv()
	if err != nil {
		return nil, err
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	return loadServeApp(ctx, dir, appID, ac, logger)
}

// foreign reports whether d is a function entry naming a function the
// --app app does not define.
func (o *logsOptions) foreign(d bson.D) bool {
	if o.functions == nil {
		return false
	}
	var typ, name string
	for _, e := range d {
		switch e.Key {
		case "type":
			typ, _ = e.Value.(string)
		case "name":
			name, _ = e.Value.(string)
		}
	}
	return typ == "function" && !o.functions[name]
}

// printLogs prints the newest entries, then with follow polls for new ones
// until ctx ends (which is then a normal end, not an error).
func printLogs(ctx context.Context, st store.Store, o logsOptions, w io.Writer) error {
	if o.poll <= 0 {
		o.poll = time.Second
	}
	q := applog.Query{Type: o.typ, Limit: o.limit}
	// Function entries of functions the --app app does not define are
	// counted and reported after each batch that brought more.
	foreign, reported := 0, 0
	report := func() {
		if foreign > reported {
			what := "entries name functions"
			if foreign == 1 {
				what = "entry names a function"
			}
			fmt.Fprintf(o.warn, "atoll logs: warning: %d %s that app %q does not define (another app's log in this store, or functions since removed)\n", foreign, what, o.appName)
			reported = foreign
		}
	}
	defer report()
	for {
		docs, err := applog.Read(ctx, st, q)
		if err != nil {
			if o.follow && ctx.Err() != nil {
				return nil
			}
			return err
		}
		for _, d := range docs {
			if o.foreign(d) {
				foreign++
			}
			if err := applog.Format(w, d); err != nil {
				return err
			}
			for _, e := range d {
				if e.Key == "_id" {
					q.After = e.Value
				}
			}
		}
		report()
		if !o.follow {
			return nil
		}
		// While following, read everything new: a burst larger than the
		// limit is printed whole over the next polls.
		q.Limit = 1000
		if len(docs) == q.Limit {
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(o.poll):
		}
	}
}
