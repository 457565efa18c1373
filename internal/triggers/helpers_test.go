package triggers

import (
	"context"
	"testing"
	"testing/fstest"
	"time"

	"github.com/atollhq/atoll/internal/appconfig"
)

// testApp builds an app directory in memory: files maps path → content;
// root_config.json and the mongodb-atlas data source are added.
func testApp(t testing.TB, files map[string]string) *appconfig.App {
	t.Helper()
	fsys := fstest.MapFS{
		"root_config.json":                       {Data: []byte(`{"name":"trigapp","environment":"development"}`)},
		"data_sources/mongodb-atlas/config.json": {Data: []byte(`{"name":"mongodb-atlas","type":"mongodb-atlas","config":{"clusterName":"c"}}`)},
	}
	for p, c := range files {
		fsys[p] = &fstest.MapFile{Data: []byte(c)}
	}
	app, err := appconfig.LoadFS(context.Background(), fsys, appconfig.Options{})
	if err != nil {
		t.Fatalf("load app: %v", err)
	}
	return app
}

func tctx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}
