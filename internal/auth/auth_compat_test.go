package auth

// Tests for docs/compat.md entries of the auth package that no other test
// held on its own.

import (
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
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
