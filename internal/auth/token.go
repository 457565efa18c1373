package auth

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// Token types (the `typ` claim).
const (
	typAccess  = "access"
	typRefresh = "refresh"
)

// The algorithm Atoll signs and accepts for its own tokens; anything else
// (including "none") is refused before a key is looked up.
var ownMethods = []string{jwt.SigningMethodHS256.Alg()}

type identityClaim struct {
	ID           string `json:"id"`
	ProviderType string `json:"provider_type"`
	ProviderID   string `json:"provider_id"`
}

// accessClaims is the App Services access token claim set, with the legacy
// stitch_* duplicates.
type accessClaims struct {
	DeviceID       string          `json:"baas_device_id"`
	DomainID       string          `json:"baas_domain_id"`
	Exp            int64           `json:"exp"`
	Iat            int64           `json:"iat"`
	Iss            string          `json:"iss"`
	StitchDevID    string          `json:"stitch_devId"`
	StitchDomainID string          `json:"stitch_domainId"`
	Sub            string          `json:"sub"`
	Typ            string          `json:"typ"`
	UserData       json.RawMessage `json:"user_data,omitempty"`
}

// refreshClaims is the App Services refresh token claim set.
type refreshClaims struct {
	Data           *struct{}     `json:"baas_data"`
	DeviceID       string        `json:"baas_device_id"`
	DomainID       string        `json:"baas_domain_id"`
	ID             string        `json:"baas_id"`
	Identity       identityClaim `json:"baas_identity"`
	Exp            int64         `json:"exp"`
	Iat            int64         `json:"iat"`
	StitchData     *struct{}     `json:"stitch_data"`
	StitchDevID    string        `json:"stitch_devId"`
	StitchDomainID string        `json:"stitch_domainId"`
	StitchID       string        `json:"stitch_id"`
	StitchIdent    identityClaim `json:"stitch_ident"`
	Sub            string        `json:"sub"`
	Typ            string        `json:"typ"`
}

// The jwt.Claims methods, so the library validates exp and iat.
func (c *accessClaims) GetExpirationTime() (*jwt.NumericDate, error)  { return numericDate(c.Exp), nil }
func (c *accessClaims) GetIssuedAt() (*jwt.NumericDate, error)        { return numericDate(c.Iat), nil }
func (c *accessClaims) GetNotBefore() (*jwt.NumericDate, error)       { return nil, nil }
func (c *accessClaims) GetIssuer() (string, error)                    { return c.Iss, nil }
func (c *accessClaims) GetSubject() (string, error)                   { return c.Sub, nil }
func (c *accessClaims) GetAudience() (jwt.ClaimStrings, error)        { return nil, nil }
func (c *refreshClaims) GetExpirationTime() (*jwt.NumericDate, error) { return numericDate(c.Exp), nil }
func (c *refreshClaims) GetIssuedAt() (*jwt.NumericDate, error)       { return numericDate(c.Iat), nil }
func (c *refreshClaims) GetNotBefore() (*jwt.NumericDate, error)      { return nil, nil }
func (c *refreshClaims) GetIssuer() (string, error)                   { return "", nil }
func (c *refreshClaims) GetSubject() (string, error)                  { return c.Sub, nil }
func (c *refreshClaims) GetAudience() (jwt.ClaimStrings, error)       { return nil, nil }

func numericDate(sec int64) *jwt.NumericDate {
	if sec == 0 {
		return nil
	}
	return jwt.NewNumericDate(time.Unix(sec, 0))
}

func (s *Service) sign(claims jwt.Claims) (string, error) {
	k := s.keys.current()
	t := jwt.NewWithClaims(jwt.SigningMethodHS256, claims)
	t.Header["kid"] = k.kid
	return t.SignedString(k.secret)
}

// mintAccess signs an access token for the session carrying customData
// (nil: no user_data claim, which realm-web reads as {}).
func (s *Service) mintAccess(sess *Session, customData bson.D) (string, error) {
	now := s.now()
	c := &accessClaims{
		DeviceID: sess.DeviceID, DomainID: s.domainID,
		Exp: now.Add(s.accessTTL).Unix(), Iat: now.Unix(),
		Iss: sess.ID, StitchDevID: sess.DeviceID, StitchDomainID: s.domainID,
		Sub: sess.UserID, Typ: typAccess,
	}
	if customData != nil {
		raw, err := bson.MarshalExtJSON(customData, false, false)
		if err != nil {
			return "", fmt.Errorf("auth: encode custom user data: %w", err)
		}
		if len(raw) > MaxCustomDataSize {
			s.log.Warn("auth: custom user data is larger than advised; it travels in every access token",
				"user_id", sess.UserID, "bytes", len(raw), "advised_max", MaxCustomDataSize)
		}
		c.UserData = raw
	}
	return s.sign(c)
}

