package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/atollhq/atoll/internal/applog"
	"github.com/atollhq/atoll/internal/store"
)

const logsUsage = `Usage: atoll logs [--data DIR | --mongodb-uri URI] [--type function] [--limit N] [--follow]

Prints the app log (function runs: time, name, outcome, duration, caller,
trigger, arguments, result or error, console output), oldest first, from
__atoll.app_logs of the store. --follow keeps printing new entries until
interrupted. The embedded store admits one process at a time: against
--data, run it while the server is stopped (or use --mongodb-uri).
`

// logsCmd is `atoll logs`.
func logsCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("atoll logs", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, logsUsage); fs.PrintDefaults() }
	var sf storeFlags
	sf.register(fs)
	var o logsOptions
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
}

// printLogs prints the newest entries, then with follow polls for new ones
// until ctx ends (which is then a normal end, not an error).
func printLogs(ctx context.Context, st store.Store, o logsOptions, w io.Writer) error {
	if o.poll <= 0 {
		o.poll = time.Second
	}
	q := applog.Query{Type: o.typ, Limit: o.limit}
	for {
		docs, err := applog.Read(ctx, st, q)
		if err != nil {
			if o.follow && ctx.Err() != nil {
				return nil
			}
			return err
		}
		for _, d := range docs {
			if err := applog.Format(w, d); err != nil {
				return err
			}
			for _, e := range d {
				if e.Key == "_id" {
					q.After = e.Value
				}
			}
		}
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
