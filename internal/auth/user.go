package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/atollhq/atoll/internal/store"
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

// MarshalJSON writes the profile with data as relaxed Extended JSON.
func (p Profile) MarshalJSON() ([]byte, error) {
	type ident struct {
		ID           string          `json:"id"`
		ProviderType string          `json:"provider_type"`
		ProviderID   string          `json:"provider_id"`
		ProviderData json.RawMessage `json:"provider_data"`
	}
	out := struct {
		UserID     string          `json:"user_id"`
		DomainID   string          `json:"domain_id"`
		Type       string          `json:"type"`
		Identities []ident         `json:"identities"`
		Data       json.RawMessage `json:"data"`
	}{UserID: p.UserID, DomainID: p.DomainID, Type: p.Type, Identities: []ident{}}
	var err error
	if out.Data, err = relaxedJSON(p.Data); err != nil {
		return nil, err
	}
	for _, id := range p.Identities {
		pd, err := relaxedJSON(id.ProviderData)
		if err != nil {
			return nil, err
		}
		out.Identities = append(out.Identities, ident{id.ID, id.ProviderType, id.ProviderID, pd})
	}
	return json.Marshal(out)
}

func relaxedJSON(d bson.D) (json.RawMessage, error) {
	if len(d) == 0 {
		return json.RawMessage("{}"), nil
	}
	return bson.MarshalExtJSON(d, false, false)
}

// Document is the user in the shape functions and rules see
// (`context.user`, `%%user`, auth trigger `event.user`): id, type, data,
// custom_data and identities.
func (u *User) Document(customData bson.D) bson.D {
	ids := bson.A{}
	for _, id := range u.Identities {
		ids = append(ids, bson.D{
			{Key: "id", Value: id.ID},
			{Key: "provider_type", Value: id.ProviderType},
			{Key: "data", Value: nonNilDoc(id.ProviderData)},
		})
	}
	return bson.D{
		{Key: "id", Value: u.ID},
		{Key: "type", Value: u.Type},
		{Key: "data", Value: nonNilDoc(u.Data)},
		{Key: "custom_data", Value: nonNilDoc(customData)},
		{Key: "identities", Value: ids},
	}
}

func nonNilDoc(d bson.D) bson.D {
	if d == nil {
		return bson.D{}
	}
	return d
}

// providerID is the stable id of a provider configuration: derived from
// the domain id and the provider name, so it needs no storage and is the
// same in every process.
func (s *Service) providerID(name string) string {
	h := sha256.Sum256([]byte(s.domainID + "/" + name))
	return hex.EncodeToString(h[:12])
}

func identityKey(providerType, id string) string { return providerType + "|" + id }

func userFromDoc(d bson.D) *User {
	oid, _ := lookupOID(d, "_id")
	typ, _ := lookupString(d, "type")
	u := &User{ID: oid.Hex(), Type: typ, Data: lookupDoc(d, "data"),
		CreatedAt: lookupTime(d, "created_at"), LastLoginAt: lookupTime(d, "last_login_at"),
		Disabled: lookupBool(d, "disabled")}
	v, _ := lookup(d, "identities")
	arr, _ := v.(bson.A)
	for _, e := range arr {
		id, _ := e.(bson.D)
		iid, _ := lookupString(id, "id")
		pt, _ := lookupString(id, "provider_type")
		pi, _ := lookupString(id, "provider_id")
		u.Identities = append(u.Identities, Identity{ID: iid, ProviderType: pt, ProviderID: pi,
			ProviderData: lookupDoc(id, "provider_data")})
	}
	return u
}

func identityDoc(id Identity) bson.D {
	return bson.D{
		{Key: "id", Value: id.ID},
		{Key: "provider_type", Value: id.ProviderType},
		{Key: "provider_id", Value: id.ProviderID},
		{Key: "provider_data", Value: nonNilDoc(id.ProviderData)},
	}
}

// User returns the user with the id, or ErrUserNotFound.
func (s *Service) User(ctx context.Context, id string) (*User, error) {
	oid, err := bson.ObjectIDFromHex(id)
	if err != nil {
		return nil, ErrUserNotFound
	}
	d, err := s.coll(collUsers).FindOne(ctx, idFilter(oid), store.FindOptions{})
	if errors.Is(err, store.ErrNoDocuments) {
		return nil, ErrUserNotFound
	}
	if err != nil {
		return nil, s.internalError(ctx, "read user", err)
	}
	return userFromDoc(d), nil
}