func (s *Service) mintRefresh(sess *Session) (string, error) {
	ident := identityClaim{ID: sess.Identity.ID, ProviderType: sess.Identity.ProviderType, ProviderID: sess.Identity.ProviderID}
	c := &refreshClaims{
		DeviceID: sess.DeviceID, DomainID: s.domainID, ID: sess.ID, Identity: ident,
		Exp: sess.ExpiresAt.Unix(), Iat: sess.CreatedAt.Unix(),
		StitchDevID: sess.DeviceID, StitchDomainID: s.domainID, StitchID: sess.ID, StitchIdent: ident,
		Sub: sess.UserID, Typ: typRefresh,
	}
	return s.sign(c)
}

var errWrongType = errors.New("wrong token type")

// parse verifies signature, algorithm, kid, exp and iat into claims.
// Tokens whose header is exactly one this service writes take a direct
// path (parseOwn); anything else goes through golang-jwt.
func (s *Service) parse(ctx context.Context, token string, claims jwt.Claims) error {
	if handled, err := s.parseOwn(token, claims); handled {
		return err
	}
	return s.parseJWT(ctx, token, claims)
}

// parseJWT is parse through golang-jwt.
func (s *Service) parseJWT(ctx context.Context, token string, claims jwt.Claims) error {
	_, err := jwt.ParseWithClaims(token, claims, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		if kid == "" {
			return nil, errors.New("token has no kid")
		}
		k, ok := s.keys.lookup(ctx, kid)
		if !ok {
			return nil, errors.New("unknown kid")
		}
		return k.secret, nil
	}, jwt.WithValidMethods(ownMethods), jwt.WithExpirationRequired(), jwt.WithIssuedAt(),
		jwt.WithTimeFunc(s.now))
	return err
}

// Reasons parseOwn refuses a token (debug log only).
var (
	errMalformed     = errors.New("malformed token")
	errSignature     = errors.New("signature is invalid")
	errExpired       = errors.New("token is expired or has no exp")
	errIssuedFromNow = errors.New("token used before issued")
)

// parseOwn verifies a token whose header segment is byte for byte the one
// sign writes for a known key, {"alg":"HS256","kid":…,"typ":"JWT"}: that
// equality is the algorithm and kid check, so no header JSON is decoded.
// Then, as golang-jwt does: HMAC-SHA256 over "header.payload" compared in
// constant time, the claims decoded, exp required and in the future, iat
// not in the future. handled is false when the header is not one of
// ours; parseJWT then decides.
func (s *Service) parseOwn(token string, claims jwt.Claims) (handled bool, err error) {
	hdr, rest, ok := strings.Cut(token, ".")
	if !ok {
		return false, nil
	}
	k := s.keys.byHeader(hdr)
	if k == nil {
		return false, nil
	}
	payload, sig, ok := strings.Cut(rest, ".")
	if !ok || strings.IndexByte(sig, '.') >= 0 {
		return true, errMalformed
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil {
		return true, errMalformed
	}
	mac := hmac.New(sha256.New, k.secret)
	mac.Write([]byte(token[:len(hdr)+1+len(payload)]))
	if !hmac.Equal(mac.Sum(nil), got) {
		return true, errSignature
	}
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return true, errMalformed
	}
	if err := json.Unmarshal(raw, claims); err != nil {
		return true, errMalformed
	}
	now := s.now()
	if exp, _ := claims.GetExpirationTime(); exp == nil || !now.Before(exp.Time) {
		return true, errExpired
	}
	if iat, _ := claims.GetIssuedAt(); iat != nil && now.Before(iat.Time) {
		return true, errIssuedFromNow
	}
	return true, nil
}

// ownHeader is the header segment sign writes for kid, produced by the
// same golang-jwt code.
func ownHeader(kid string) string {
	t := jwt.New(jwt.SigningMethodHS256)
	t.Header["kid"] = kid
	ss, err := t.SigningString()
	if err != nil {
		return "" // never equal to a token's segment
	}
	hdr, _, _ := strings.Cut(ss, ".")
	return hdr
}
