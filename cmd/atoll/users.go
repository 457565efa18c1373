package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/atollhq/atoll/internal/auth"
)

const usersUsage = `Usage:
  atoll users list [--limit N] [--after ID]          list app users
  atoll users create --email E (--password-stdin | --password P)
                                                     create a confirmed email/password user
  atoll users disable ID                             block logins and end all sessions
  atoll users enable ID                              lift a disable
  atoll users delete ID                              delete the user, identities, sessions and API keys
  atoll users revoke-sessions ID                     end every session of the user

Flags (all commands):
  --data DIR           embedded store directory (env ATOLL_DATA; the server must be stopped)
  --mongodb-uri URI    MongoDB deployment (env ATOLL_MONGODB_URI)
`

// usersCmd runs `atoll users ...`: app user administration.
func usersCmd(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usersUsage)
		return 2
	}
	sub, rest := args[0], args[1:]
	if sub == "help" || sub == "-h" || sub == "--help" {
		fmt.Fprint(stdout, usersUsage)
		return 0
	}
	fs := flag.NewFlagSet("atoll users "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var sf storeFlags
	sf.register(fs)
	switch sub {
	case "list":
		limit := fs.Int("limit", 50, "page size")
		after := fs.String("after", "", "list users after this id")
		if code := parseFlags(fs, rest, 0); code >= 0 {
			return code
		}
		return sf.withAuth(stderr, func(ctx context.Context, svc *auth.Service) error {
			users, err := svc.ListUsers(ctx, auth.ListUsersOptions{Limit: *limit, After: *after})
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tTYPE\tDISABLED\tCREATED\tLAST LOGIN\tPROVIDERS\tNAME")
			for _, u := range users {
				var provs []string
				for _, id := range u.Identities {
					provs = append(provs, id.ProviderType)
				}
				name := ""
				for _, e := range u.Data {
					if e.Key == "email" || (e.Key == "name" && name == "") {
						name, _ = e.Value.(string)
					}
				}
				fmt.Fprintf(tw, "%s\t%s\t%v\t%s\t%s\t%s\t%s\n", u.ID, u.Type, u.Disabled, fmtTime(u.CreatedAt),
					fmtTime(u.LastLoginAt), strings.Join(provs, ","), name)
			}
			return tw.Flush()
		})
	case "create":
		email := fs.String("email", "", "email (the login name)")
		password := fs.String("password", "", "password (visible to other local users; prefer --password-stdin)")
		fromStdin := fs.Bool("password-stdin", false, "read the password from the first line of stdin")
		if code := parseFlags(fs, rest, 0); code >= 0 {
			return code
		}
		pw := *password
		if *fromStdin {
			line, err := bufio.NewReader(stdin).ReadString('\n')
			if err != nil && !errors.Is(err, io.EOF) {
				fmt.Fprintf(stderr, "atoll users create: reading the password: %v\n", err)
				return 1
			}
			pw = strings.TrimRight(line, "\r\n")
		}
		if *email == "" || pw == "" {
			fmt.Fprint(stderr, "atoll users create: --email and a password are required\n")
			return 2
		}
		return sf.withAuth(stderr, func(ctx context.Context, svc *auth.Service) error {
			u, err := svc.CreateEmailPasswordUser(ctx, *email, pw)
			if err != nil {
				return err
			}
			fmt.Fprintln(stdout, u.ID)
			return nil
		})
	case "disable", "enable", "delete", "revoke-sessions":
		if code := parseFlags(fs, rest, 1); code >= 0 {
			return code
		}
		id := fs.Arg(0)
		return sf.withAuth(stderr, func(ctx context.Context, svc *auth.Service) error {
			switch sub {
			case "disable":
				return svc.DisableUser(ctx, id)
			case "enable":
				return svc.EnableUser(ctx, id)
			case "delete":
				return svc.DeleteUser(ctx, id)
			}
			if _, err := svc.User(ctx, id); err != nil {
				return err
			}
			return svc.RevokeSessions(ctx, id)
		})
	}
	fmt.Fprintf(stderr, "atoll users: unknown command %q\n\n%s", sub, usersUsage)
	return 2
}

// parseFlags parses args and checks the number of positional arguments;
// it returns -1 to go on, or the exit code.
func parseFlags(fs *flag.FlagSet, args []string, nargs int) int {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() != nargs {
		fmt.Fprintf(fs.Output(), "%s: want %d argument(s), got %d\n", fs.Name(), nargs, fs.NArg())
		return 2
	}
	return -1
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}
