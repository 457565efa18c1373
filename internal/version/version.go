// Package version holds the build's version and commit, set at link time
// with -ldflags "-X github.com/atollhq/atoll/internal/version.Version=...".
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Set by the linker; the defaults describe a plain `go build`.
var (
	Version = "dev"
	Commit  = ""
)

// String returns "atoll VERSION (commit COMMIT, GOVERSION)".
func String() string {
	commit := Commit
	if commit == "" {
		commit = vcsRevision()
	}
	if commit == "" {
		commit = "unknown"
	}
	return fmt.Sprintf("atoll %s (commit %s, %s)", Version, commit, runtime.Version())
}

func vcsRevision() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" {
			return s.Value
		}
	}
	return ""
}
