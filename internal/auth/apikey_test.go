package auth

import (
	"errors"
	"testing"

	"github.com/atollhq/atoll/internal/store"

	"go.mongodb.org/mongo-driver/v2/bson"
)

func TestUserAPIKeys(t *testing.T) {
	e := newEnv(t, testApp())
	ctx := ctxT(t)
	if _, err := e.CreateUser("k@x.y", "password1"); err != nil {
		t.Fatal(err)
	}
	owner := e.mustLogin("local-userpass", userpass("k@x.y", "password1"))
	sess, err := e.svc.VerifyRefreshToken(ctx, owner.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	// A6
	k, err := e.svc.CreateUserAPIKey(ctx, sess, "laptop")
	if err != nil || len(k.Key) != 64 || k.Disabled || k.Name != "laptop" {
		t.Fatalf("create: %+v %v", k, err)
	}
	if _, err := e.svc.CreateUserAPIKey(ctx, sess, "laptop"); err == nil {
		t.Fatal("duplicate key name accepted")
	}
	wantCode(t, func() error { _, err := e.svc.CreateUserAPIKey(ctx, sess, ""); return err }(), CodeInvalidParameter, "name")
	list, err := e.svc.UserAPIKeys(ctx, sess)
	if err != nil || len(list) != 1 || list[0].Key != "" || list[0].ID != k.ID {
		t.Fatalf("list %+v %v", list, err)
	}
	got, err := e.svc.UserAPIKey(ctx, sess, k.ID)
	if err != nil || got.Key != "" || got.Name != "laptop" {
		t.Fatalf("fetch %+v %v", got, err)
	}
	byKey := e.mustLogin("api-key", bson.D{{Key: "key", Value: k.Key}})
	if byKey.UserID != owner.UserID {
		t.Fatalf("key login user %s, owner %s", byKey.UserID, owner.UserID)
	}
	keySess, _ := e.svc.VerifyRefreshToken(ctx, byKey.RefreshToken)
	wantCode(t, e.svc.DeleteUserAPIKey(ctx, keySess, k.ID), CodePermissionDenied, "")

	// Disable: login fails, sessions opened with the key end.
	if err := e.svc.DisableUserAPIKey(ctx, sess, k.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.VerifyAccessToken(ctx, byKey.AccessToken); err == nil {
		t.Fatal("session of a disabled key alive")
	}
	if _, err := e.svc.VerifyAccessToken(ctx, owner.AccessToken); err != nil {
		t.Fatal("disabling a key ended the password session")
	}
	_, err = e.login("api-key", bson.D{{Key: "key", Value: k.Key}})
	wantCode(t, err, CodeInvalidPassword, "")
	if err := e.svc.EnableUserAPIKey(ctx, sess, k.ID); err != nil {
		t.Fatal(err)
	}
	e.mustLogin("api-key", bson.D{{Key: "key", Value: k.Key}})

	// Another user cannot see or touch the key.
	other := e.mustLogin("anon-user", bson.D{})
	otherSess, _ := e.svc.VerifyRefreshToken(ctx, other.RefreshToken)
	if _, err := e.svc.UserAPIKey(ctx, otherSess, k.ID); !errors.Is(err, ErrAPIKeyNotFound) {
		t.Fatalf("other user fetch: %v", err)
	}
	if err := e.svc.DeleteUserAPIKey(ctx, otherSess, k.ID); !errors.Is(err, ErrAPIKeyNotFound) {
		t.Fatalf("other user delete: %v", err)
	}
	wantCode(t, func() error { _, err := e.svc.CreateUserAPIKey(ctx, otherSess, "x"); return err }(), CodeBadRequest, "anonymous")

	if err := e.svc.DeleteUserAPIKey(ctx, sess, k.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.login("api-key", bson.D{{Key: "key", Value: k.Key}}); !errors.Is(err, ErrInvalidPassword) {
		t.Fatalf("deleted key: %v", err)
	}
	for _, bad := range []bson.D{{{Key: "key", Value: "nope"}}, {}, {{Key: "key", Value: 12}}} {
		if _, err := e.login("api-key", bad); !errors.Is(err, ErrInvalidPassword) {
			t.Fatalf("bad key %v: %v", bad, err)
		}
	}
	// Keys are stored hashed.
	n, _ := e.st.Database("__atoll").Collection(collAPIKeys).CountDocuments(ctx, bson.D{{Key: "key_hash", Value: k.Key}}, store.CountOptions{})
	if n != 0 {
		t.Fatal("key stored in clear")
	}
}

func TestUserAPIKeyLimit(t *testing.T) {
	e := newEnv(t, testApp())
	ctx := ctxT(t)
	if _, err := e.CreateUser("many@x.y", "password1"); err != nil {
		t.Fatal(err)
	}
	sess, _ := e.svc.VerifyRefreshToken(ctx, e.mustLogin("local-userpass", userpass("many@x.y", "password1")).RefreshToken)
	for i := range MaxUserAPIKeys {
		if _, err := e.svc.CreateUserAPIKey(ctx, sess, string(rune('a'+i))); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.svc.CreateUserAPIKey(ctx, sess, "one too many"); err == nil {
		t.Fatal("21st key accepted")
	}
}

func TestServerAPIKeys(t *testing.T) {
	e := newEnv(t, testApp())
	ctx := ctxT(t)
	k, err := e.svc.CreateServerAPIKey(ctx, "backend")
	if err != nil {
		t.Fatal(err)
	}
	r := e.mustLogin("api-key", bson.D{{Key: "key", Value: k.Key}})
	u, _ := e.svc.User(ctx, r.UserID)
	if u.Type != UserTypeServer || mustString(u.Data, "name") != "backend" || u.ID != k.UserID {
		t.Fatalf("server user %+v", u)
	}
	list, _ := e.svc.ServerAPIKeys(ctx)
	if len(list) != 1 || list[0].Key != "" || list[0].Name != "backend" {
		t.Fatalf("list %+v", list)
	}
	if err := e.svc.DeleteServerAPIKey(ctx, k.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.VerifyAccessToken(ctx, r.AccessToken); err == nil {
		t.Fatal("deleted server key's session alive")
	}
	if _, err := e.login("api-key", bson.D{{Key: "key", Value: k.Key}}); err == nil {
		t.Fatal("deleted server key logs in")
	}
	if _, err := e.svc.User(ctx, k.UserID); !errors.Is(err, ErrUserNotFound) {
		t.Fatal("server user survives its key")
	}
	if err := e.svc.DeleteServerAPIKey(ctx, k.ID); !errors.Is(err, ErrAPIKeyNotFound) {
		t.Fatalf("second delete: %v", err)
	}
}
