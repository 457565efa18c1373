package mongo

import (
	"context"
	"errors"
	"time"

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
//
// A driver change stream whose context ended is dead for good; the store's
// stream is not: the next Next reopens it after the last token it saw, so
// callers may wait with short-lived contexts.
type changeStream struct {
	open     func(ctx context.Context, startAfter bson.Raw) (*mongo.ChangeStream, error)
	cs       *mongo.ChangeStream // nil after a wait ended by its context
	maxAwait bool
	token    bson.Raw // the last known position, for reopening
	event    bson.D
	err      error
}

// newChangeStream opens a stream with watch (the collection's or the
// database's Watch); reopening replaces the start options with StartAfter
// the last token (StartAfter also works after an invalidate event).
func newChangeStream(ctx context.Context, pipeline []bson.D, opts store.WatchOptions,
	watch func(ctx context.Context, pipeline any, opts ...options.Lister[options.ChangeStreamOptions]) (*mongo.ChangeStream, error)) (*changeStream, error) {
	c := &changeStream{maxAwait: opts.MaxAwaitTime > 0}
	c.open = func(ctx context.Context, startAfter bson.Raw) (*mongo.ChangeStream, error) {
		o := opts
		if startAfter != nil {
			o.ResumeAfter, o.StartAfter, o.StartAtOperationTime = nil, nil, nil
		}
		cso := changeStreamOptions(o)
		if startAfter != nil {
			cso.SetStartAfter(startAfter)
		}
		return watch(ctx, pipelineOf(pipeline), cso)
	}
	cs, err := c.open(ctx, nil)
	if err != nil {
		return nil, mapError(err)
	}
	c.cs = cs
	return c, nil
}

func ctxEnded(ctx context.Context, err error) bool {
	return ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded))
}

func (c *changeStream) Next(ctx context.Context) bool {
	if c.err != nil {
		return false
	}
	if c.cs == nil {
		cs, err := c.open(ctx, c.token)
		if err != nil {
			if !ctxEnded(ctx, err) {
				c.err = mapError(err)
			}
			return false
		}
		c.cs = cs
	}
	var ok bool
	if c.maxAwait {
		ok = c.cs.TryNext(ctx)
	} else {
		ok = c.cs.Next(ctx)
	}
	if !ok {
		err := c.cs.Err()
		if err != nil && ctxEnded(ctx, err) {
			// The caller ended the wait, which is not a stream failure.
			if tok := c.cs.ResumeToken(); tok != nil {
				c.token = tok
			}
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			_ = c.cs.Close(cctx)
			cancel()
			c.cs = nil
			return false
		}
		c.err = mapError(err)
		return false
	}
	c.token = c.cs.ResumeToken()
	c.event, c.err = decode(c.cs.Current)
	return c.err == nil
}

func (c *changeStream) Event() bson.D { return c.event }

func (c *changeStream) ResumeToken() bson.D {
	raw := c.token
	if c.cs != nil {
		if tok := c.cs.ResumeToken(); tok != nil {
			raw = tok
		}
	}
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
	if c.cs == nil {
		return nil
	}
	err := c.cs.Close(ctx)
	c.cs = nil
	if c.err == nil {
		c.err = errors.New("mongodb: change stream closed")
	}
	return mapError(err)
}
