package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// b64json encodes a JWT segment.
func b64json(t *testing.T, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func TestTokenAttacks(t *testing.T) {
	e := newEnv(t, testApp())
	ctx := ctxT(t)
	r := e.mustLogin("anon-user", bson.D{})
	ac, rc := claims(t, r.AccessToken), claims(t, r.RefreshToken)
	kid := header(t, r.AccessToken)["kid"].(string)
	parts := strings.Split(r.AccessToken, ".")

	hs := func(key []byte, kid string, c map[string]any) string {
		tok := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims(c))
		if kid != "" {
			tok.Header["kid"] = kid
		}
		s, err := tok.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	with := func(c map[string]any, k string, v any) map[string]any {
		out := map[string]any{}
		for kk, vv := range c {
			out[kk] = vv
		}
		out[k] = v
		return out
	}
	secret := e.svc.keys.current().secret

	attacks := map[string]string{
		"alg none":             b64json(t, map[string]any{"alg": "none", "typ": "JWT", "kid": kid}) + "." + parts[1] + ".",
		"alg none no sig":      b64json(t, map[string]any{"alg": "none", "kid": kid}) + "." + parts[1],
		"wrong kid":            hs(secret, bson.NewObjectID().Hex(), ac),
		"no kid":               hs(secret, "", ac),
		"forged signature":     hs([]byte("0123456789abcdef0123456789abcdef"), kid, ac),
		"tampered payload":     parts[0] + "." + b64json(t, with(ac, "sub", bson.NewObjectID().Hex())) + "." + parts[2],
		"expired":              hs(secret, kid, with(with(ac, "exp", e.clk.now().Add(-time.Minute).Unix()), "iat", e.clk.now().Add(-31*time.Minute).Unix())),
		"no exp":               hs(secret, kid, with(ac, "exp", nil)),
		"issued in the future": hs(secret, kid, with(ac, "iat", e.clk.now().Add(time.Hour).Unix())),
		"refresh as access":    r.RefreshToken,
		"unknown session":      hs(secret, kid, with(ac, "iss", bson.NewObjectID().Hex())),
		"other user's session": hs(secret, kid, with(ac, "sub", bson.NewObjectID().Hex())),
		"garbage":              "not.a.jwt",
		"empty":                "",
		"realm-web 2017 token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJleHAiOjE0ODM5NjE2MDAsImlhdCI6MTQ4Mzk2MTYwMCwic3ViIjoieCJ9.ZXhhbXBsZXNpZ25hdHVyZQ",
		"RS256 header":         "eyJhbGciOiJSUzI1NiIsImtpZCI6IngifQ." + parts[1] + "." + parts[2],
	}
	for name, tok := range attacks {
		_, err := e.svc.VerifyAccessToken(ctx, tok)
		if !errors.Is(err, ErrInvalidSession) {
			t.Errorf("%s: access token accepted or wrong error: %v", name, err)
		}
	}
	refreshAttacks := map[string]string{
		"access as refresh": r.AccessToken,
		"forged refresh":    hs([]byte("0123456789abcdef0123456789abcdef"), kid, rc),
		"alg none refresh":  b64json(t, map[string]any{"alg": "none", "kid": kid}) + "." + strings.Split(r.RefreshToken, ".")[1] + ".",
		"unknown session":   hs(secret, kid, with(rc, "baas_id", bson.NewObjectID().Hex())),
	}
	for name, tok := range refreshAttacks {
		if _, err := e.svc.RefreshAccessToken(ctx, tok); !errors.Is(err, ErrInvalidSession) {
			t.Errorf("%s: refresh accepted or wrong error: %v", name, err)
		}
		if err := e.svc.Logout(ctx, tok); !errors.Is(err, ErrInvalidSession) {
			t.Errorf("%s: logout accepted: %v", name, err)
		}
	}
	// The genuine tokens still work after all that.
	if _, err := e.svc.VerifyAccessToken(ctx, r.AccessToken); err != nil {
		t.Fatal(err)
	}
	var ae *Error
	_, err := e.svc.VerifyAccessToken(ctx, attacks["expired"])
	if !errors.As(err, &ae) || ae.Message != "invalid session: access token expired" {
		t.Fatalf("message %v", err)
	}
	_, err = e.svc.RefreshAccessToken(ctx, refreshAttacks["forged refresh"])
	if !errors.As(err, &ae) || ae.Message != "invalid session: failed to find refresh token" {
		t.Fatalf("message %v", err)
	}
}

func TestAccessTokenExpiresRefreshRenews(t *testing.T) {
	e := newEnv(t, testApp())
	ctx := ctxT(t)
	r := e.mustLogin("anon-user", bson.D{})
	e.clk.advance(31 * time.Minute)
	if _, err := e.svc.VerifyAccessToken(ctx, r.AccessToken); !errors.Is(err, ErrInvalidSession) {
		t.Fatalf("expired access token: %v", err)
	}
	tok, err := e.svc.RefreshAccessToken(ctx, r.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.VerifyAccessToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
}

func TestRefreshTokenLifetime(t *testing.T) {
	e := newEnv(t, testApp())
	ctx := ctxT(t)
	if _, err := e.CreateUser("l@x.y", "password1"); err != nil {
		t.Fatal(err)
	}
	r := e.mustLogin("local-userpass", userpass("l@x.y", "password1"))
	if c := claims(t, r.RefreshToken); c["exp"].(float64)-c["iat"].(float64) != 60*24*3600 {
		t.Fatalf("refresh lifetime %v", c["exp"].(float64)-c["iat"].(float64))
	}
	e.clk.advance(61 * 24 * time.Hour)
	if _, err := e.svc.RefreshAccessToken(ctx, r.RefreshToken); !errors.Is(err, ErrInvalidSession) {
		t.Fatalf("refresh after 61 days: %v", err)
	}
}

func TestSigningKeyRotation(t *testing.T) {
	st := openStore(t)
	e := newEnvOn(t, st, testApp())
	other := newEnvOn(t, st, testApp()) // a second process on the same store
	other.clk = e.clk
	ctx := ctxT(t)
	if e.svc.DomainID() != other.svc.DomainID() {
		t.Fatal("two services on one store disagree on the domain id")
	}
	old := e.mustLogin("anon-user", bson.D{})
	oldKid := header(t, old.AccessToken)["kid"]
	kid, err := e.svc.RotateSigningKey(ctx)
	if err != nil || kid == oldKid {
		t.Fatalf("rotate: %v %v", kid, err)
	}
	fresh := e.mustLogin("anon-user", bson.D{})
	if header(t, fresh.AccessToken)["kid"] != kid {
		t.Fatal("new tokens not signed with the new key")
	}
	for _, svc := range []*Service{e.svc, other.svc} {
		for _, tok := range []string{old.AccessToken, fresh.AccessToken} {
			if _, err := svc.VerifyAccessToken(ctx, tok); err != nil {
				t.Fatalf("verify after rotation: %v", err)
			}
		}
	}
	if err := e.svc.RetireSigningKeys(ctx, e.clk.now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.VerifyAccessToken(ctx, old.AccessToken); !errors.Is(err, ErrInvalidSession) {
		t.Fatalf("token of a retired key: %v", err)
	}
	if _, err := e.svc.VerifyAccessToken(ctx, fresh.AccessToken); err != nil {
		t.Fatal(err)
	}
}

// parseOwn (tokens with this service's exact header) and golang-jwt
// agree on every token: minted ones, and ones altered, forged, expired,
// issued in the future, without exp, or malformed under our header.
func TestParseOwnAgreesWithJWT(t *testing.T) {
	e := newEnv(t, testApp())
	ctx := ctxT(t)
	r := e.mustLogin("anon-user", bson.D{})
	k := e.svc.keys.current()
	parts := strings.Split(r.AccessToken, ".")
	if parts[0] != k.header {
		t.Fatalf("minted header %q is not the recognised one %q", parts[0], k.header)
	}
	ac := claims(t, r.AccessToken)
	with := func(m map[string]any, kv ...any) map[string]any {
		out := map[string]any{}
		for kk, vv := range m {
			out[kk] = vv
		}
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(out, kv[i].(string))
			} else {
				out[kv[i].(string)] = kv[i+1]
			}
		}
		return out
	}
	// signed builds header.payload.signature with our exact header.
	signed := func(key []byte, payload string) string {
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(k.header + "." + payload))
		return k.header + "." + payload + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
	}
	now := e.clk.now()
	tokens := map[string]string{
		"access":             r.AccessToken,
		"refresh":            r.RefreshToken,
		"tampered payload":   parts[0] + "." + b64json(t, with(ac, "sub", bson.NewObjectID().Hex())) + "." + parts[2],
		"forged key":         signed([]byte("0123456789abcdef0123456789abcdef"), parts[1]),
		"expired":            signed(k.secret, b64json(t, with(ac, "exp", now.Add(-time.Second).Unix()))),
		"exp now":            signed(k.secret, b64json(t, with(ac, "exp", now.Unix()))),
		"no exp":             signed(k.secret, b64json(t, with(ac, "exp", nil))),
		"iat in the future":  signed(k.secret, b64json(t, with(ac, "iat", now.Add(time.Minute).Unix()))),
		"no iat":             signed(k.secret, b64json(t, with(ac, "iat", nil))),
		"payload not json":   signed(k.secret, base64.RawURLEncoding.EncodeToString([]byte("not json"))),
		"payload not base64": signed(k.secret, "!!!"),
		"padded signature":   r.AccessToken + "=",
		"four segments":      r.AccessToken + ".x",
		"two segments":       parts[0] + "." + parts[1],
		"empty signature":    parts[0] + "." + parts[1] + ".",
	}
	for name, tok := range tokens {
		var own, lib accessClaims
		handled, errOwn := e.svc.parseOwn(tok, &own)
		if !handled {
			t.Fatalf("%s: not handled by parseOwn", name)
		}
		errLib := e.svc.parseJWT(ctx, tok, &lib)
		if (errOwn == nil) != (errLib == nil) {
			t.Fatalf("%s: parseOwn %v, golang-jwt %v", name, errOwn, errLib)
		}
		if errOwn == nil && (own.Sub != lib.Sub || own.Exp != lib.Exp || own.Iss != lib.Iss) {
			t.Fatalf("%s: claims differ: %+v %+v", name, own, lib)
		}
	}
	// Another header (another kid, alg, field order) is left to golang-jwt.
	other := b64json(t, map[string]any{"alg": "HS256", "kid": k.kid}) + "." + parts[1] + "." + parts[2]
	if handled, _ := e.svc.parseOwn(other, &accessClaims{}); handled {
		t.Fatal("a header other than ours was handled")
	}
	if _, err := e.svc.VerifyAccessToken(ctx, other); !errors.Is(err, ErrInvalidSession) {
		t.Fatalf("re-encoded header with the old signature: %v", err)
	}
}
