package auth

import (
	"context"

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
	return nil, errNotYet
}
