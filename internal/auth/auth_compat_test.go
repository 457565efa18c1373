package auth

// Tests for docs/compat.md entries of the auth package that no other test
// held on its own.

import (
	"errors"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/appconfig"
)

// Anonymous refresh tokens last 50 years (App Services keeps anonymous
// sessions until the user is cleaned up, which Atoll does not do).
func TestCompatAnonymousRefreshLifetime(t *testing.T) {
	e := newEnv(t, testApp())
	r := e.mustLogin("anon-user", bson.D{})
	c := claims(t, r.RefreshToken)
	if got := c["exp"].(float64) - c["iat"].(float64); got != 50*365*24*3600 {
		t.Fatalf("anonymous refresh lifetime %v s", got)
	}
}

// custom_user_data's mongo_service_name is ignored: there is one store, and
// the document is read from it whatever service the config names.
func TestCompatCustomDataIgnoresServiceName(t *testing.T) {
	app := customDataApp("")
	app.CustomUserData.MongoServiceName = "some-other-cluster"
	e := newEnv(t, app)
	ctx := ctxT(t)
	r := e.mustLogin("anon-user", bson.D{})
	if _, err := e.st.Database("store").Collection("userData").InsertOne(ctx,
		bson.D{{Key: "userId", Value: r.UserID}, {Key: "team", Value: "red"}}); err != nil {
		t.Fatal(err)
	}
	tok, err := e.svc.RefreshAccessToken(ctx, r.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	ud, ok := claims(t, tok)["user_data"].(map[string]any)
	if !ok || ud["team"] != "red" {
		t.Fatalf("user_data %v", claims(t, tok)["user_data"])
	}
}

// User API keys are not identities: the user's identity list does not grow,
// a key's session names the key id as its identity, and API-key
// credentials cannot be linked to a user.
func TestCompatAPIKeysAreNotIdentities(t *testing.T) {
	e := newEnv(t, testApp())
	ctx := ctxT(t)
	if _, err := e.CreateUser("id@x.y", "password1"); err != nil {
		t.Fatal(err)
	}
	owner := e.mustLogin("local-userpass", userpass("id@x.y", "password1"))
	sess, err := e.svc.VerifyRefreshToken(ctx, owner.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	k, err := e.svc.CreateUserAPIKey(ctx, sess, "ci")
	if err != nil {
		t.Fatal(err)
	}
	byKey := e.mustLogin("api-key", bson.D{{Key: "key", Value: k.Key}})
	u, err := e.svc.User(ctx, owner.UserID)
	if err != nil || len(u.Identities) != 1 || u.Identities[0].ProviderType != "local-userpass" {
		t.Fatalf("identities %+v %v", u, err)
	}
	keySess, err := e.svc.VerifyRefreshToken(ctx, byKey.RefreshToken)
	if err != nil || keySess.Identity.ID != k.ID || keySess.Identity.ProviderType != "api-key" {
		t.Fatalf("key session identity %+v %v", keySess, err)
	}
	caller, err := e.svc.VerifyAccessToken(ctx, owner.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.Login(ctx, LoginRequest{Provider: "api-key", Body: bson.D{{Key: "key", Value: k.Key}}, Link: caller})
	wantCode(t, err, CodeBadRequest, "")
}

// Creating a server API key creates its server user, which fires the
// CREATE authentication event as any other user creation does.
func TestCompatServerAPIKeyFiresCreate(t *testing.T) {
	e := newEnv(t, testApp())
	if _, err := e.svc.CreateServerAPIKey(ctxT(t), "backend"); err != nil {
		t.Fatal(err)
	}
	var creates int
	for _, ev := range *e.hooks {
		if ev.Operation == "CREATE" && len(ev.Providers) == 1 && ev.Providers[0] == "api-key" {
			creates++
		}
	}
	if creates != 1 {
		t.Fatalf("events %+v: want one CREATE for api-key", *e.hooks)
	}
}

// Logging out an anonymous user ends the session but keeps the user (App
// Services' behaviour here is undocumented; nothing purges it later).
func TestCompatAnonymousLogoutKeepsUser(t *testing.T) {
	e := newEnv(t, testApp())
	ctx := ctxT(t)
	r := e.mustLogin("anon-user", bson.D{})
	if err := e.svc.Logout(ctx, r.RefreshToken); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.RefreshAccessToken(ctx, r.RefreshToken); err == nil {
		t.Fatal("the session outlived logout")
	}
	if u, err := e.svc.User(ctx, r.UserID); err != nil || u.ID != r.UserID {
		t.Fatalf("anonymous user after logout: %+v %v", u, err)
	}
}

// Known difference: OAuth 2.0 providers (Google, Facebook, Apple) load and
// export, but logging in with one answers "provider not found", as for a
// disabled provider.
func TestCompatOAuth2ProvidersNotServed(t *testing.T) {
	app := testApp()
	app.AuthProviders["oauth2-google"] = &appconfig.AuthProvider{Name: "oauth2-google", Type: "oauth2-google"}
	e := newEnv(t, app)
	if _, err := e.login("oauth2-google", bson.D{{Key: "authCode", Value: "x"}}); !errors.Is(err, ErrProviderNotFound) {
		t.Fatalf("oauth2 login: %v", err)
	}
}
