package auth

import (
	"errors"
	"strings"
	"testing"

	"github.com/atollhq/atoll/internal/appconfig"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func customDataApp(fn string) *appconfig.App {
	app := testApp()
	app.CustomUserData = &appconfig.CustomUserData{Enabled: true, MongoServiceName: "mongodb-atlas",
		DatabaseName: "store", CollectionName: "userData", UserIDField: "userId", OnUserCreationFunctionName: fn}
	return app
}

func TestCustomUserData(t *testing.T) {
	e := newEnv(t, customDataApp(""))
	ctx := ctxT(t)
	coll := e.st.Database("store").Collection("userData")
	r := e.mustLogin("anon-user", bson.D{})
	if _, ok := claims(t, r.AccessToken)["user_data"]; ok {
		t.Fatal("user_data without a document")
	}
	// A8: insert, refresh, see it.
	ins := func(d bson.D) {
		if _, err := coll.InsertOne(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	oid := mustOID(r.UserID)
	ins(bson.D{{Key: "_id", Value: bson.NewObjectID()}, {Key: "userId", Value: oid}, {Key: "team", Value: "objectid-form"}})
	tok, err := e.svc.RefreshAccessToken(ctx, r.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if ud := claims(t, tok)["user_data"].(map[string]any); ud["team"] != "objectid-form" {
		t.Fatalf("user_data %v", ud)
	}
	// A string-id document wins over an ObjectId one; among several the
	// smallest _id (first inserted) wins.
	ins(bson.D{{Key: "_id", Value: bson.NewObjectID()}, {Key: "userId", Value: r.UserID}, {Key: "team", Value: "x"}, {Key: "n", Value: int32(5)}})
	ins(bson.D{{Key: "_id", Value: bson.NewObjectID()}, {Key: "userId", Value: r.UserID}, {Key: "team", Value: "later"}})
	tok, _ = e.svc.RefreshAccessToken(ctx, r.RefreshToken)
	ud := claims(t, tok)["user_data"].(map[string]any)
	if ud["team"] != "x" || ud["n"] != float64(5) || ud["userId"] != r.UserID {
		t.Fatalf("user_data %v (relaxed EJSON expected)", ud)
	}
	c, err := e.svc.VerifyAccessToken(ctx, tok)
	if err != nil || mustString(c.CustomData, "team") != "x" {
		t.Fatalf("caller custom data %v %v", c, err)
	}
	// Login reads it too.
	cd, err := e.svc.CustomData(ctx, r.UserID)
	if err != nil || mustString(cd, "team") != "x" {
		t.Fatalf("CustomData %v %v", cd, err)
	}
	// The document under another user's id is not ours.
	other := e.mustLogin("anon-user", bson.D{})
	if _, ok := claims(t, other.AccessToken)["user_data"]; ok {
		t.Fatal("another user's data leaked")
	}
	// Disabled config: nothing.
	e.svc.SetApp(testApp())
	tok, _ = e.svc.RefreshAccessToken(ctx, r.RefreshToken)
	if _, ok := claims(t, tok)["user_data"]; ok {
		t.Fatal("user_data with custom user data disabled")
	}
}

func TestCustomUserDataSizeWarning(t *testing.T) {
	e := newEnv(t, customDataApp(""))
	ctx := ctxT(t)
	r := e.mustLogin("anon-user", bson.D{})
	if _, err := e.st.Database("store").Collection("userData").InsertOne(ctx,
		bson.D{{Key: "userId", Value: r.UserID}, {Key: "blob", Value: strings.Repeat("x", MaxCustomDataSize)}}); err != nil {
		t.Fatal(err)
	}
	tok, err := e.svc.RefreshAccessToken(ctx, r.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(e.logs.String(), "custom user data is larger than advised") {
		t.Fatal("no size warning")
	}
	if strings.Contains(e.logs.String(), tok) {
		t.Fatal("token in the log")
	}
}

func TestUserCreationFunction(t *testing.T) {
	e := newEnv(t, customDataApp("onUserCreation"))
	ctx := ctxT(t)
	var seen []bson.D
	e.fn.fns["onUserCreation"] = func(args ...any) (any, error) {
		u := args[0].(bson.D)
		seen = append(seen, u)
		if mustString(u, "type") != "normal" {
			return nil, errors.New("bad type")
		}
		ids, _ := lookup(u, "identities")
		id0 := ids.(bson.A)[0].(bson.D)
		if mustString(id0, "provider_type") == "custom-function" {
			return nil, errors.New("no custom-function users here")
		}
		// Write the custom data document, as the seed's example does; the
		// first token must already carry it.
		_, err := e.st.Database("store").Collection("userData").InsertOne(ctx, bson.D{{Key: "userId", Value: mustString(u, "id")}, {Key: "fresh", Value: true}})
		return nil, err
	}
	r := e.mustLogin("anon-user", bson.D{})
	if len(seen) != 1 || mustString(seen[0], "id") != r.UserID {
		t.Fatalf("function saw %v", seen)
	}
	if ud, _ := claims(t, r.AccessToken)["user_data"].(map[string]any); ud["fresh"] != true {
		t.Fatalf("first token lacks the created data: %v", ud)
	}
	// Not on later logins.
	if _, err := e.CreateUser("c@x.y", "password1"); err != nil {
		t.Fatal(err)
	}
	e.mustLogin("local-userpass", userpass("c@x.y", "password1"))
	if len(seen) != 2 {
		t.Fatalf("function ran %d times", len(seen))
	}
	// A throw aborts creation: no user, and the identity stays free.
	e.fn.fns["customAuth"] = func(args ...any) (any, error) { return "ext-9", nil }
	_, err := e.login("custom-function", bson.D{})
	wantCode(t, err, CodeFunctionExecution, "no custom-function users here")
	users, _ := e.svc.ListUsers(ctx, ListUsersOptions{})
	if len(users) != 2 {
		t.Fatalf("%d users after an aborted creation", len(users))
	}
	delete(e.fn.fns, "onUserCreation")
	e.fn.fns["onUserCreation"] = func(args ...any) (any, error) { return nil, nil }
	e.mustLogin("custom-function", bson.D{})
}

func TestListUsersPages(t *testing.T) {
	e := newEnv(t, testApp())
	ctx := ctxT(t)
	var ids []string
	for range 5 {
		ids = append(ids, e.mustLogin("anon-user", bson.D{}).UserID)
	}
	p1, _ := e.svc.ListUsers(ctx, ListUsersOptions{Limit: 2})
	p2, _ := e.svc.ListUsers(ctx, ListUsersOptions{Limit: 2, After: p1[1].ID})
	desc, _ := e.svc.ListUsers(ctx, ListUsersOptions{Desc: true})
	if len(p1) != 2 || len(p2) != 2 || p1[0].ID != ids[0] || p2[0].ID != ids[2] || desc[0].ID != ids[4] || len(desc) != 5 {
		t.Fatalf("pages %v %v %v", p1, p2, desc)
	}
	if !p1[0].LastLoginAt.Equal(e.clk.now()) || !p1[0].CreatedAt.Equal(e.clk.now()) {
		t.Fatalf("times %v %v", p1[0].CreatedAt, p1[0].LastLoginAt)
	}
}