// ListUsers returns a page of users sorted by id.
func (s *Service) ListUsers(ctx context.Context, opts ListUsersOptions) ([]*User, error) {
	limit := opts.Limit
	if limit <= 0 {
		limit = 50
	}
	dir, op := 1, "$gt"
	if opts.Desc {
		dir, op = -1, "$lt"
	}
	filter := bson.D{}
	if opts.After != "" {
		oid, err := bson.ObjectIDFromHex(opts.After)
		if err != nil {
			return nil, &Error{Code: CodeInvalidParameter, Message: "invalid 'after' user id"}
		}
		filter = bson.D{{Key: "_id", Value: bson.D{{Key: op, Value: oid}}}}
	}
	cur, err := s.coll(collUsers).Find(ctx, filter, store.FindOptions{Sort: bson.D{{Key: "_id", Value: dir}}, Limit: int64(limit)})
	if err != nil {
		return nil, s.internalError(ctx, "list users", err)
	}
	docs, err := store.All(ctx, cur)
	if err != nil {
		return nil, s.internalError(ctx, "list users", err)
	}
	out := make([]*User, 0, len(docs))
	for _, d := range docs {
		out = append(out, userFromDoc(d))
	}
	return out, nil
}

// Profile returns the profile of the caller's user. The user document
// may come from the user cache (at most SessionCacheTTL old; changes made
// through this process show at once). A disabled user has no profile,
// even if a session of theirs is still trusted here.
func (s *Service) Profile(ctx context.Context, c *Caller) (*Profile, error) {
	u, err := s.profileUser(ctx, c.UserID)
	if errors.Is(err, ErrUserNotFound) {
		return nil, invalidAccess(err)
	}
	if err != nil {
		return nil, err
	}
	if u.Disabled {
		return nil, invalidAccess(errors.New("user disabled"))
	}
	p := &Profile{UserID: u.ID, DomainID: s.domainID, Type: u.Type, Data: u.Data,
		Identities: make([]ProfileIdentity, 0, len(u.Identities))}
	for _, id := range u.Identities {
		p.Identities = append(p.Identities, ProfileIdentity(id))
	}
	return p, nil
}

// CachedUser is User through the per-process user cache: the record may
// be up to SessionCacheTTL (5 s by default) old when another process
// changed it, and is never stale after a change made through this
// Service (disable, enable, delete, link, identity refresh drop the
// entry). It serves reads that are repeated on every request and only
// need fields that change rarely: the data API binds %%user.type,
// %%user.data and identities from it. The returned User is shared and
// must not be modified.
func (s *Service) CachedUser(ctx context.Context, id string) (*User, error) {
	return s.profileUser(ctx, id)
}

// profileUser is User through the user cache.
func (s *Service) profileUser(ctx context.Context, id string) (*User, error) {
	u, gen, ok := s.users.get(id, s.now())
	if ok {
		return u, nil
	}
	at := s.now()
	u, err := s.User(ctx, id)
	if err != nil {
		return nil, err
	}
	s.users.put(u, at, gen)
	return u, nil
}

// DisableUser blocks the user's logins and ends all their sessions.
func (s *Service) DisableUser(ctx context.Context, id string) error {
	if err := s.setDisabled(ctx, id, true); err != nil {
		return err
	}
	return s.RevokeSessions(ctx, id)
}

// EnableUser lifts DisableUser.
func (s *Service) EnableUser(ctx context.Context, id string) error {
	return s.setDisabled(ctx, id, false)
}

func (s *Service) setDisabled(ctx context.Context, id string, v bool) error {
	oid, err := bson.ObjectIDFromHex(id)
	if err != nil {
		return ErrUserNotFound
	}
	res, err := s.coll(collUsers).UpdateOne(ctx, idFilter(oid),
		bson.D{{Key: "$set", Value: bson.D{{Key: "disabled", Value: v}}}}, store.UpdateOptions{})
	s.users.invalidate(oid.Hex()) // even on error: the write may have landed
	if err != nil {
		return s.internalError(ctx, "update user", err)
	}
	if res.MatchedCount == 0 {
		return ErrUserNotFound
	}
	return nil
}

