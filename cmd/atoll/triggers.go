package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/atollhq/atoll/internal/store"
	"github.com/atollhq/atoll/internal/triggers"
)

const triggersUsage = `Usage:
  atoll triggers list                       show each database trigger's status, error and position
  atoll triggers resume NAME [--from-now]   resume a suspended trigger: from the event after the
                                            last one handled, or (--from-now) from now, losing
                                            the events in between

Flags (all commands):
  --data DIR           embedded store directory (env ATOLL_DATA; the server must be stopped)
  --mongodb-uri URI    MongoDB deployment (env ATOLL_MONGODB_URI); a running server notices a
                       resume within its poll interval
`

// triggersCmd runs `atoll triggers ...`: the durable state of database
// triggers kept under __atoll.
func triggersCmd(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, triggersUsage)
		return 2
	}
	sub, rest := args[0], args[1:]
	if sub == "help" || sub == "-h" || sub == "--help" {
		fmt.Fprint(stdout, triggersUsage)
		return 0
	}
	fs := flag.NewFlagSet("atoll triggers "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var sf storeFlags
	sf.register(fs)
	switch sub {
	case "list":
		if code := parseFlags(fs, rest, 0); code >= 0 {
			return code
		}
		return sf.withStore(context.Background(), stderr, func(ctx context.Context, st store.Store) error {
			states, err := triggers.ListStates(ctx, st)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tSTATUS\tLAST DELIVERED\tHEARTBEAT\tERROR")
			for _, s := range states {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", s.Name, s.Status, fmtTime(s.LastDelivered), fmtTime(s.Heartbeat), s.Error)
			}
			return tw.Flush()
		})
	case "resume":
		fromNow := fs.Bool("from-now", false, "start from now instead of the event after the last one handled")
		// NAME may come before the flags (atoll triggers resume NAME
		// --from-now), which the flag package alone does not allow.
		var names []string
		for {
			if err := fs.Parse(rest); err != nil {
				if errors.Is(err, flag.ErrHelp) {
					return 0
				}
				return 2
			}
			if fs.NArg() == 0 {
				break
			}
			names = append(names, fs.Arg(0))
			rest = fs.Args()[1:]
		}
		if len(names) != 1 {
			fmt.Fprintf(stderr, "%s: want 1 argument (the trigger name), got %d\n", fs.Name(), len(names))
			return 2
		}
		return sf.withStore(context.Background(), stderr, func(ctx context.Context, st store.Store) error {
			return triggers.Resume(ctx, st, names[0], *fromNow)
		})
	}
	fmt.Fprintf(stderr, "atoll triggers: unknown command %q\n\n%s", sub, triggersUsage)
	return 2
}
