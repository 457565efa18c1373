package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/atollhq/atoll/internal/store"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// APIKey is a server or user API key. Key is set only in the result of a
// create; only a SHA-256 of it is stored (keys are 256 random bits, so a
// fast hash suffices and lookups stay one indexed read).
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
	maxAPIKeyName    = 256
)

func hashKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

func keyFromDoc(d bson.D) *APIKey {
	id, _ := lookupOID(d, "_id")
	name, _ := lookupString(d, "name")
	uid, _ := lookupOID(d, "user_id")
	return &APIKey{ID: id.Hex(), Name: name, Disabled: lookupBool(d, "disabled"), UserID: uid.Hex()}
}

func (s *Service) insertAPIKey(ctx context.Context, owner bson.ObjectID, keyID bson.ObjectID, name string, server bool) (*APIKey, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, s.internalError(ctx, "api key", err)
	}
	key := hex.EncodeToString(raw)
	_, err := s.coll(collAPIKeys).InsertOne(ctx, bson.D{
		{Key: "_id", Value: keyID},
		{Key: "key_hash", Value: hashKey(key)},
		{Key: "name", Value: name},
		{Key: "disabled", Value: false},
		{Key: "user_id", Value: owner},
		{Key: "server", Value: server},
		{Key: "created_at", Value: dt(s.now())},
	})
	if err != nil {
		return nil, s.internalError(ctx, "store api key", err)
	}
	return &APIKey{ID: keyID.Hex(), Key: key, Name: name, UserID: owner.Hex()}, nil
}

func checkKeyName(name string) error {
	if name == "" || len(name) > maxAPIKeyName {
		return &Error{Code: CodeInvalidParameter, Message: "API key name must be between 1 and 256 characters"}
	}
	return nil
}

func (s *Service) listKeys(ctx context.Context, filter bson.D) ([]*APIKey, error) {
	cur, err := s.coll(collAPIKeys).Find(ctx, filter, store.FindOptions{Sort: bson.D{{Key: "_id", Value: 1}}})
	if err != nil {
		return nil, s.internalError(ctx, "list api keys", err)
	}
	docs, err := store.All(ctx, cur)
	if err != nil {
		return nil, s.internalError(ctx, "list api keys", err)
	}
	out := make([]*APIKey, 0, len(docs))
	for _, d := range docs {
		out = append(out, keyFromDoc(d))
	}
	return out, nil
}

// CreateUserAPIKey creates a key for the session's user (not anonymous).
func (s *Service) CreateUserAPIKey(ctx context.Context, sess *Session, name string) (*APIKey, error) {
	if err := checkKeyName(name); err != nil {
		return nil, err
	}
	u, err := s.User(ctx, sess.UserID)
	if err != nil {
		return nil, err
	}
	anonOnly := true
	for _, id := range u.Identities {
		if id.ProviderType != ProviderAnon {
			anonOnly = false
		}
	}
	if anonOnly || u.Type != UserTypeNormal {
		return nil, &Error{Code: CodeBadRequest, Message: msgAnonNoAPIKeys}
	}
	uid, _ := bson.ObjectIDFromHex(u.ID)
	existing, err := s.listKeys(ctx, bson.D{{Key: "user_id", Value: uid}})
	if err != nil {
		return nil, err
	}
	if len(existing) >= MaxUserAPIKeys {
		return nil, &Error{Code: CodeBadRequest, Message: fmt.Sprintf("a user may have at most %d API keys", MaxUserAPIKeys)}
	}
	for _, k := range existing {
		if k.Name == name {
			return nil, &Error{Code: "APIKeyAlreadyExists", Message: fmt.Sprintf("API key with name %q already exists", name)}
		}
	}
	return s.insertAPIKey(ctx, uid, bson.NewObjectID(), name, false)
}

