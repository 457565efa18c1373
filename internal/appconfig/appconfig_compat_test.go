package appconfig

// Tests for docs/compat.md entries of the appconfig package that no other
// test held on its own.

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A duplicate JSON key is a problem (App Services' own parser would keep
// one of the values silently); the rest of the file is still checked.
func TestCompatDuplicateKeysAreProblems(t *testing.T) {
	files := map[string]string{
		"root_config.json": `{"name":"dup","name":"again","allowed_request_origins":"x"}`,
	}
	_, err := LoadFS(context.Background(), app(files), Options{})
	ps := problemsOf(t, err)
	var dup, other bool
	for _, p := range ps {
		if p.File == "root_config.json" && strings.Contains(p.String(), "duplicate key") {
			dup = true
		}
		if p.File == "root_config.json" && strings.Contains(p.String(), "allowed_request_origins") {
			other = true
		}
	}
	if !dup || !other {
		t.Fatalf("problems %v: want the duplicate key and the mistyped allowed_request_origins", ps)
	}
}

// Write refuses a non-empty directory, so files left from an earlier export
// can never be read back as part of the app.
func TestCompatWriteRefusesNonEmptyDirectory(t *testing.T) {
	a := mustLoad(t, app(map[string]string{"root_config.json": `{"name":"w"}`}), Options{})
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "left-over.json"), []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := a.Write(context.Background(), dir); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("Write into a non-empty directory: %v", err)
	}
	if err := a.Write(context.Background(), filepath.Join(dir, "fresh")); err != nil {
		t.Fatalf("Write into a new directory: %v", err)
	}
}

// --environment replaces the root file's environment: an unknown tag is a
// problem; an active environment without its file is a warning.
func TestCompatEnvironmentOverride(t *testing.T) {
	files := map[string]string{
		"root_config.json":             `{"name":"env","environment":"production"}`,
		"environments/production.json": `{"values":{}}`,
	}
	staging := "staging"
	_, err := LoadFS(context.Background(), app(files), Options{Environment: &staging})
	ps := problemsOf(t, err)
	if len(ps) != 1 || ps[0].Path != "environment" {
		t.Fatalf("unknown tag: problems %v", ps)
	}
	qa := "qa"
	a := mustLoad(t, app(files), Options{Environment: &qa})
	if a.EnvironmentTag() != "qa" {
		t.Fatalf("tag %q", a.EnvironmentTag())
	}
	var warned bool
	for _, w := range a.Warnings {
		warned = warned || strings.Contains(w.String(), "qa")
	}
	if !warned {
		t.Fatalf("no warning for the missing environments/qa.json: %v", a.Warnings)
	}
}
