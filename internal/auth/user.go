package auth

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// User types.
const (
	UserTypeNormal = "normal"
	UserTypeServer = "server"
)

// Provider types.
const (
	ProviderAnon           = "anon-user"
	ProviderUserpass       = "local-userpass"
	ProviderAPIKey         = "api-key"
	ProviderCustomToken    = "custom-token"
	ProviderCustomFunction = "custom-function"
)

// User is an app user.
type User struct {
	// ID is a 24-hex ObjectId string.
	ID string
	// Type is UserTypeNormal or UserTypeServer.
	Type string
	// Data is the union of the identities' metadata (email, name, JWT
	// metadata fields).
	Data bson.D
	// Identities are in the order they were added.
	Identities []Identity
	CreatedAt  time.Time
	// LastLoginAt is the last successful login (zero if never).
	LastLoginAt time.Time
	Disabled    bool
}

// Identity ties a user to one provider account.
type Identity struct {
	// ID is the provider's id for the account: the userpass account id, a
	// JWT `sub`, the API key id, the custom function's external id, or the
	// generated anonymous id.
	ID           string
	ProviderType string
	// ProviderID identifies the provider configuration (24 hex, stable per
	// app and provider name).
	ProviderID string
	// ProviderData is this identity's metadata.
	ProviderData bson.D
}

// Profile is the body of GET /auth/profile; encoding/json writes it in
// the App Services shape (see MarshalJSON).
type Profile struct {
	UserID     string            `json:"user_id"`
	DomainID   string            `json:"domain_id"`
	Type       string            `json:"type"`
	Identities []ProfileIdentity `json:"identities"`
	// Data is written as relaxed Extended JSON, `{}` when empty.
	Data bson.D `json:"data"`
}

// ProfileIdentity is one identity in a Profile.
type ProfileIdentity struct {
	ID           string `json:"id"`
	ProviderType string `json:"provider_type"`
	ProviderID   string `json:"provider_id"`
	// ProviderData is written as relaxed Extended JSON, `{}` when empty.
	ProviderData bson.D `json:"provider_data"`
}

// Document is the user in the shape functions and rules see
// (`context.user`, `%%user`, auth trigger `event.user`): id, type, data,
// custom_data and identities.
func (u *User) Document(customData bson.D) bson.D {
	return nil
}

// ListUsersOptions page through users by id.
type ListUsersOptions struct {
	// After is the last id of the previous page ("" for the first page).
	After string
	// Limit is the page size; 0 means 50.
	Limit int
	// Desc sorts by id descending.
	Desc bool
}

// User returns the user with the id, or ErrUserNotFound.
func (s *Service) User(ctx context.Context, id string) (*User, error) { return nil, errNotYet }

// ListUsers returns a page of users sorted by id.
func (s *Service) ListUsers(ctx context.Context, opts ListUsersOptions) ([]*User, error) {
	return nil, errNotYet
}

// Profile returns the profile of the caller's user.
func (s *Service) Profile(ctx context.Context, c *Caller) (*Profile, error) { return nil, errNotYet }

// CreateEmailPasswordUser creates a confirmed email/password user (admin
// and CLI), as App Services' admin `POST /users`.
func (s *Service) CreateEmailPasswordUser(ctx context.Context, email, password string) (*User, error) {
	return nil, errNotYet
}

// DisableUser blocks the user's logins and ends all their sessions.
func (s *Service) DisableUser(ctx context.Context, id string) error { return errNotYet }

// EnableUser lifts DisableUser.
func (s *Service) EnableUser(ctx context.Context, id string) error { return errNotYet }

// DeleteUser removes the user with their identities, email/password
// account, sessions and API keys, then fires a DELETE event. App data
// (including custom user data) is left alone.
func (s *Service) DeleteUser(ctx context.Context, id string) error { return errNotYet }

// RevokeSessions ends every session of the user (admin "logout").
func (s *Service) RevokeSessions(ctx context.Context, userID string) error { return errNotYet }
