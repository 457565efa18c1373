package auth

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/atollhq/atoll/internal/appconfig"
	"github.com/golang-jwt/jwt/v5"
	"go.mongodb.org/mongo-driver/v2/bson"
)

const jwtKey = "2k66QfKeTRk3MdZ5vpDYgZCu2k66QfKeTRk3MdZ5vpDYgZCu"

func signHS(t *testing.T, key string, c jwt.MapClaims) string {
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString([]byte(key))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestCustomTokenHS256(t *testing.T) {
	e := newEnv(t, testApp())
	ctx := ctxT(t)
	now := e.clk.now()
	base := func() jwt.MapClaims {
		return jwt.MapClaims{"sub": "ext-1", "aud": "myapp-abcde", "exp": int64(4070908800), "iat": now.Unix(),
			"mySecretField": "foo", "id": "one", "user_data": map[string]any{"license": "one-two-three"}}
	}
	tok := func(c jwt.MapClaims) bson.D { return bson.D{{Key: "token", Value: signHS(t, jwtKey, c)}} }

	r := e.mustLogin("custom-token", tok(base()))
	u, _ := e.svc.User(ctx, r.UserID)
	want := bson.D{{Key: "secret", Value: "foo"}, {Key: "id", Value: "one"}, {Key: "license", Value: "one-two-three"}}
	if !docEqual(u.Data, want) || u.Identities[0].ID != "ext-1" || !docEqual(u.Identities[0].ProviderData, want) {
		t.Fatalf("data %v identities %+v", u.Data, u.Identities)
	}
	// Same sub: same user, metadata refreshed.
	c := base()
	c["id"] = "two"
	r2 := e.mustLogin("custom-token", tok(c))
	u2, _ := e.svc.User(ctx, r2.UserID)
	if r2.UserID != r.UserID || mustString(u2.Data, "id") != "two" || mustString(u2.Identities[0].ProviderData, "id") != "two" {
		t.Fatalf("second login %s %v", r2.UserID, u2)
	}
	// The access token is 30 minutes whatever the external exp.
	if ac := claims(t, r.AccessToken); ac["exp"].(float64)-ac["iat"].(float64) != 1800 {
		t.Fatal("custom JWT changed the access token lifetime")
	}

	bad := map[string]jwt.MapClaims{
		"expired":              with(base(), "exp", now.Add(-time.Second).Unix()),
		"no exp":               with(base(), "exp", nil),
		"not yet valid":        with(base(), "nbf", now.Add(time.Hour).Unix()),
		"issued in the future": with(base(), "iat", now.Add(time.Hour).Unix()),
		"wrong audience":       with(base(), "aud", "other-app"),
		"no audience":          with(base(), "aud", nil),
		"missing required":     with(base(), "mySecretField", nil),
		"no sub":               with(base(), "sub", nil),
	}
	for name, c := range bad {
		_, err := e.login("custom-token", tok(c))
		wantCode(t, err, CodeAuthError, "")
		_ = name
	}
	for name, body := range map[string]bson.D{
		"forged":                         {{Key: "token", Value: signHS(t, "another-key-another-key-another-key-1234", base())}},
		"none":                           {{Key: "token", Value: noneToken(t, base())}},
		"empty":                          {},
		"garbage":                        {{Key: "token", Value: "a.b.c"}},
		"RS256 when HS256 is configured": {{Key: "token", Value: signRS(t, mustRSA(t), "", base())}},
	} {
		if _, err := e.login("custom-token", body); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func with(c jwt.MapClaims, k string, v any) jwt.MapClaims {
	out := jwt.MapClaims{}
	for kk, vv := range c {
		out[kk] = vv
	}
	if v == nil {
		delete(out, k)
	} else {
		out[k] = v
	}
	return out
}

func docEqual(a, b bson.D) bool {
	x, _ := bson.MarshalExtJSON(a, true, false)
	y, _ := bson.MarshalExtJSON(b, true, false)
	return string(x) == string(y)
}

func noneToken(t *testing.T, c jwt.MapClaims) string {
	s, err := jwt.NewWithClaims(jwt.SigningMethodNone, c).SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustRSA(t *testing.T) *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func signRS(t *testing.T, k *rsa.PrivateKey, kid string, c jwt.MapClaims) string {
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, c)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(k)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestCustomTokenAudienceRules(t *testing.T) {
	cases := []struct {
		aud    []string
		any    bool
		token  any
		accept bool
	}{
		{[]string{"a", "b"}, false, []string{"a", "b", "c"}, true},
		{[]string{"a", "b"}, false, []string{"a"}, false},
		{[]string{"a", "b"}, true, []string{"b"}, true},
		{[]string{"a", "b"}, true, "c", false},
		{nil, false, "myapp-abcde", true},
		{nil, false, "a", false},
	}
	for i, c := range cases {
		app := testApp()
		app.AuthProviders["custom-token"].Config.Audience = appconfig.StringList{Values: c.aud}
		app.AuthProviders["custom-token"].Config.RequireAnyAudience = c.any
		app.AuthProviders["custom-token"].MetadataFields = nil
		e := newEnv(t, app)
		_, err := e.login("custom-token", bson.D{{Key: "token", Value: signHS(t, jwtKey, jwt.MapClaims{"sub": "s", "aud": c.token, "exp": int64(4070908800)})}})
		if (err == nil) != c.accept {
			t.Errorf("case %d: err %v, want accept=%v", i, err, c.accept)
		}
	}
}

func TestCustomTokenRS256JWKS(t *testing.T) {
	k1, k2 := mustRSA(t), mustRSA(t)
	jwk := func(kid string, k *rsa.PrivateKey) map[string]any {
		return map[string]any{"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
			"n": base64.RawURLEncoding.EncodeToString(k.N.Bytes()),
			"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(k.E)).Bytes())}
	}
	raw, _ := json.Marshal(map[string]any{"keys": []any{jwk("one", k1), jwk("two", k2)}})
	path := filepath.Join(t.TempDir(), "jwks.json")
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	app := testApp()
	p := app.AuthProviders["custom-token"]
	p.Config = &appconfig.ProviderConfig{SigningAlgorithm: "RS256", UseJWKURI: true, JWKURI: "file://" + path}
	p.MetadataFields = nil
	e := newEnv(t, app)
	c := jwt.MapClaims{"sub": "rs", "aud": "myapp-abcde", "exp": int64(4070908800)}
	e.mustLogin("custom-token", bson.D{{Key: "token", Value: signRS(t, k2, "two", c)}})

	// The same key set served over HTTP (loopback).
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(raw) }))
	defer srv.Close()
	app2 := testApp()
	app2.AuthProviders["custom-token"] = &appconfig.AuthProvider{Name: "custom-token", Type: "custom-token",
		Config: &appconfig.ProviderConfig{SigningAlgorithm: "RS256", UseJWKURI: true, JWKURI: srv.URL + "/jwks.json"}}
	e2 := newEnv(t, app2)
	e2.mustLogin("custom-token", bson.D{{Key: "token", Value: signRS(t, k1, "one", c)}})
	for name, tok := range map[string]string{
		"wrong kid":                     signRS(t, k2, "one", c),
		"no kid":                        signRS(t, k1, "", c),
		"HS256 with the public modulus": signHS(t, jwk("one", k1)["n"].(string), c),
		"unknown key":                   signRS(t, mustRSA(t), "one", c),
	} {
		if _, err := e.login("custom-token", bson.D{{Key: "token", Value: tok}}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
