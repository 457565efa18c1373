package main

import (
	"context"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/atollhq/atoll/internal/server"
	"github.com/atollhq/atoll/internal/store/embedded"
)

// examplesDir is the repository's examples/, relative to this package.
const examplesDir = "../../examples"

// exampleApps lists every app directory under examples/: a directory holding
// root_config.json (current export layout) or realm_config.json (the
// 2021 layout). node_modules trees of the demos are skipped.
func exampleApps(t *testing.T) []string {
	t.Helper()
	var apps []string
	err := filepath.WalkDir(examplesDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		if d.Name() == "node_modules" {
			return filepath.SkipDir
		}
		for _, marker := range []string{"root_config.json", "realm_config.json"} {
			if _, err := os.Stat(filepath.Join(path, marker)); err == nil {
				apps = append(apps, path)
				break
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", examplesDir, err)
	}
	return apps
}

// TestExamples runs `atoll app validate` (the command itself, in-process)
// on every example app and then mounts it as `atoll serve` would, so a
// change to the loader, the rules, the schemas, the functions engine or
// the triggers that breaks an example fails `go test`, not only the
// slower demo run.
func TestExamples(t *testing.T) {
	apps := exampleApps(t)
	// The task tracker is what the README serves; finding none means the
	// walk is wrong, not that there is nothing to check.
	found := false
	for _, dir := range apps {
		if filepath.Base(dir) == "task-tracker" {
			found = true
		}
	}
	if !found {
		t.Fatalf("examples/task-tracker not among the example apps found: %q", apps)
	}
	for _, dir := range apps {
		name := strings.TrimPrefix(filepath.ToSlash(dir), examplesDir+"/")
		t.Run(name, func(t *testing.T) {
			code, out, errOut := runApp(t, "app", "validate", dir)
			if code != 0 {
				t.Fatalf("atoll app validate %s: exit %d\nstdout:\n%s\nstderr:\n%s", name, code, out, errOut)
			}
			if !strings.Contains(out, "ok: app ") {
				t.Errorf("atoll app validate %s: no ok line:\n%s", name, out)
			}
			mountExample(t, dir)
		})
	}
}

// mountExample loads the app and mounts it on an empty embedded store as
// `atoll serve --app` does, then shuts it down: validate does not compile
// function sources or bind triggers to functions, serving does.
func mountExample(t *testing.T, dir string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	app, err := loadServeApp(ctx, dir, "", appServeConfig{}, logger)
	if err != nil {
		t.Fatalf("load as serve does: %v", err)
	}
	st, err := embedded.Open(ctx, t.TempDir(), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := st.Close(context.Background()); err != nil {
			t.Errorf("close store: %v", err)
		}
	}()
	appCtx, stop := context.WithCancel(ctx)
	defer stop()
	srv := server.New(server.Config{Addr: "127.0.0.1:0", Logger: logger})
	closeApp, err := mountApp(appCtx, srv, st, app, appServeConfig{}, logger)
	if err != nil {
		t.Fatalf("mount as serve does: %v", err)
	}
	stop()
	closeApp()
}
