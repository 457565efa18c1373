package auth

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/atollhq/atoll/internal/store"
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
	// there is none); it is as fresh as the token. It is shared by the
	// requests presenting the same token: read it, never modify it.
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
	// LastActiveAt is when an anonymous session was last used to
	// refresh an access token (see touchSession; zero if never).
	LastActiveAt time.Time
}

func invalidAccess(err error) error {
	return &Error{Code: CodeInvalidSession, Message: msgAccessInvalid, Err: err}
}

func invalidRefresh(err error) error {
	return &Error{Code: CodeInvalidSession, Message: msgRefreshNotFound, Err: err}
}

// VerifyAccessToken checks an access token: signature with a known kid,
// algorithm, type, expiry, and that its session still exists (through a
// cache of at most SessionCacheTTL). A token that verified is remembered
// for at most SessionCacheTTL and never past its exp (accessCache); the
// session is checked on every call. Any failure is ErrInvalidSession with
// the message realm-web expects; details go to the debug log only.
func (s *Service) VerifyAccessToken(ctx context.Context, token string) (*Caller, error) {
	key := accessKey(token)
	v, gen, ok := s.access.get(key, s.now())
	if !ok {
		var err error
		if v, err = s.verifyAccess(ctx, token); err != nil {
			return nil, err
		}
		s.access.put(key, v, gen)
	}
	alive, err := s.sessionAlive(ctx, v.sessionID, v.userID)
	if err != nil {
		return nil, s.internalError(ctx, "check session", err)
	}
	if !alive {
		return nil, invalidAccess(errors.New("session ended"))
	}
	return &Caller{UserID: v.userID, SessionID: v.sessionID, DeviceID: v.deviceID,
		CustomData: v.customData, IssuedAt: v.issuedAt, ExpiresAt: v.expiresAt}, nil
}

// verifyAccess does the checks of an access token that depend only on the
// token, the signing keys and the time (not on the session), which is
// what accessCache remembers.
func (s *Service) verifyAccess(ctx context.Context, token string) (*verifiedAccess, error) {
	var c accessClaims
	at := s.now()
	if err := s.parse(ctx, token, &c); err != nil {
		s.log.DebugContext(ctx, "auth: access token refused", "reason", err.Error())
		return nil, invalidAccess(err)
	}
	if c.Typ != typAccess || c.Iss == "" || c.Sub == "" {
		return nil, invalidAccess(errWrongType)
	}
	v := &verifiedAccess{userID: c.Sub, sessionID: c.Iss, deviceID: c.DeviceID,
		issuedAt: time.Unix(c.Iat, 0).UTC(), expiresAt: time.Unix(c.Exp, 0).UTC(), at: at}
	if len(c.UserData) > 0 && string(c.UserData) != "null" {
		var d bson.D
		if err := bson.UnmarshalExtJSON(c.UserData, false, &d); err == nil {
			v.customData = d
		}
	}
	return v, nil
}

