package auth

import "context"

// APIKey is a server or user API key. Key is set only in the result of a
// create; only a SHA-256 of it is stored.
type APIKey struct {
	ID       string `json:"_id"`
	Key      string `json:"key,omitempty"`
	Name     string `json:"name"`
	Disabled bool   `json:"disabled"`
	// UserID is the owner (a server user for server keys).
	UserID string `json:"-"`
}

// Limits on API keys (App Services documents the same).
const (
	MaxUserAPIKeys   = 20
	MaxServerAPIKeys = 100
)

// CreateUserAPIKey creates a key for the session's user (not anonymous).
func (s *Service) CreateUserAPIKey(ctx context.Context, sess *Session, name string) (*APIKey, error) {
	return nil, errNotYet
}

// UserAPIKeys lists the session user's keys, without key values.
func (s *Service) UserAPIKeys(ctx context.Context, sess *Session) ([]*APIKey, error) {
	return nil, errNotYet
}

// UserAPIKey returns one of the session user's keys, or ErrAPIKeyNotFound.
func (s *Service) UserAPIKey(ctx context.Context, sess *Session, keyID string) (*APIKey, error) {
	return nil, errNotYet
}

// EnableUserAPIKey enables one of the session user's keys.
func (s *Service) EnableUserAPIKey(ctx context.Context, sess *Session, keyID string) error {
	return errNotYet
}

// DisableUserAPIKey disables one of the session user's keys; logins with
// it fail, and sessions opened with it end.
func (s *Service) DisableUserAPIKey(ctx context.Context, sess *Session, keyID string) error {
	return errNotYet
}

// DeleteUserAPIKey deletes one of the session user's keys and the sessions
// opened with it. Deleting the key the session itself logged in with is
// CodePermissionDenied.
func (s *Service) DeleteUserAPIKey(ctx context.Context, sess *Session, keyID string) error {
	return errNotYet
}

// CreateServerAPIKey creates a server key with its own server user whose
// data.name is the key name, and fires CREATE.
func (s *Service) CreateServerAPIKey(ctx context.Context, name string) (*APIKey, error) {
	return nil, errNotYet
}

// ServerAPIKeys lists the server keys, without key values.
func (s *Service) ServerAPIKeys(ctx context.Context) ([]*APIKey, error) { return nil, errNotYet }

// DeleteServerAPIKey deletes a server key and its server user.
func (s *Service) DeleteServerAPIKey(ctx context.Context, keyID string) error { return errNotYet }
