package dataaccess

import (
	"context"
	"errors"

	"go.mongodb.org/mongo-driver/v2/bson"
)

var errNotYet = errors.New("dataaccess: not yet implemented")

// Find returns the documents matching filter that the caller may read,
// redacted, then projected by the client's projection.
func (c *Collection) Find(ctx context.Context, filter bson.D, opts FindOptions) ([]bson.D, error) {
	return nil, errNotYet
}

// FindOne returns the first readable document Find would return, or nil.
func (c *Collection) FindOne(ctx context.Context, filter bson.D, opts FindOptions) (bson.D, error) {
	return nil, errNotYet
}

// Count counts the matching documents the caller may read.
func (c *Collection) Count(ctx context.Context, filter bson.D, opts CountOptions) (int64, error) {
	return 0, errNotYet
}

// Aggregate runs pipeline over the documents the caller may read.
func (c *Collection) Aggregate(ctx context.Context, pipeline []bson.D) ([]bson.D, error) {
	return nil, errNotYet
}

// InsertOne inserts doc (an ObjectId _id is added when missing).
func (c *Collection) InsertOne(ctx context.Context, doc bson.D) (*InsertOneResult, error) {
	return nil, errNotYet
}

// InsertMany inserts docs; any refused document refuses the whole request.
func (c *Collection) InsertMany(ctx context.Context, docs []bson.D) (*InsertManyResult, error) {
	return nil, errNotYet
}

// UpdateOne updates the first visible matching document.
func (c *Collection) UpdateOne(ctx context.Context, filter, update bson.D, opts UpdateOptions) (*UpdateResult, error) {
	return nil, errNotYet
}

// UpdateMany updates every visible matching document.
func (c *Collection) UpdateMany(ctx context.Context, filter, update bson.D, opts UpdateOptions) (*UpdateResult, error) {
	return nil, errNotYet
}

// ReplaceOne replaces the first visible matching document.
func (c *Collection) ReplaceOne(ctx context.Context, filter, replacement bson.D, opts UpdateOptions) (*UpdateResult, error) {
	return nil, errNotYet
}

// DeleteOne deletes the first visible matching document.
func (c *Collection) DeleteOne(ctx context.Context, filter bson.D) (*DeleteResult, error) {
	return nil, errNotYet
}

// DeleteMany deletes every visible matching document.
func (c *Collection) DeleteMany(ctx context.Context, filter bson.D) (*DeleteResult, error) {
	return nil, errNotYet
}

// FindOneAndUpdate updates the first visible match and returns it (pre- or
// post-image, redacted and projected), or nil.
func (c *Collection) FindOneAndUpdate(ctx context.Context, filter, update bson.D, opts FindOneAndModifyOptions) (bson.D, error) {
	return nil, errNotYet
}

// FindOneAndReplace replaces the first visible match and returns it, or nil.
func (c *Collection) FindOneAndReplace(ctx context.Context, filter, replacement bson.D, opts FindOneAndModifyOptions) (bson.D, error) {
	return nil, errNotYet
}

// FindOneAndDelete deletes the first visible match and returns its
// pre-image (redacted and projected), or nil.
func (c *Collection) FindOneAndDelete(ctx context.Context, filter bson.D, opts FindOneAndModifyOptions) (bson.D, error) {
	return nil, errNotYet
}