// UserAPIKeys lists the session user's keys, without key values.
func (s *Service) UserAPIKeys(ctx context.Context, sess *Session) ([]*APIKey, error) {
	uid, err := bson.ObjectIDFromHex(sess.UserID)
	if err != nil {
		return nil, ErrUserNotFound
	}
	return s.listKeys(ctx, bson.D{{Key: "user_id", Value: uid}, {Key: "server", Value: false}})
}

func (s *Service) userKeyFilter(sess *Session, keyID string) (bson.D, error) {
	uid, err := bson.ObjectIDFromHex(sess.UserID)
	if err != nil {
		return nil, ErrAPIKeyNotFound
	}
	kid, err := bson.ObjectIDFromHex(keyID)
	if err != nil {
		return nil, ErrAPIKeyNotFound
	}
	return bson.D{{Key: "_id", Value: kid}, {Key: "user_id", Value: uid}, {Key: "server", Value: false}}, nil
}

// UserAPIKey returns one of the session user's keys, or ErrAPIKeyNotFound.
func (s *Service) UserAPIKey(ctx context.Context, sess *Session, keyID string) (*APIKey, error) {
	f, err := s.userKeyFilter(sess, keyID)
	if err != nil {
		return nil, err
	}
	d, err := s.coll(collAPIKeys).FindOne(ctx, f, store.FindOptions{})
	if errors.Is(err, store.ErrNoDocuments) {
		return nil, ErrAPIKeyNotFound
	}
	if err != nil {
		return nil, s.internalError(ctx, "read api key", err)
	}
	return keyFromDoc(d), nil
}

// EnableUserAPIKey enables one of the session user's keys.
func (s *Service) EnableUserAPIKey(ctx context.Context, sess *Session, keyID string) error {
	return s.setKeyDisabled(ctx, sess, keyID, false)
}

// DisableUserAPIKey disables one of the session user's keys; logins with
// it fail, and sessions opened with it end.
func (s *Service) DisableUserAPIKey(ctx context.Context, sess *Session, keyID string) error {
	return s.setKeyDisabled(ctx, sess, keyID, true)
}

func (s *Service) setKeyDisabled(ctx context.Context, sess *Session, keyID string, v bool) error {
	f, err := s.userKeyFilter(sess, keyID)
	if err != nil {
		return err
	}
	res, err := s.coll(collAPIKeys).UpdateOne(ctx, f, bson.D{{Key: "$set", Value: bson.D{{Key: "disabled", Value: v}}}}, store.UpdateOptions{})
	if err != nil {
		return s.internalError(ctx, "update api key", err)
	}
	if res.MatchedCount == 0 {
		return ErrAPIKeyNotFound
	}
	if v {
		return s.endKeySessions(ctx, sess.UserID, keyID)
	}
	return nil
}

func (s *Service) endKeySessions(ctx context.Context, userID, keyID string) error {
	uid, _ := bson.ObjectIDFromHex(userID)
	return s.deleteSessions(ctx, bson.D{{Key: "user_id", Value: uid},
		{Key: "identity.provider_type", Value: ProviderAPIKey}, {Key: "identity.id", Value: keyID}})
}

// DeleteUserAPIKey deletes one of the session user's keys and the sessions
// opened with it. Deleting the key the session itself logged in with is
// CodePermissionDenied.
func (s *Service) DeleteUserAPIKey(ctx context.Context, sess *Session, keyID string) error {
	if sess.Identity.ProviderType == ProviderAPIKey && sess.Identity.ID == keyID {
		return &Error{Code: CodePermissionDenied, Message: msgAPIKeyInUse}
	}
	f, err := s.userKeyFilter(sess, keyID)
	if err != nil {
		return err
	}
	res, err := s.coll(collAPIKeys).DeleteOne(ctx, f)
	if err != nil {
		return s.internalError(ctx, "delete api key", err)
	}
	if res.DeletedCount == 0 {
		return ErrAPIKeyNotFound
	}
	return s.endKeySessions(ctx, sess.UserID, keyID)
}

