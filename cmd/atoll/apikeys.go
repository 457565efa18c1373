package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/atollhq/atoll/internal/auth"
)

const apikeysUsage = `Usage:
  atoll apikeys create --name NAME    create a server API key; the key is printed once
  atoll apikeys list                  list server API keys (without key values)
  atoll apikeys delete ID             delete a server API key and its server user

Flags (all commands):
  --data DIR           embedded store directory (env ATOLL_DATA; the server must be stopped)
  --mongodb-uri URI    MongoDB deployment (env ATOLL_MONGODB_URI)
`

// apikeysCmd runs `atoll apikeys ...`: server API keys.
func apikeysCmd(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, apikeysUsage)
		return 2
	}
	sub, rest := args[0], args[1:]
	if sub == "help" || sub == "-h" || sub == "--help" {
		fmt.Fprint(stdout, apikeysUsage)
		return 0
	}
	fs := flag.NewFlagSet("atoll apikeys "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var sf storeFlags
	sf.register(fs)
	switch sub {
	case "create":
		name := fs.String("name", "", "key name (becomes the server user's data.name)")
		if code := parseFlags(fs, rest, 0); code >= 0 {
			return code
		}
		if *name == "" {
			fmt.Fprint(stderr, "atoll apikeys create: --name is required\n")
			return 2
		}
		return sf.withAuth(stderr, func(ctx context.Context, svc *auth.Service) error {
			k, err := svc.CreateServerAPIKey(ctx, *name)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "id:   %s\nname: %s\nkey:  %s\n", k.ID, k.Name, k.Key)
			fmt.Fprintln(stderr, "Store the key now: it is not shown again.")
			return nil
		})
	case "list":
		if code := parseFlags(fs, rest, 0); code >= 0 {
			return code
		}
		return sf.withAuth(stderr, func(ctx context.Context, svc *auth.Service) error {
			keys, err := svc.ServerAPIKeys(ctx)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tNAME\tDISABLED\tUSER")
			for _, k := range keys {
				fmt.Fprintf(tw, "%s\t%s\t%v\t%s\n", k.ID, k.Name, k.Disabled, k.UserID)
			}
			return tw.Flush()
		})
	case "delete":
		if code := parseFlags(fs, rest, 1); code >= 0 {
			return code
		}
		return sf.withAuth(stderr, func(ctx context.Context, svc *auth.Service) error {
			return svc.DeleteServerAPIKey(ctx, fs.Arg(0))
		})
	}
	fmt.Fprintf(stderr, "atoll apikeys: unknown command %q\n\n%s", sub, apikeysUsage)
	return 2
}
