package functions

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"testing/fstest"
	"time"

	"github.com/atollhq/atoll/internal/appconfig"
	"github.com/atollhq/atoll/internal/dataaccess"
	"github.com/atollhq/atoll/internal/store/embedded"
)

// testApp builds an app directory in memory: files maps path → content;
// root_config.json and the mongodb-atlas data source are added.
func testApp(t testing.TB, files map[string]string) *appconfig.App {
	t.Helper()
	fsys := fstest.MapFS{
		"root_config.json":                       {Data: []byte(`{"name":"fnapp","environment":"development"}`)},
		"data_sources/mongodb-atlas/config.json": {Data: []byte(`{"name":"mongodb-atlas","type":"mongodb-atlas","config":{"clusterName":"c"}}`)},
	}
	for p, c := range files {
		fsys[p] = &fstest.MapFile{Data: []byte(c)}
	}
	app, err := appconfig.LoadFS(context.Background(), fsys, appconfig.Options{Secrets: map[string]string{"twilioSecret": "s3cr3t"}})
	if err != nil {
		t.Fatalf("load app: %v", err)
	}
	return app
}

// testEngine builds an Engine over an embedded store in a temp dir.
func testEngine(t testing.TB, app *appconfig.App, cfg Config) *Engine {
	t.Helper()
	ctx := context.Background()
	st, err := embedded.Open(ctx, t.TempDir(), embedded.Options{SyncOff: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close(context.Background()) })
	da, err := dataaccess.New(app, st, dataaccess.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { da.Close() })
	cfg.Data, cfg.Store = da, st
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	e, err := New(app, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func tctx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// manifest renders functions/config.json for the named functions with
// default settings plus extra entries.
func fnFiles(srcs map[string]string, manifest string) map[string]string {
	out := map[string]string{"functions/config.json": manifest}
	for n, s := range srcs {
		out["functions/"+n+".js"] = s
	}
	return out
}