// CreateServerAPIKey creates a server key with its own server user whose
// data.name is the key name, and fires CREATE.
func (s *Service) CreateServerAPIKey(ctx context.Context, name string) (*APIKey, error) {
	if err := checkKeyName(name); err != nil {
		return nil, err
	}
	existing, err := s.ServerAPIKeys(ctx)
	if err != nil {
		return nil, err
	}
	if len(existing) >= MaxServerAPIKeys {
		return nil, &Error{Code: CodeBadRequest, Message: fmt.Sprintf("an app may have at most %d server API keys", MaxServerAPIKeys)}
	}
	for _, k := range existing {
		if k.Name == name {
			return nil, &Error{Code: "APIKeyAlreadyExists", Message: fmt.Sprintf("API key with name %q already exists", name)}
		}
	}
	keyID := bson.NewObjectID()
	ident := Identity{ID: keyID.Hex(), ProviderType: ProviderAPIKey, ProviderID: s.providerID(ProviderAPIKey),
		ProviderData: bson.D{{Key: "name", Value: name}}}
	u, err := s.createUser(ctx, ident, UserTypeServer)
	if err != nil {
		return nil, err
	}
	uid, _ := bson.ObjectIDFromHex(u.ID)
	k, err := s.insertAPIKey(ctx, uid, keyID, name, true)
	if err != nil {
		_ = s.DeleteUser(ctx, u.ID)
		return nil, err
	}
	s.emit(ctx, OpCreate, u, ProviderAPIKey)
	return k, nil
}

// ServerAPIKeys lists the server keys, without key values.
func (s *Service) ServerAPIKeys(ctx context.Context) ([]*APIKey, error) {
	return s.listKeys(ctx, bson.D{{Key: "server", Value: true}})
}

// DeleteServerAPIKey deletes a server key and its server user.
func (s *Service) DeleteServerAPIKey(ctx context.Context, keyID string) error {
	kid, err := bson.ObjectIDFromHex(keyID)
	if err != nil {
		return ErrAPIKeyNotFound
	}
	d, err := s.coll(collAPIKeys).FindOneAndDelete(ctx, bson.D{{Key: "_id", Value: kid}, {Key: "server", Value: true}}, store.FindOneAndModifyOptions{})
	if errors.Is(err, store.ErrNoDocuments) {
		return ErrAPIKeyNotFound
	}
	if err != nil {
		return s.internalError(ctx, "delete api key", err)
	}
	err = s.DeleteUser(ctx, keyFromDoc(d).UserID)
	if errors.Is(err, ErrUserNotFound) {
		return nil
	}
	return err
}

// apiKeyLogin finds the key's owner. Unknown and disabled keys fail like
// a wrong password.
func (s *Service) apiKeyLogin(ctx context.Context, clientIP string, body bson.D) (*User, Identity, error) {
	if err := s.limit(ctx, clientIP, ""); err != nil {
		return nil, Identity{}, err
	}
	key, _ := bodyString(body, "key")
	if key == "" {
		return nil, Identity{}, ErrInvalidPassword
	}
	d, err := s.coll(collAPIKeys).FindOne(ctx, bson.D{{Key: "key_hash", Value: hashKey(key)}}, store.FindOptions{})
	if errors.Is(err, store.ErrNoDocuments) {
		return nil, Identity{}, ErrInvalidPassword
	}
	if err != nil {
		return nil, Identity{}, s.internalError(ctx, "read api key", err)
	}
	k := keyFromDoc(d)
	if k.Disabled {
		return nil, Identity{}, ErrInvalidPassword
	}
	u, err := s.User(ctx, k.UserID)
	if errors.Is(err, ErrUserNotFound) {
		return nil, Identity{}, ErrInvalidPassword
	}
	if err != nil {
		return nil, Identity{}, err
	}
	return u, Identity{ID: k.ID, ProviderType: ProviderAPIKey}, nil
}