// DeleteUser removes the user with their identities, email/password
// account, sessions and API keys, then fires a DELETE event. App data
// (including custom user data) is left alone.
func (s *Service) DeleteUser(ctx context.Context, id string) error {
	u, err := s.User(ctx, id)
	if err != nil {
		return err
	}
	oid, _ := bson.ObjectIDFromHex(id)
	byUser := bson.D{{Key: "user_id", Value: oid}}
	// Sessions first, so the user's tokens stop working even if a later
	// step fails; the user document last, so a failed delete can be
	// retried.
	if err := s.deleteSessions(ctx, byUser); err != nil {
		return err
	}
	for _, c := range []string{collAPIKeys, collIdentities, collUserpass} {
		if _, err := s.coll(c).DeleteMany(ctx, byUser); err != nil {
			return s.internalError(ctx, "delete user "+c, err)
		}
	}
	_, err = s.coll(collUsers).DeleteOne(ctx, idFilter(oid))
	s.users.invalidate(u.ID)
	if err != nil {
		return s.internalError(ctx, "delete user", err)
	}
	var providers []string
	seen := map[string]bool{}
	for _, id := range u.Identities {
		if !seen[id.ProviderType] {
			seen[id.ProviderType] = true
			providers = append(providers, id.ProviderType)
		}
	}
	s.emit(ctx, OpDelete, u, providers...)
	return nil
}

// errUserCreationFailed wraps a user-creation function failure.
var errUserCreationFailed = errors.New("user creation function failed")

// userForIdentity returns the user owning the identity, creating it (with
// the identity and data) when there is none. The identity is claimed
// first in auth_identities, whose _id makes two concurrent first logins
// agree on one user.
func (s *Service) userForIdentity(ctx context.Context, ident Identity, userType string) (u *User, created bool, err error) {
	key := identityKey(ident.ProviderType, ident.ID)
	ids := s.coll(collIdentities)
	for range 3 {
		d, err := ids.FindOne(ctx, idFilter(key), store.FindOptions{})
		if err == nil {
			uid, _ := lookupOID(d, "user_id")
			u, err := s.User(ctx, uid.Hex())
			if err == nil {
				return u, false, nil
			}
			if !errors.Is(err, ErrUserNotFound) {
				return nil, false, err
			}
			// A claim whose user was never written (a crash or a failed
			// creation function): take it over if it is still the same.
			if _, err := ids.DeleteOne(ctx, bson.D{{Key: "_id", Value: key}, {Key: "user_id", Value: uid}}); err != nil {
				return nil, false, s.internalError(ctx, "clear stale identity", err)
			}
			continue
		}
		if !errors.Is(err, store.ErrNoDocuments) {
			return nil, false, s.internalError(ctx, "read identity", err)
		}
		u, err := s.createUser(ctx, ident, userType)
		if errors.Is(err, errIdentityTaken) {
			continue
		}
		if err != nil {
			return nil, false, err
		}
		return u, true, nil
	}
	return nil, false, s.internalError(ctx, "claim identity", errors.New("identity kept changing owner"))
}

var errIdentityTaken = errors.New("identity belongs to another user")

