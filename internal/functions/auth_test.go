package functions

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/auth"
	"github.com/atollhq/atoll/internal/dataaccess"
	"github.com/atollhq/atoll/internal/store/embedded"
)

// TestAuthWiring runs the seed resetFunc as the local-userpass reset
// function through AuthRunner, and a run_as_user_id function resolved by
// AuthUsers.
func TestAuthWiring(t *testing.T) {
	ctx := tctx(t)
	files := fnFiles(map[string]string{
		"resetFunc": seedSources["resetFunc"],
		"asUser":    `exports = () => [context.user.id, context.runningAsSystem()]`,
		"whoRuns":   `exports = async () => { const u = await context.services.get("mongodb-atlas").db("Item").collection("User").find({}).toArray(); return u.length }`,
	}, `[{"name":"resetFunc"},{"name":"asUser"},{"name":"whoRuns","run_as_user_id":"%s"}]`)
	files["auth/providers.json"] = `{"local-userpass":{"name":"local-userpass","type":"local-userpass","config":{"autoConfirm":true,"resetFunctionName":"resetFunc","runResetFunction":true,"runConfirmationFunction":false},"disabled":false}}`
	files["data_sources/mongodb-atlas/Item/User/rules.json"] = userRules

	st, err := embedded.Open(ctx, t.TempDir(), embedded.Options{SyncOff: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close(context.Background()) })
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc, err := auth.New(ctx, auth.Options{Store: st, App: testApp(t, files), Logger: quiet, Argon2: auth.Argon2Params{Time: 1, Memory: 64, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close() })
	u, err := svc.CreateEmailPasswordUser(ctx, "carol@x.org", "password1")
	if err != nil {
		t.Fatal(err)
	}
	// The manifest names the user now that we know the id.
	files["functions/config.json"] = strings.Replace(files["functions/config.json"], "%s", u.ID, 1)
	app := testApp(t, files)
	da, err := dataaccess.New(app, st, dataaccess.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { da.Close() })
	var fnLog bytes.Buffer
	e, err := New(app, Config{Data: da, Store: st, Users: AuthUsers{S: svc}, Logger: slog.New(slog.NewTextHandler(&fnLog, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	svc.SetFunctions(AuthRunner{E: e})

	// resetFunc answers {status: "fail"}: the reset is refused.
	err = svc.CallResetFunction(ctx, "127.0.0.1", "carol@x.org", "password2", bson.A{})
	if err == nil {
		t.Errorf("reset accepted")
	}
	if !strings.Contains(fnLog.String(), "function=resetFunc") {
		t.Errorf("resetFunc did not run; log: %s", fnLog.String())
	}
	// run_as_user_id: the function reads as carol (rules: only her own
	// document, and there is none).
	if _, err := st.Database("Item").Collection("User").InsertOne(ctx, bson.D{{Key: "_id", Value: "someone"}}); err != nil {
		t.Fatal(err)
	}
	got, err := e.Call(ctx, SystemCaller(), "whoRuns", nil)
	if err != nil || got != int32(0) {
		t.Errorf("whoRuns as carol: %#v %v", got, err)
	}
	carol, err := AuthUsers{S: svc}.FunctionUser(ctx, u.ID)
	if err != nil || carol.ID != u.ID || len(carol.Data) == 0 {
		t.Errorf("FunctionUser: %#v %v", carol, err)
	}
	if _, err := (AuthUsers{S: svc}).FunctionUser(ctx, "000000000000000000000000"); err == nil {
		t.Errorf("unknown user resolved")
	}
}
