package auth

import (
	"context"
	"errors"
	"fmt"

	"github.com/atollhq/atoll/internal/store"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// MaxCustomDataSize is the size in bytes (as Extended JSON in the token)
// above which custom user data is logged as too big: App Services advises
// under 16 KB since it travels in every access token and request header.
// The data is still delivered.
const MaxCustomDataSize = 16 * 1024

// CustomData reads the user's custom user data document from the
// configured collection: nil when custom user data is disabled or no
// document matches. Among several matches a document whose id field holds
// the id as a string wins over an ObjectId one, then the smallest _id (the
// first inserted for ObjectId _ids).
func (s *Service) CustomData(ctx context.Context, userID string) (bson.D, error) {
	app := s.app.Load()
	if app == nil || app.CustomUserData == nil || !app.CustomUserData.Enabled {
		return nil, nil
	}
	cfg := app.CustomUserData
	if cfg.DatabaseName == "" || cfg.CollectionName == "" || cfg.UserIDField == "" {
		return nil, nil
	}
	c := s.st.Database(cfg.DatabaseName).Collection(cfg.CollectionName)
	// Sorting by _id ascending stands for "first inserted": ObjectIds grow
	// with insertion time, and a sort works on both backends, unlike
	// natural order.
	opts := store.FindOptions{Sort: bson.D{{Key: "_id", Value: 1}}}
	d, err := c.FindOne(ctx, bson.D{{Key: cfg.UserIDField, Value: userID}}, opts)
	if errors.Is(err, store.ErrNoDocuments) {
		oid, perr := bson.ObjectIDFromHex(userID)
		if perr != nil {
			return nil, nil
		}
		d, err = c.FindOne(ctx, bson.D{{Key: cfg.UserIDField, Value: oid}}, opts)
	}
	if errors.Is(err, store.ErrNoDocuments) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("auth: read custom user data from %s.%s: %w", cfg.DatabaseName, cfg.CollectionName, err)
	}
	return d, nil
}
