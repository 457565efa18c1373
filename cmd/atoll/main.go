// Command atoll is the Atoll server and its command-line tools: a
// self-hosted, drop-in replacement for MongoDB Atlas App Services.
package main

import (
	"fmt"
	"io"
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `atoll: a self-hosted backend compatible with MongoDB Atlas App Services.

Usage:
  atoll serve [flags]     run the server (atoll serve -h for flags)
  atoll app ...           validate or export an App Services app directory (atoll app help)
  atoll users ...         list, create, disable, enable, delete app users (atoll users help)
  atoll apikeys ...       create, list, delete server API keys (atoll apikeys help)
  atoll import [flags] F  insert Extended JSON documents into a collection (atoll import -h)
  atoll logs [flags]      print the app log: function runs (atoll logs -h)
  atoll triggers ...      list and resume database triggers (atoll triggers help)
  atoll version           print version, commit and Go version
`

// run dispatches a subcommand and returns the process exit code.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		return serve(args[1:], stdout, stderr)
	case "app":
		return appCmd(args[1:], stdout, stderr)
	case "users":
		return usersCmd(args[1:], os.Stdin, stdout, stderr)
	case "apikeys":
		return apikeysCmd(args[1:], stdout, stderr)
	case "import":
		return importCmd(args[1:], os.Stdin, stdout, stderr)
	case "logs":
		return logsCmd(args[1:], stdout, stderr)
	case "triggers":
		return triggersCmd(args[1:], stdout, stderr)
	case "version", "--version", "-version":
		return printVersion(stdout)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "atoll: unknown command %q\n\n%s", args[0], usage)
	return 2
}
