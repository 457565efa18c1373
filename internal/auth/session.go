package auth

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// DefaultDeviceID is the device id of a login without one; SDKs read it
// as "no device".
const DefaultDeviceID = "000000000000000000000000"

// Caller is the verified bearer of an access token.
type Caller struct {
	UserID    string
	SessionID string
	DeviceID  string
	// CustomData is the custom user data carried by the token (nil when
	// there is none); it is as fresh as the token.
	CustomData bson.D
	IssuedAt   time.Time
	ExpiresAt  time.Time
}

// IdentityRef names the identity a session logged in with.
type IdentityRef struct {
	ID           string
	ProviderType string
	ProviderID   string
}

// Session is a refresh token's server-side state: deleting it revokes the
// refresh token and every access token minted from it.
type Session struct {
	ID       string
	UserID   string
	DeviceID string
	// Identity is the identity used to log in (for API keys, its ID is the
	// key id).
	Identity  IdentityRef
	CreatedAt time.Time
	ExpiresAt time.Time
}

// VerifyAccessToken checks an access token: signature with a known kid,
// algorithm, type, expiry, and that its session still exists (through a
// cache of at most SessionCacheTTL). Any failure is ErrInvalidSession with
// the message realm-web expects; details go to the debug log only.
func (s *Service) VerifyAccessToken(ctx context.Context, token string) (*Caller, error) {
	return nil, errNotYet
}

// VerifyRefreshToken checks a refresh token and returns its live session,
// or ErrInvalidSession ("invalid session: failed to find refresh token").
func (s *Service) VerifyRefreshToken(ctx context.Context, token string) (*Session, error) {
	return nil, errNotYet
}

// RefreshAccessToken mints a new access token for the refresh token's
// session, re-reading custom user data (this is realm-web's
// refreshCustomData).
func (s *Service) RefreshAccessToken(ctx context.Context, refreshToken string) (string, error) {
	return "", errNotYet
}

// Logout ends the refresh token's session. An unknown or already ended
// session is ErrInvalidSession with "failed to find refresh token", which
// realm-web accepts after deleting a user.
func (s *Service) Logout(ctx context.Context, refreshToken string) error { return errNotYet }

// RotateSigningKey creates a new token signing key and makes it the one
// that signs; older keys keep verifying the tokens they signed until
// RetireSigningKeys removes them. It returns the new kid.
func (s *Service) RotateSigningKey(ctx context.Context) (string, error) { return "", errNotYet }

// RetireSigningKeys deletes inactive signing keys created before the
// cutoff; tokens they signed stop verifying.
func (s *Service) RetireSigningKeys(ctx context.Context, before time.Time) error { return errNotYet }
