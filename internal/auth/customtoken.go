package auth

import (
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/atollhq/atoll/internal/appconfig"
	"github.com/golang-jwt/jwt/v5"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// Limits of the custom-token provider (App Services documents the same).
const (
	maxCustomTokenLength   = 1_000_000
	maxMetadataValueLength = 4096
	maxJWKSBytes           = 1 << 20
	maxJWKSKeys            = 3
	jwksCacheTTL           = 5 * time.Minute
)

// customTokenLogin verifies an externally issued JWT and maps it to an
// identity: `sub` is the identity id, metadata_fields become its data.
func (s *Service) customTokenLogin(ctx context.Context, prov *appconfig.AuthProvider, clientIP string, body bson.D) (Identity, error) {
	if err := s.limit(ctx, clientIP, ""); err != nil {
		return Identity{}, err
	}
	fail := func(reason string, err error) (Identity, error) {
		s.log.DebugContext(ctx, "auth: custom token refused", "reason", reason, "err", err)
		return Identity{}, &Error{Code: CodeAuthError, Message: "unauthorized: invalid custom token: " + reason, Err: err}
	}
	token, _ := bodyString(body, "token")
	if token == "" || len(token) > maxCustomTokenLength {
		return fail("missing or oversized token", nil)
	}
	cfg := prov.Config
	if cfg == nil {
		cfg = &appconfig.ProviderConfig{}
	}
	alg := cfg.SigningAlgorithm
	if alg == "" {
		alg = "HS256"
	}
	if alg != "HS256" && alg != "RS256" {
		return fail("unsupported signing algorithm", fmt.Errorf("algorithm %q", alg))
	}
	keys, err := s.customTokenKeys(ctx, prov, alg)
	if err != nil {
		return Identity{}, s.internalError(ctx, "custom-token keys", err)
	}
	if len(keys) == 0 {
		return Identity{}, s.internalError(ctx, "custom-token keys", errors.New("no signing keys configured"))
	}
	var (
		claims  jwt.MapClaims
		lastErr error
	)
	for _, k := range keys {
		claims = jwt.MapClaims{}
		_, lastErr = jwt.ParseWithClaims(token, claims, func(t *jwt.Token) (any, error) {
			if k.kid != "" {
				if kid, _ := t.Header["kid"].(string); kid != k.kid {
					return nil, errors.New("kid does not match")
				}
			}
			return k.key, nil
		}, jwt.WithValidMethods([]string{alg}), jwt.WithExpirationRequired(), jwt.WithIssuedAt(), jwt.WithTimeFunc(s.now))
		if lastErr == nil {
			break
		}
	}
	if lastErr != nil {
		return fail("signature or time claims", lastErr)
	}
	if err := checkAudience(claims, cfg, s.app.Load()); err != nil {
		return fail("audience", err)
	}
	sub, _ := claims["sub"].(string)
	if sub == "" {
		return fail("no sub claim", nil)
	}
	data := bson.D{}
	for _, f := range prov.MetadataFields {
		if f == nil || f.Name == "" {
			continue
		}
		path := splitEscapedPath(f.Name)
		v, ok := claimAt(claims, path)
		if !ok || v == nil {
			if f.Required {
				return fail("required metadata field "+f.Name+" missing", nil)
			}
			continue
		}
		if b, err := json.Marshal(v); err != nil || len(b) > maxMetadataValueLength {
			return fail("metadata field "+f.Name+" too large", err)
		}
		name := f.FieldName
		if name == "" {
			name = path[len(path)-1]
		}
		data = append(data, bson.E{Key: name, Value: jsonToBSON(v)})
	}
	return Identity{ID: sub, ProviderType: ProviderCustomToken, ProviderData: data}, nil
}

// checkAudience applies `audience` (all of them, or any with
// requireAnyAudience); without one the app id is expected.
func checkAudience(claims jwt.MapClaims, cfg *appconfig.ProviderConfig, app *appconfig.App) error {
	got, err := claims.GetAudience()
	if err != nil {
		return err
	}
	want := cfg.Audience.Values
	if len(want) == 0 || (len(want) == 1 && want[0] == "") {
		if app == nil || app.AppID == "" {
			return nil
		}
		want = []string{app.AppID}
	}
	has := map[string]bool{}
	for _, a := range got {
		has[a] = true
	}
	n := 0
	for _, w := range want {
		if has[w] {
			n++
		}
	}
	if (cfg.RequireAnyAudience && n > 0) || (!cfg.RequireAnyAudience && n == len(want)) {
		return nil
	}
	return fmt.Errorf("token audience %v does not satisfy %v", []string(got), want)
}

// splitEscapedPath splits a dotted path where `\.` is a literal dot.
func splitEscapedPath(p string) []string {
	var out []string
	var cur strings.Builder
	for i := 0; i < len(p); i++ {
		if p[i] == '\\' && i+1 < len(p) && p[i+1] == '.' {
			cur.WriteByte('.')
			i++
			continue
		}
		if p[i] == '.' {
			out = append(out, cur.String())
			cur.Reset()
			continue
		}
		cur.WriteByte(p[i])
	}
	return append(out, cur.String())
}

func claimAt(claims map[string]any, path []string) (any, bool) {
	var cur any = claims
	for _, seg := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			if mc, ok2 := cur.(jwt.MapClaims); ok2 {
				m = mc
			} else {
				return nil, false
			}
		}
		cur, ok = m[seg]
		if !ok {
			return nil, false
		}
	}
	return cur, true
}

