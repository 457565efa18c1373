package functions

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/atollhq/atoll/internal/appconfig"
)

// TestLoadTestdataApps compiles every function of appconfig's sample
// apps: the current layout with nested names (utils/…, auth/…) and the
// legacy stitch layout (functions/<name>/config.json + source.js).
func TestLoadTestdataApps(t *testing.T) {
	for _, name := range []string{"everything", "stitch", "environments", "tasktracker", "realmv1", "permissions"} {
		t.Run(name, func(t *testing.T) {
			app, err := appconfig.Load(context.Background(), filepath.Join("..", "appconfig", "testdata", "apps", name), appconfig.Options{})
			var probs appconfig.Problems
			if err != nil && !errors.As(err, &probs) {
				t.Fatal(err)
			}
			if app == nil {
				t.Fatalf("load: %v", err)
			}
			e, err := New(app, Config{})
			if err != nil {
				t.Fatalf("compile: %v", err)
			}
			defer e.Close()
			for _, f := range app.Functions {
				if !e.Has(f.Name) {
					t.Errorf("function %q missing", f.Name)
				}
			}
			t.Logf("%d functions", len(app.Functions))
		})
	}
}
