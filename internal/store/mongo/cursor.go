package mongo

import (
	"context"
	"errors"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/atollhq/atoll/internal/store"
)

// cursor wraps a driver cursor, decoding each document to bson.D.
type cursor struct {
	cur *mongo.Cursor
	doc bson.D
	err error
}

func (c *cursor) Next(ctx context.Context) bool {
	if c.err != nil {
		return false
	}
	if !c.cur.Next(ctx) {
		c.err = mapError(c.cur.Err())
		return false
	}
	c.doc, c.err = decode(c.cur.Current)
	return c.err == nil
}

func (c *cursor) Doc() bson.D { return c.doc }
func (c *cursor) Err() error  { return c.err }
func (c *cursor) Close(ctx context.Context) error {
	return mapError(c.cur.Close(ctx))
}

func changeStreamOptions(opts store.WatchOptions) *options.ChangeStreamOptionsBuilder {
	o := options.ChangeStream()
	if opts.FullDocument != "" {
		o.SetFullDocument(options.FullDocument(opts.FullDocument))
	}
	if opts.FullDocumentBeforeChange != "" {
		o.SetFullDocumentBeforeChange(options.FullDocument(opts.FullDocumentBeforeChange))
	}
	if opts.ResumeAfter != nil {
		o.SetResumeAfter(opts.ResumeAfter)
	}
	if opts.StartAfter != nil {
		o.SetStartAfter(opts.StartAfter)
	}
	if opts.StartAtOperationTime != nil {
		o.SetStartAtOperationTime(opts.StartAtOperationTime)
	}
	if opts.MaxAwaitTime > 0 {
		o.SetMaxAwaitTime(opts.MaxAwaitTime)
	}
	if opts.BatchSize != 0 {
		o.SetBatchSize(opts.BatchSize)
	}
	return o
}

// changeStream wraps a driver change stream. With a MaxAwaitTime, Next
// makes one getMore round (which the server holds for up to MaxAwaitTime)
// and reports false with no error when it brought nothing; without one, it
// waits until an event arrives or ctx ends.
type changeStream struct {
	cs       *mongo.ChangeStream
	maxAwait bool
	event    bson.D
	err      error
}

func (c *changeStream) Next(ctx context.Context) bool {
	if c.err != nil {
		return false
	}
	var ok bool
	if c.maxAwait {
		ok = c.cs.TryNext(ctx)
	} else {
		ok = c.cs.Next(ctx)
	}
	if !ok {
		err := c.cs.Err()
		if err != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) && ctx.Err() != nil {
			// The caller ended the wait; that is not a stream failure.
			return false
		}
		c.err = mapError(err)
		return false
	}
	c.event, c.err = decode(c.cs.Current)
	return c.err == nil
}

func (c *changeStream) Event() bson.D { return c.event }

func (c *changeStream) ResumeToken() bson.D {
	raw := c.cs.ResumeToken()
	if raw == nil {
		return nil
	}
	d, err := decode(raw)
	if err != nil {
		return nil
	}
	return d
}

func (c *changeStream) Err() error { return c.err }
func (c *changeStream) Close(ctx context.Context) error {
	return mapError(c.cs.Close(ctx))
}