// VerifyRefreshToken checks a refresh token and returns its live session,
// or ErrInvalidSession ("invalid session: failed to find refresh token").
func (s *Service) VerifyRefreshToken(ctx context.Context, token string) (*Session, error) {
	var c refreshClaims
	if err := s.parse(ctx, token, &c); err != nil {
		s.log.DebugContext(ctx, "auth: refresh token refused", "reason", err.Error())
		return nil, invalidRefresh(err)
	}
	if c.Typ != typRefresh || c.ID == "" {
		return nil, invalidRefresh(errWrongType)
	}
	sess, err := s.loadSession(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	if sess.UserID != c.Sub || !sess.ExpiresAt.After(s.now()) {
		return nil, invalidRefresh(errors.New("session mismatch or expired"))
	}
	return sess, nil
}

// RefreshAccessToken mints a new access token for the refresh token's
// session, re-reading custom user data (this is realm-web's
// refreshCustomData).
func (s *Service) RefreshAccessToken(ctx context.Context, refreshToken string) (string, error) {
	sess, err := s.VerifyRefreshToken(ctx, refreshToken)
	if err != nil {
		return "", err
	}
	s.touchSession(ctx, sess)
	cd, err := s.CustomData(ctx, sess.UserID)
	if err != nil {
		return "", s.internalError(ctx, "custom user data", err)
	}
	tok, err := s.mintAccess(sess, cd)
	if err != nil {
		return "", s.internalError(ctx, "mint access token", err)
	}
	return tok, nil
}

// Logout ends the refresh token's session. An unknown or already ended
// session is ErrInvalidSession with "failed to find refresh token", which
// realm-web accepts after deleting a user.
func (s *Service) Logout(ctx context.Context, refreshToken string) error {
	sess, err := s.VerifyRefreshToken(ctx, refreshToken)
	if err != nil {
		return err
	}
	oid, _ := bson.ObjectIDFromHex(sess.ID)
	res, err := s.coll(collSessions).DeleteOne(ctx, idFilter(oid))
	s.sessions.forget(sess.ID, s.now())
	if err != nil {
		return s.internalError(ctx, "delete session", err)
	}
	if res.DeletedCount == 0 {
		return invalidRefresh(errors.New("session already ended"))
	}
	return nil
}

// RevokeSessions ends every session of the user (admin "logout").
func (s *Service) RevokeSessions(ctx context.Context, userID string) error {
	oid, err := bson.ObjectIDFromHex(userID)
	if err != nil {
		return ErrUserNotFound
	}
	return s.deleteSessions(ctx, bson.D{{Key: "user_id", Value: oid}})
}

// deleteSessions deletes the matching sessions and drops them from the
// cache so this process refuses their tokens at once.
func (s *Service) deleteSessions(ctx context.Context, filter bson.D) error {
	cur, err := s.coll(collSessions).Find(ctx, filter, store.FindOptions{Projection: bson.D{{Key: "_id", Value: 1}}})
	if err != nil {
		return s.internalError(ctx, "find sessions", err)
	}
	docs, err := store.All(ctx, cur)
	if err != nil {
		return s.internalError(ctx, "find sessions", err)
	}
	if _, err := s.coll(collSessions).DeleteMany(ctx, filter); err != nil {
		return s.internalError(ctx, "delete sessions", err)
	}
	for _, d := range docs {
		if id, ok := lookupOID(d, "_id"); ok {
			s.sessions.forget(id.Hex(), s.now())
		}
	}
	return nil
}

// openSession stores a new session for the user.
func (s *Service) openSession(ctx context.Context, userID, deviceID string, ident IdentityRef) (*Session, error) {
	uid, err := bson.ObjectIDFromHex(userID)
	if err != nil {
		return nil, fmt.Errorf("auth: bad user id %q", userID)
	}
	now := s.now().UTC().Truncate(time.Second)
	ttl := s.refreshTT
	if ident.ProviderType == ProviderAnon {
		ttl = anonRefreshTokenTTL
	}
	id := bson.NewObjectID()
	sess := &Session{ID: id.Hex(), UserID: userID, DeviceID: deviceID, Identity: ident,
		CreatedAt: now, ExpiresAt: now.Add(ttl)}
	_, err = s.coll(collSessions).InsertOne(ctx, bson.D{
		{Key: "_id", Value: id},
		{Key: "user_id", Value: uid},
		{Key: "device_id", Value: deviceID},
		{Key: "identity", Value: bson.D{
			{Key: "id", Value: ident.ID},
			{Key: "provider_type", Value: ident.ProviderType},
			{Key: "provider_id", Value: ident.ProviderID},
		}},
		{Key: "created_at", Value: dt(now)},
		{Key: "expires_at", Value: dt(sess.ExpiresAt)},
	})
	if err != nil {
		return nil, fmt.Errorf("auth: store session: %w", err)
	}
	return sess, nil
}

func (s *Service) loadSession(ctx context.Context, id string) (*Session, error) {
	oid, err := bson.ObjectIDFromHex(id)
	if err != nil {
		return nil, invalidRefresh(err)
	}
	d, err := s.coll(collSessions).FindOne(ctx, idFilter(oid), store.FindOptions{})
	if errors.Is(err, store.ErrNoDocuments) {
		return nil, invalidRefresh(err)
	}
	if err != nil {
		return nil, s.internalError(ctx, "read session", err)
	}
	uid, _ := lookupOID(d, "user_id")
	dev, _ := lookupString(d, "device_id")
	ident := lookupDoc(d, "identity")
	iid, _ := lookupString(ident, "id")
	ipt, _ := lookupString(ident, "provider_type")
	ipi, _ := lookupString(ident, "provider_id")
	return &Session{ID: id, UserID: uid.Hex(), DeviceID: dev,
		Identity:  IdentityRef{ID: iid, ProviderType: ipt, ProviderID: ipi},
		CreatedAt: lookupTime(d, "created_at"), ExpiresAt: lookupTime(d, "expires_at"),
		LastActiveAt: lookupTime(d, "last_active_at")}, nil
}

// sessionAlive reports whether the session exists and belongs to userID,
// trusting a cached answer for at most the cache TTL.
func (s *Service) sessionAlive(ctx context.Context, sessionID, userID string) (bool, error) {
	now := s.now()
	if owner, ok := s.sessions.get(sessionID, now); ok {
		return owner != "" && owner == userID, nil
	}
	oid, err := bson.ObjectIDFromHex(sessionID)
	if err != nil {
		return false, nil
	}
	d, err := s.coll(collSessions).FindOne(ctx, idFilter(oid), store.FindOptions{Projection: bson.D{{Key: "user_id", Value: 1}, {Key: "expires_at", Value: 1}}})
	owner := "" // "": no live session
	switch {
	case err == nil:
		if uid, _ := lookupOID(d, "user_id"); lookupTime(d, "expires_at").After(now) {
			owner = uid.Hex()
		}
	case errors.Is(err, store.ErrNoDocuments):
	default:
		return false, err
	}
	s.sessions.put(sessionID, owner, now)
	return owner != "" && owner == userID, nil
}

// sessionCache remembers recent session lookups. It is bounded in time
// (ttl) and in size (maxSessionCacheEntries; see makeRoom).
type sessionCache struct {
	ttl time.Duration
	mu  sync.Mutex
	m   map[string]sessionEntry
}

type sessionEntry struct {
	owner string // the session's user id, "" when it does not exist
	at    time.Time
	// revoked marks a session this process ended: a lookup that raced
	// with the revocation must not put it back.
	revoked bool
}

const maxSessionCacheEntries = 100_000

func newSessionCache(ttl time.Duration) *sessionCache {
	return &sessionCache{ttl: ttl, m: map[string]sessionEntry{}}
}

func (c *sessionCache) get(id string, now time.Time) (owner string, ok bool) {
	c.mu.Lock()
	e, found := c.m[id]
	c.mu.Unlock()
	if !found || now.Sub(e.at) >= c.ttl || now.Before(e.at) {
		return "", false
	}
	return e.owner, true
}

func (c *sessionCache) put(id string, owner string, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[id]; ok && e.revoked && now.Sub(e.at) < c.ttl {
		return
	}
	c.makeRoom(now)
	c.m[id] = sessionEntry{owner: owner, at: now}
}

// makeRoom keeps the cache under maxSessionCacheEntries: it drops stale
// entries, then answers that are not revocations. A revocation (a
// tombstone younger than the TTL) is dropped last, since losing it would
// let a lookup that raced with it put the session back.
func (c *sessionCache) makeRoom(now time.Time) {
	if len(c.m) < maxSessionCacheEntries {
		return
	}
	for id, e := range c.m {
		if now.Sub(e.at) >= c.ttl || now.Before(e.at) {
			delete(c.m, id)
		}
	}
	for id, e := range c.m {
		if len(c.m) < maxSessionCacheEntries-maxSessionCacheEntries/8 {
			return
		}
		if !e.revoked {
			delete(c.m, id)
		}
	}
	if len(c.m) >= maxSessionCacheEntries {
		clear(c.m) // only tombstones left: more revocations than fit
	}
}

// forget records that this process ended the session: it is refused here
// at once, whatever a concurrent lookup read before the delete.
func (c *sessionCache) forget(id string, now time.Time) {
	c.mu.Lock()
	c.makeRoom(now)
	c.m[id] = sessionEntry{at: now, revoked: true}
	c.mu.Unlock()
}

// janitorInterval is how often expired sessions and userpass tokens are
// deleted (expired ones are refused anyway; this only reclaims space) and
// the signing keys reloaded.
const janitorInterval = 10 * time.Minute

// janitor deletes expired sessions and tokens, and (every
// anonPurgeEvery) inactive anonymous users, until ctx ends. Every process
// runs one; their deletes are idempotent.
func (s *Service) janitor(ctx context.Context) {
	t := time.NewTicker(janitorInterval)
	defer t.Stop()
	var purged time.Time // when inactive anonymous users were last deleted
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s.deleteExpired(ctx)
		if now := s.now(); now.Sub(purged) >= anonPurgeEvery {
			purged = now
			if n, err := s.purgeAnonymous(ctx); err != nil && ctx.Err() == nil {
				s.log.WarnContext(ctx, "auth: delete inactive anonymous users", "deleted", n, "err", err)
			} else if n > 0 {
				s.log.InfoContext(ctx, "auth: deleted inactive anonymous users", "deleted", n)
			}
		}
		// Pick up a key rotated by another process, so every process
		// ends up signing with the newest key.
		if err := s.keys.load(ctx, false); err != nil && ctx.Err() == nil {
			s.log.WarnContext(ctx, "auth: reload signing keys", "err", err)
		}
	}
}

func (s *Service) deleteExpired(ctx context.Context) {
	expired := bson.D{{Key: "expires_at", Value: bson.D{{Key: "$lt", Value: dt(s.now())}}}}
	for _, c := range []string{collSessions, collTokens} {
		if _, err := s.coll(c).DeleteMany(ctx, expired); err != nil && ctx.Err() == nil {
			s.log.WarnContext(ctx, "auth: delete expired "+c, "err", err)
		}
	}
}