// jsonToBSON turns decoded JSON into BSON values (objects as bson.D with
// sorted keys, since JSON objects have no order once decoded).
func jsonToBSON(v any) any {
	switch t := v.(type) {
	case map[string]any:
		d := bson.D{}
		for _, k := range sortedKeys(t) {
			d = append(d, bson.E{Key: k, Value: jsonToBSON(t[k])})
		}
		return d
	case []any:
		a := bson.A{}
		for _, e := range t {
			a = append(a, jsonToBSON(e))
		}
		return a
	case float64:
		if t == float64(int64(t)) && t >= -(1<<53) && t <= 1<<53 {
			if t >= -(1<<31) && t < 1<<31 {
				return int32(t)
			}
			return int64(t)
		}
	}
	return v
}

type verifyKey struct {
	kid string
	key any
}

// customTokenKeys returns the keys to try: the JWKS (RS256, by kid) or the
// secrets (or values) named in secret_config.signingKeys.
func (s *Service) customTokenKeys(ctx context.Context, prov *appconfig.AuthProvider, alg string) ([]verifyKey, error) {
	cfg := prov.Config
	if cfg != nil && cfg.UseJWKURI {
		if alg != "RS256" {
			return nil, errors.New("a JWK URI needs RS256")
		}
		return s.jwks.get(ctx, cfg.JWKURI)
	}
	app := s.app.Load()
	var out []verifyKey
	for _, name := range prov.SecretConfig["signingKeys"].Values {
		secret, err := app.Secret(name)
		if err != nil {
			raw, ok := app.Value(name)
			if !ok || json.Unmarshal(raw, &secret) != nil {
				return nil, fmt.Errorf("signing key %q: %w", name, err)
			}
		}
		if alg == "HS256" {
			out = append(out, verifyKey{key: []byte(secret)})
			continue
		}
		pub, err := jwt.ParseRSAPublicKeyFromPEM([]byte(secret))
		if err != nil {
			return nil, fmt.Errorf("signing key %q: %w", name, err)
		}
		out = append(out, verifyKey{key: pub})
	}
	return out, nil
}

// jwksCache keeps fetched key sets for jwksCacheTTL.
type jwksCache struct {
	mu sync.Mutex
	m  map[string]jwksEntry
}

type jwksEntry struct {
	keys []verifyKey
	at   time.Time
}

func (c *jwksCache) get(ctx context.Context, uri string) ([]verifyKey, error) {
	c.mu.Lock()
	e, ok := c.m[uri]
	c.mu.Unlock()
	if ok && time.Since(e.at) < jwksCacheTTL {
		return e.keys, nil
	}
	raw, err := readJWKS(ctx, uri)
	if err != nil {
		return nil, err
	}
	keys, err := parseJWKS(raw)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.m == nil {
		c.m = map[string]jwksEntry{}
	}
	c.m[uri] = jwksEntry{keys: keys, at: time.Now()}
	c.mu.Unlock()
	return keys, nil
}

// readJWKS reads a JWKS from an http(s) URL, a file:// URL or a path.
func readJWKS(ctx context.Context, uri string) ([]byte, error) {
	switch {
	case strings.HasPrefix(uri, "http://"), strings.HasPrefix(uri, "https://"):
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, uri, nil)
		if err != nil {
			return nil, err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, fmt.Errorf("fetch JWKS: %w", err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("fetch JWKS: status %d", resp.StatusCode)
		}
		return io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes))
	case strings.HasPrefix(uri, "file://"):
		uri = strings.TrimPrefix(uri, "file://")
	}
	f, err := os.Open(uri)
	if err != nil {
		return nil, fmt.Errorf("read JWKS: %w", err)
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, maxJWKSBytes))
}

func parseJWKS(raw []byte) ([]verifyKey, error) {
	var set struct {
		Keys []struct {
			Kty string `json:"kty"`
			Kid string `json:"kid"`
			Use string `json:"use"`
			N   string `json:"n"`
			E   string `json:"e"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(raw, &set); err != nil {
		return nil, fmt.Errorf("parse JWKS: %w", err)
	}
	var out []verifyKey
	for _, k := range set.Keys {
		if k.Kty != "RSA" || (k.Use != "" && k.Use != "sig") {
			continue
		}
		n, err1 := base64.RawURLEncoding.DecodeString(strings.TrimRight(k.N, "="))
		e, err2 := base64.RawURLEncoding.DecodeString(strings.TrimRight(k.E, "="))
		if err1 != nil || err2 != nil || len(n) < 256 || len(e) == 0 || len(e) > 4 {
			continue
		}
		exp := 0
		for _, b := range e {
			exp = exp<<8 | int(b)
		}
		out = append(out, verifyKey{kid: k.Kid, key: &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: exp}})
		if len(out) == maxJWKSKeys {
			break
		}
	}
	if len(out) == 0 {
		return nil, errors.New("JWKS has no usable RSA signing key (2048 bits or more)")
	}
	return out, nil
}
