package auth

import (
	"context"
	"crypto/rand"

	"github.com/atollhq/atoll/internal/appconfig"

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
	prov, err := s.provider(req.Provider)
	if err != nil {
		return nil, err
	}
	body, deviceID := splitOptions(req.Body)
	if req.Link != nil && prov.Type == ProviderAnon {
		return nil, &Error{Code: CodeBadRequest, Message: "cannot link an anonymous identity to a user"}
	}
	var (
		u       *User
		created bool
		ident   Identity
	)
	switch prov.Type {
	case ProviderAnon:
		// Each anonymous login creates a user: limited per IP.
		if err := s.limit(ctx, req.ClientIP, ""); err != nil {
			return nil, err
		}
		ident = Identity{ID: bson.NewObjectID().Hex() + "-" + randomLetters(24), ProviderType: ProviderAnon}
	case ProviderUserpass:
		ident, err = s.userpassLogin(ctx, req.ClientIP, body)
	case ProviderAPIKey:
		if req.Link != nil {
			return nil, &Error{Code: CodeBadRequest, Message: "cannot link an API key identity"}
		}
		u, ident, err = s.apiKeyLogin(ctx, req.ClientIP, body)
	case ProviderCustomToken:
		ident, err = s.customTokenLogin(ctx, prov, req.ClientIP, body)
	case ProviderCustomFunction:
		ident, err = s.customFunctionLogin(ctx, prov, req.ClientIP, body)
	default:
		return nil, ErrProviderNotFound
	}
	if err != nil {
		return nil, err
	}
	ident.ProviderID = s.providerID(prov.Name)

	if req.Link != nil {
		res, err := s.link(ctx, req.Link, ident)
		if err == nil && prov.Type == ProviderUserpass {
			s.attachUserpassAccount(ctx, ident, res.UserID)
		}
		return res, err
	}
	if u == nil {
		u, created, err = s.userForIdentity(ctx, ident, UserTypeNormal)
		if err != nil {
			return nil, err
		}
	}
	if u.Disabled {
		return nil, &Error{Code: CodeUserDisabled, Message: msgUserDisabled}
	}
	if !created && prov.Type == ProviderCustomToken && len(ident.ProviderData) > 0 {
		s.refreshIdentityData(ctx, u, ident)
	}
	if prov.Type == ProviderUserpass {
		s.attachUserpassAccount(ctx, ident, u.ID)
	}
	ref := IdentityRef{ID: ident.ID, ProviderType: ident.ProviderType, ProviderID: ident.ProviderID}
	res, err := s.issue(ctx, u, deviceID, ref)
	if err != nil {
		return nil, err
	}
	res.Created = created
	s.touchLogin(ctx, u)
	if created {
		s.emit(ctx, OpCreate, u, prov.Type)
	}
	s.emit(ctx, OpLogin, u, prov.Type)
	return res, nil
}

// issue opens a session and mints its tokens.
func (s *Service) issue(ctx context.Context, u *User, deviceID string, ref IdentityRef) (*LoginResult, error) {
	sess, err := s.openSession(ctx, u.ID, deviceID, ref)
	if err != nil {
		return nil, s.internalError(ctx, "open session", err)
	}
	cd, err := s.CustomData(ctx, u.ID)
	if err != nil {
		return nil, s.internalError(ctx, "custom user data", err)
	}
	access, err := s.mintAccess(sess, cd)
	if err != nil {
		return nil, s.internalError(ctx, "mint access token", err)
	}
	refresh, err := s.mintRefresh(sess)
	if err != nil {
		return nil, s.internalError(ctx, "mint refresh token", err)
	}
	return &LoginResult{UserID: u.ID, AccessToken: access, RefreshToken: refresh, DeviceID: deviceID, User: u}, nil
}

// link adds ident to the caller's user and mints a new access token for
// the caller's session (the refresh token stays).
func (s *Service) link(ctx context.Context, c *Caller, ident Identity) (*LoginResult, error) {
	u, err := s.linkIdentity(ctx, c.UserID, ident)
	if err != nil {
		return nil, err
	}
	sess, err := s.loadSession(ctx, c.SessionID)
	if err != nil {
		return nil, invalidAccess(err)
	}
	cd, err := s.CustomData(ctx, u.ID)
	if err != nil {
		return nil, s.internalError(ctx, "custom user data", err)
	}
	access, err := s.mintAccess(sess, cd)
	if err != nil {
		return nil, s.internalError(ctx, "mint access token", err)
	}
	return &LoginResult{UserID: u.ID, AccessToken: access, DeviceID: sess.DeviceID, User: u}, nil
}

// provider returns the enabled provider config named name.
func (s *Service) provider(name string) (*appconfig.AuthProvider, error) {
	app := s.app.Load()
	if app == nil {
		return nil, ErrProviderNotFound
	}
	p, ok := app.AuthProviders[name]
	if !ok || p == nil || p.Disabled {
		return nil, ErrProviderNotFound
	}
	typ := p.Type
	if typ == "" {
		typ = name
	}
	switch typ {
	case ProviderAnon, ProviderUserpass, ProviderAPIKey, ProviderCustomToken, ProviderCustomFunction:
	default:
		return nil, ErrProviderNotFound
	}
	cp := *p
	cp.Type = typ
	if cp.Name == "" {
		cp.Name = name
	}
	return &cp, nil
}

// splitOptions removes the SDK's `options` from a login body and returns
// the device id it names (DefaultDeviceID when none or malformed).
func splitOptions(body bson.D) (bson.D, string) {
	dev := DefaultDeviceID
	out := make(bson.D, 0, len(body))
	for _, e := range body {
		if e.Key != "options" {
			out = append(out, e)
			continue
		}
		opts, _ := e.Value.(bson.D)
		device := lookupDoc(opts, "device")
		switch v := mustLookup(device, "deviceId").(type) {
		case bson.ObjectID:
			if !v.IsZero() {
				dev = v.Hex()
			}
		case string:
			if oid, err := bson.ObjectIDFromHex(v); err == nil && !oid.IsZero() {
				dev = oid.Hex()
			}
		}
	}
	return out, dev
}

func mustLookup(d bson.D, key string) any {
	v, _ := lookup(d, key)
	return v
}

// bodyString returns a string field of a login body.
func bodyString(body bson.D, key string) (string, bool) {
	return lookupString(body, key)
}

func randomLetters(n int) string {
	const letters = "abcdefghijklmnopqrstuvwxyz"
	b := make([]byte, n)
	r := make([]byte, n)
	if _, err := rand.Read(r); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	for i := range b {
		b[i] = letters[int(r[i])%len(letters)]
	}
	return string(b)
}