func (s *Service) createUser(ctx context.Context, ident Identity, userType string) (*User, error) {
	oid := bson.NewObjectID()
	key := identityKey(ident.ProviderType, ident.ID)
	if _, err := s.coll(collIdentities).InsertOne(ctx, bson.D{{Key: "_id", Value: key}, {Key: "user_id", Value: oid}}); err != nil {
		if store.IsDuplicateKey(err) {
			return nil, errIdentityTaken
		}
		return nil, s.internalError(ctx, "claim identity", err)
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	u := &User{ID: oid.Hex(), Type: userType, Data: nonNilDoc(ident.ProviderData), Identities: []Identity{ident},
		CreatedAt: now}
	if err := s.runUserCreation(ctx, u); err != nil {
		_, _ = s.coll(collIdentities).DeleteOne(ctx, idFilter(key))
		return nil, err
	}
	_, err := s.coll(collUsers).InsertOne(ctx, bson.D{
		{Key: "_id", Value: oid},
		{Key: "type", Value: userType},
		{Key: "data", Value: u.Data},
		{Key: "identities", Value: bson.A{identityDoc(ident)}},
		{Key: "created_at", Value: dt(now)},
		{Key: "disabled", Value: false},
	})
	if err != nil {
		_, _ = s.coll(collIdentities).DeleteOne(ctx, idFilter(key))
		return nil, s.internalError(ctx, "store user", err)
	}
	return u, nil
}

// runUserCreation runs on_user_creation_function_name, if configured,
// before the user is stored; a throw aborts the creation.
func (s *Service) runUserCreation(ctx context.Context, u *User) error {
	app := s.app.Load()
	if app == nil || app.CustomUserData == nil || !app.CustomUserData.Enabled ||
		app.CustomUserData.OnUserCreationFunctionName == "" {
		return nil
	}
	name := app.CustomUserData.OnUserCreationFunctionName
	fn := s.functions()
	if fn == nil {
		return &Error{Code: CodeFunctionExecution, Message: "user creation function " + name + " cannot run: functions are not available",
			Err: errUserCreationFailed}
	}
	if _, err := fn.CallFunction(ctx, name, u.Document(nil)); err != nil {
		return &Error{Code: CodeFunctionExecution, Message: err.Error(), Err: fmt.Errorf("%w: %w", errUserCreationFailed, err)}
	}
	return nil
}

// linkIdentity adds ident to an existing user. An identity that already
// belongs to that user is a no-op; one that belongs to another user is
// refused.
func (s *Service) linkIdentity(ctx context.Context, userID string, ident Identity) (*User, error) {
	oid, err := bson.ObjectIDFromHex(userID)
	if err != nil {
		return nil, ErrUserNotFound
	}
	key := identityKey(ident.ProviderType, ident.ID)
	if _, err := s.coll(collIdentities).InsertOne(ctx, bson.D{{Key: "_id", Value: key}, {Key: "user_id", Value: oid}}); err != nil {
		if !store.IsDuplicateKey(err) {
			return nil, s.internalError(ctx, "claim identity", err)
		}
		d, err := s.coll(collIdentities).FindOne(ctx, idFilter(key), store.FindOptions{})
		if err != nil {
			return nil, s.internalError(ctx, "read identity", err)
		}
		if owner, _ := lookupOID(d, "user_id"); owner != oid {
			return nil, &Error{Code: CodeInvalidParameter, Message: msgLinkIdentityOwned}
		}
		return s.User(ctx, userID)
	}
	set := bson.D{}
	for _, e := range ident.ProviderData {
		set = append(set, bson.E{Key: "data." + e.Key, Value: e.Value})
	}
	update := bson.D{{Key: "$push", Value: bson.D{{Key: "identities", Value: identityDoc(ident)}}}}
	if len(set) > 0 {
		update = append(update, bson.E{Key: "$set", Value: set})
	}
	res, err := s.coll(collUsers).UpdateOne(ctx, idFilter(oid), update, store.UpdateOptions{})
	s.users.invalidate(oid.Hex())
	if err != nil || res.MatchedCount == 0 {
		_, _ = s.coll(collIdentities).DeleteOne(ctx, idFilter(key))
		if err != nil {
			return nil, s.internalError(ctx, "link identity", err)
		}
		return nil, ErrUserNotFound
	}
	return s.User(ctx, userID)
}

// touchLogin records a successful login, which is also activity (see
// anon.go).
func (s *Service) touchLogin(ctx context.Context, u *User) {
	oid, _ := bson.ObjectIDFromHex(u.ID)
	now := s.now().UTC().Truncate(time.Millisecond)
	u.LastLoginAt = now
	if _, err := s.coll(collUsers).UpdateOne(ctx, idFilter(oid), bson.D{{Key: "$set", Value: bson.D{
		{Key: "last_login_at", Value: dt(now)}, {Key: "last_active_at", Value: dt(now)}}}}, store.UpdateOptions{}); err != nil {
		s.log.WarnContext(ctx, "auth: record login time", "err", err)
	}
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

// refreshIdentityData stores the metadata of this login (a custom JWT's
// fields may change between logins) in the user's data and identity. The
// identities array is rewritten whole rather than with the positional $
// operator, which not every backend implements (FerretDB).
func (s *Service) refreshIdentityData(ctx context.Context, u *User, ident Identity) {
	oid, _ := bson.ObjectIDFromHex(u.ID)
	set := bson.D{}
	for _, e := range ident.ProviderData {
		set = append(set, bson.E{Key: "data." + e.Key, Value: e.Value})
		u.Data = setField(u.Data, e.Key, e.Value)
	}
	ids := bson.A{}
	for i := range u.Identities {
		if u.Identities[i].ProviderType == ident.ProviderType && u.Identities[i].ID == ident.ID {
			u.Identities[i].ProviderData = ident.ProviderData
		}
		ids = append(ids, identityDoc(u.Identities[i]))
	}
	set = append(set, bson.E{Key: "identities", Value: ids})
	_, err := s.coll(collUsers).UpdateOne(ctx, idFilter(oid), bson.D{{Key: "$set", Value: set}}, store.UpdateOptions{})
	s.users.invalidate(u.ID)
	if err != nil {
		s.log.WarnContext(ctx, "auth: refresh identity data", "err", err)
	}
}
