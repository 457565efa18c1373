package dataaccess

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// WatchOptions are the client's watch arguments.
type WatchOptions struct {
	// IDs keeps only events whose documentKey._id is in the list.
	IDs bson.A
	// Filter is a $match on the change event, applied to the redacted
	// event so that it cannot probe withheld fields.
	Filter bson.D
}

// Subscription is one watcher of one namespace. Events arrive on Events()
// until it is closed; Err then says why (nil after Close, ErrSlowSubscriber
// when it fell behind, ErrClosed when the Access closed, or the feed's
// store error).
type Subscription struct {
	events chan bson.D
	done   chan struct{}
	err    error
	cancel func()
}

// Events delivers change events in MongoDB's shape (fullDocument redacted
// for the caller; fullDocumentBeforeChange never included). The channel is
// closed when the subscription ends.
func (s *Subscription) Events() <-chan bson.D { return s.events }

// Err is why the subscription ended; valid once Events is closed.
func (s *Subscription) Err() error { return s.err }

// Close ends the subscription. It is safe to call more than once.
func (s *Subscription) Close() {
	if s.cancel != nil {
		s.cancel()
	}
}

// Watch subscribes the caller to changes of this namespace. The change
// stream is open when Watch returns, so every write committed afterwards
// is seen. Close the subscription (or cancel ctx) to stop.
func (c *Collection) Watch(ctx context.Context, opts WatchOptions) (*Subscription, error) {
	return nil, errNotYet
}

// feed is one database's change stream, fanned out to subscribers.
type feed struct{}

func (f *feed) stop() {}
