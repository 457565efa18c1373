package auth

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/atollhq/atoll/internal/store"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// signingKey is one HS256 key. Keys are 256 random bits, stored in
// auth_keys so every process shares them.
type signingKey struct {
	kid    string
	secret []byte
	// header is the header segment of the tokens this key signs
	// (ownHeader), which parseOwn recognises.
	header  string
	created time.Time
	active  bool
}

// keyRing caches the signing keys of auth_keys.
type keyRing struct {
	s *Service

	mu     sync.RWMutex
	byKID  map[string]*signingKey
	signer *signingKey
}

// load reads the keys; with create, it makes the first key when there is
// none.
func (r *keyRing) load(ctx context.Context, create bool) error {
	c := r.s.coll(collKeys)
	cur, err := c.Find(ctx, bson.D{}, store.FindOptions{Sort: bson.D{{Key: "created_at", Value: 1}, {Key: "_id", Value: 1}}})
	if err != nil {
		return fmt.Errorf("auth: read signing keys: %w", err)
	}
	docs, err := store.All(ctx, cur)
	if err != nil {
		return fmt.Errorf("auth: read signing keys: %w", err)
	}
	byKID := map[string]*signingKey{}
	var signer *signingKey
	for _, d := range docs {
		k := signingKeyFromDoc(d)
		if k == nil {
			continue
		}
		byKID[k.kid] = k
		// The newest active key signs; several can be active for a moment
		// during a rotation by two processes.
		if k.active && (signer == nil || !k.created.Before(signer.created)) {
			signer = k
		}
	}
	if signer == nil && create {
		if _, err := r.s.insertKey(ctx); err != nil {
			return err
		}
		return r.load(ctx, false)
	}
	if signer == nil {
		return errors.New("auth: no active signing key")
	}
	r.mu.Lock()
	r.byKID, r.signer = byKID, signer
	r.mu.Unlock()
	// A key may have been retired: its tokens must not keep verifying
	// from the cache.
	r.s.access.reset()
	return nil
}

// byHeader returns the known key whose tokens have this header segment,
// or nil. There are one or two keys (more only during rotations).
func (r *keyRing) byHeader(hdr string) *signingKey {
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, k := range r.byKID {
		if k.header != "" && k.header == hdr {
			return k
		}
	}
	return nil
}

func (r *keyRing) current() *signingKey {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.signer
}

// lookup returns the key with kid. An unknown kid is read from the store
// (one _id lookup, the cost of a session check), which is how a key
// rotated by another process becomes known here at once.
func (r *keyRing) lookup(ctx context.Context, kid string) (*signingKey, bool) {
	r.mu.RLock()
	k, ok := r.byKID[kid]
	r.mu.RUnlock()
	if ok {
		return k, true
	}
	if _, err := bson.ObjectIDFromHex(kid); err != nil {
		return nil, false // not one of ours; spare the store
	}
	d, err := r.s.coll(collKeys).FindOne(ctx, idFilter(kid), store.FindOptions{})
	if err != nil {
		if !errors.Is(err, store.ErrNoDocuments) {
			r.s.log.WarnContext(ctx, "auth: read signing key", "err", err)
		}
		return nil, false
	}
	k = signingKeyFromDoc(d)
	if k == nil {
		return nil, false
	}
	r.mu.Lock()
	r.byKID[kid] = k
	r.mu.Unlock()
	return k, true
}

func signingKeyFromDoc(d bson.D) *signingKey {
	kid, _ := lookupString(d, "_id")
	v, _ := lookup(d, "secret")
	bin, ok := v.(bson.Binary)
	if kid == "" || !ok || len(bin.Data) < 32 {
		return nil
	}
	return &signingKey{kid: kid, secret: bin.Data, header: ownHeader(kid),
		created: lookupTime(d, "created_at"), active: lookupBool(d, "active")}
}

func (s *Service) insertKey(ctx context.Context) (string, error) {
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return "", err
	}
	kid := bson.NewObjectID().Hex()
	_, err := s.coll(collKeys).InsertOne(ctx, bson.D{
		{Key: "_id", Value: kid},
		{Key: "secret", Value: bson.Binary{Subtype: 0, Data: secret}},
		{Key: "created_at", Value: dt(s.now())},
		{Key: "active", Value: true},
	})
	if err != nil {
		return "", fmt.Errorf("auth: store signing key: %w", err)
	}
	return kid, nil
}

// RotateSigningKey creates a new token signing key and makes it the one
// that signs; older keys keep verifying the tokens they signed until
// RetireSigningKeys removes them. It returns the new kid.
func (s *Service) RotateSigningKey(ctx context.Context) (string, error) {
	kid, err := s.insertKey(ctx)
	if err != nil {
		return "", err
	}
	if _, err := s.coll(collKeys).UpdateMany(ctx,
		bson.D{{Key: "_id", Value: bson.D{{Key: "$ne", Value: kid}}}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "active", Value: false}}}}, store.UpdateOptions{}); err != nil {
		return "", fmt.Errorf("auth: deactivate old keys: %w", err)
	}
	return kid, s.keys.load(ctx, false)
}

// RetireSigningKeys deletes inactive signing keys created before the
// cutoff; tokens they signed stop verifying. Refresh tokens live 60 days
// by default, so retire a key no sooner than that after its rotation.
func (s *Service) RetireSigningKeys(ctx context.Context, before time.Time) error {
	if _, err := s.coll(collKeys).DeleteMany(ctx, bson.D{
		{Key: "active", Value: false},
		{Key: "created_at", Value: bson.D{{Key: "$lt", Value: dt(before)}}},
	}); err != nil {
		return fmt.Errorf("auth: retire keys: %w", err)
	}
	return s.keys.load(ctx, false)
}
