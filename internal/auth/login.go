package auth

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// LoginRequest is one login (or link) through a provider.
type LoginRequest struct {
	// Provider is the provider name from the URL.
	Provider string
	// Body is the decoded request body: the credential fields and the
	// SDK's `options` (whose `options.device.deviceId` is used as the
	// device id; everything else in `options` is ignored).
	Body bson.D
	// ClientIP keys the per-IP rate limit.
	ClientIP string
	// Link, when set, adds the identity to Link's user instead of logging
	// in (`?link=true`); the result reuses Link's session.
	Link *Caller
}

// LoginResult is the login response.
type LoginResult struct {
	UserID      string `json:"user_id"`
	AccessToken string `json:"access_token"`
	// RefreshToken is empty after a link.
	RefreshToken string `json:"refresh_token,omitempty"`
	DeviceID     string `json:"device_id"`
	// User is the logged-in user; Created reports a new user.
	User    *User `json:"-"`
	Created bool  `json:"-"`
}

// Login authenticates with a provider, creating the user on a first login,
// and opens a session. Unknown and disabled providers are
// ErrProviderNotFound before anything is read or written. Bad credentials
// are ErrInvalidPassword (email/password and API keys, the same for an
// unknown user) or CodeAuthError (custom JWT and function).
func (s *Service) Login(ctx context.Context, req LoginRequest) (*LoginResult, error) {
	return nil, errNotYet
}
