package dataaccess

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/mql"
	"github.com/atollhq/atoll/internal/rules"
	"github.com/atollhq/atoll/internal/store"
)

// Change events reach watchers through one change stream per database
// per process (a feed), opened by the first subscriber and closed with the
// last. The feed goroutine decides and redacts every event for every
// subscriber of the event's collection and hands it over without ever
// blocking: a subscriber whose buffer is full is dropped with
// ErrSlowSubscriber, so a slow client never slows the feed, let alone the
// writers (the store's change stream reads a durable log and is not on
// the write path).
//
// Which document an event is decided on: the post-image (fullDocument)
// for inserts, updates and replaces; the pre-image for deletes, from the
// store (collections this package creates record pre-images) or from the
// pre-images of deletes committed through this Access. A delete whose
// pre-image is unknown is delivered to system callers only: deciding it
// without the document could reveal that a withheld document existed.

// WatchOptions are the client's watch arguments.
type WatchOptions struct {
	// IDs keeps only events whose documentKey._id is in the list.
	IDs bson.A
	// Filter is a $match on the change event, applied to the redacted
	// event so that it cannot probe withheld fields.
	Filter bson.D
}

// Subscription is one watcher of one namespace. Events arrive on Events()
// until it ends; Err then says why (nil after Close or when ctx ended,
// ErrSlowSubscriber when it fell behind, ErrClosed when the Access closed,
// or the feed's store error).
type Subscription struct {
	c      *Collection
	ids    bson.A
	filter *mql.Filter
	events chan bson.D
	feed   *feed
	once   sync.Once
	err    error
	stopAF func() bool
}

// Events delivers change events in MongoDB's shape (fullDocument redacted
// for the caller; fullDocumentBeforeChange never included). The channel is
// closed when the subscription ends.
func (s *Subscription) Events() <-chan bson.D { return s.events }

// Err is why the subscription ended; valid once Events is closed.
func (s *Subscription) Err() error { return s.err }

// Close ends the subscription. It is safe to call more than once and from
// any goroutine.
func (s *Subscription) Close() { s.feed.remove(s, nil) }

// Watch subscribes the caller to changes of this namespace. The change
// stream is open when Watch returns, so every write committed afterwards
// is seen. The subscription ends with Close, when ctx ends, or when it
// falls behind. The caller's rules view is the one bound for this request:
// a redeploy applies to subscriptions opened after it.
func (c *Collection) Watch(ctx context.Context, opts WatchOptions) (*Subscription, error) {
	opts.Filter = norm(opts.Filter)
	if ids, ok := mql.Normalize(opts.IDs).(bson.A); ok {
		opts.IDs = ids
	}
	if err := checkInput(opts.Filter, opts.IDs); err != nil {
		return nil, err
	}
	sub := &Subscription{c: c, ids: opts.IDs, events: make(chan bson.D, c.a.opts.WatchBuffer)}
	if len(opts.Filter) > 0 {
		// Only the operators are checked: the filter runs on the redacted
		// event, so its field references cannot reach withheld values.
		if err := c.view.CheckPipeline([]bson.D{{{Key: "$skip", Value: int32(0)}}, {{Key: "$match", Value: opts.Filter}}}); err != nil {
			return nil, AsError(err)
		}
		f, err := mql.CompileFilter(opts.Filter)
		if err != nil {
			return nil, AsError(err)
		}
		sub.filter = f
	}
	if err := c.a.subscribe(ctx, c.db, sub); err != nil {
		return nil, err
	}
	return sub, nil
}

// feed is one database's change stream, fanned out to subscribers.
type feed struct {
	a      *Access
	db     string
	cancel context.CancelFunc
	done   chan struct{}

	mu   sync.Mutex
	subs map[*Subscription]struct{}
}

// subscribe adds sub to the database's feed, opening the feed if needed.
func (a *Access) subscribe(ctx context.Context, db string, sub *Subscription) error {
	a.feedsMu.Lock()
	defer a.feedsMu.Unlock()
	if a.closed {
		return AsError(ErrClosed)
	}
	f := a.feeds[db]
	if f == nil {
		var err error
		if f, err = a.openFeed(ctx, db); err != nil {
			return err
		}
		a.feeds[db] = f
	}
	sub.feed = f
	f.mu.Lock()
	f.subs[sub] = struct{}{}
	// The subscription ends with the request; AfterFunc runs Close on its
	// own goroutine, so holding f.mu here cannot deadlock.
	sub.stopAF = context.AfterFunc(ctx, sub.Close)
	f.mu.Unlock()
	return nil
}

// openFeed opens the change stream of db and starts its goroutine, which
// the Access owns (Close waits for it).
func (a *Access) openFeed(ctx context.Context, db string) (*feed, error) {
	if !a.st.Capabilities().ChangeStreams {
		return nil, newError(CodeMongoDBError, http.StatusBadRequest, nil, "this deployment does not support change streams")
	}
	a.recordPreImages(ctx, db)
	fctx, cancel := context.WithCancel(context.Background())
	cs, err := a.st.Database(db).Watch(ctx, nil, store.WatchOptions{FullDocument: "whenAvailable", FullDocumentBeforeChange: "whenAvailable"})
	if err != nil {
		cancel()
		return nil, AsError(err)
	}
	f := &feed{a: a, db: db, cancel: cancel, done: make(chan struct{}), subs: map[*Subscription]struct{}{}}
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		defer close(f.done)
		defer cancel()
		defer cs.Close(context.Background())
		for cs.Next(fctx) {
			f.dispatch(fctx, cs.Event())
		}
		err := cs.Err()
		if fctx.Err() != nil {
			err = ErrClosed
		} else if err == nil {
			err = errors.New("change stream ended")
		}
		if !errors.Is(err, ErrClosed) {
			a.log.Warn("dataaccess: change feed ended", "db", db, "err", err)
		}
		f.endAll(err)
	}()
	return f, nil
}

// recordPreImages creates the app's configured collections of db with
// pre-image recording, so that deletes can be decided on the deleted
// document. Collections that already exist are left as they are.
func (a *Access) recordPreImages(ctx context.Context, db string) {
	s := a.snap.Load()
	for _, name := range s.order {
		for ns := range s.services[name].rules.Collections {
			d, coll, ok := strings.Cut(ns, ".")
			if !ok || d != db {
				continue
			}
			err := a.st.Database(db).CreateCollection(ctx, coll, store.CreateCollectionOptions{ChangeStreamPreAndPostImages: true})
			if err != nil && store.ErrorCode(err) != store.CodeNamespaceExists {
				a.log.Debug("dataaccess: cannot create collection with pre-images", "ns", ns, "err", err)
			}
		}
	}
}

// stop ends the feed and waits for its goroutine.
func (f *feed) stop() {
	f.cancel()
	<-f.done
}

// remove ends sub with err; the feed stops with its last subscriber.
func (f *feed) remove(s *Subscription, err error) {
	s.once.Do(func() {
		f.mu.Lock()
		if s.stopAF != nil {
			defer s.stopAF()
		}
		delete(f.subs, s)
		s.err = err
		close(s.events)
		empty := len(f.subs) == 0
		f.mu.Unlock()
		if empty {
			f.a.feedsMu.Lock()
			if f.a.feeds[f.db] == f {
				f.mu.Lock()
				// A subscriber may have joined since.
				if len(f.subs) == 0 {
					delete(f.a.feeds, f.db)
					f.cancel()
				}
				f.mu.Unlock()
			}
			f.a.feedsMu.Unlock()
		}
	})
}

// endAll ends every subscriber with err (the feed is gone).
func (f *feed) endAll(err error) {
	f.a.feedsMu.Lock()
	if f.a.feeds[f.db] == f {
		delete(f.a.feeds, f.db)
	}
	f.a.feedsMu.Unlock()
	f.mu.Lock()
	subs := make([]*Subscription, 0, len(f.subs))
	for s := range f.subs {
		subs = append(subs, s)
	}
	f.mu.Unlock()
	for _, s := range subs {
		f.remove(s, err)
	}
}

// dispatch decides ev for every subscriber of its collection.
func (f *feed) dispatch(ctx context.Context, ev bson.D) {
	ns, _ := mql.Get(ev, "ns").(bson.D)
	coll, _ := mql.Get(ns, "coll").(string)
	op, _ := mql.Get(ev, "operationType").(string)
	var slow []*Subscription
	looked := false
	f.mu.Lock()
	for s := range f.subs {
		if s.c.name != coll {
			continue
		}
		if op == "update" && !looked {
			looked = true
			if _, ok := mql.Get(ev, "fullDocument").(bson.D); !ok {
				// No recorded post-image: decide on the current document
				// (updateLookup semantics), once for all subscribers.
				key, _ := mql.Get(ev, "documentKey").(bson.D)
				doc, err := f.a.st.Database(f.db).Collection(coll).FindOne(ctx, bson.D{{Key: "_id", Value: mql.Get(key, "_id")}}, store.FindOptions{})
				if err == nil {
					ev = withField(ev, "fullDocument", doc)
				}
			}
		}
		out := s.present(ctx, op, ev)
		if out == nil {
			continue
		}
		select {
		case s.events <- out:
		default:
			slow = append(slow, s)
		}
	}
	f.mu.Unlock()
	for _, s := range slow {
		f.remove(s, AsError(ErrSlowSubscriber))
	}
}

// present is the event as this subscriber may see it, or nil.
func (s *Subscription) present(ctx context.Context, op string, ev bson.D) bson.D {
	key, _ := mql.Get(ev, "documentKey").(bson.D)
	id := mql.Get(key, "_id")
	if len(s.ids) > 0 {
		found := false
		for _, want := range s.ids {
			if mql.TypeOf(want) == mql.TypeOf(id) && mql.Equal(want, id) {
				found = true
				break
			}
		}
		if !found {
			return nil
		}
	}
	out := make(bson.D, 0, len(ev))
	if s.c.view.System() {
		for _, e := range ev {
			if e.Key != "fullDocumentBeforeChange" {
				out = append(out, e)
			}
		}
		return s.match(out)
	}
	var doc bson.D
	switch op {
	case "insert", "update", "replace":
		doc, _ = mql.Get(ev, "fullDocument").(bson.D)
	case "delete":
		doc, _ = mql.Get(ev, "fullDocumentBeforeChange").(bson.D)
		if doc == nil {
			doc = s.c.a.deletedImage(s.c.db, s.c.name, id)
		}
	default:
		// drop, rename, invalidate, ...: not about a document the rules
		// can decide.
		return nil
	}
	if doc == nil {
		return nil
	}
	red, dec := s.c.view.Read(ctx, doc)
	if red == nil {
		return nil
	}
	whole := dec.Level == rules.Whole
	for _, e := range ev {
		switch e.Key {
		case "fullDocumentBeforeChange":
		case "fullDocument":
			if op != "delete" {
				out = append(out, bson.E{Key: "fullDocument", Value: red})
			}
		case "documentKey":
			if !mql.IsMissing(mql.Get(red, "_id")) {
				out = append(out, e)
			}
		case "updateDescription":
			ud, _ := e.Value.(bson.D)
			if !whole {
				ud = s.redactUpdateDescription(ud)
			}
			out = append(out, bson.E{Key: "updateDescription", Value: ud})
		default:
			out = append(out, e)
		}
	}
	return s.match(out)
}

// redactUpdateDescription keeps only the changed paths the caller may read.
func (s *Subscription) redactUpdateDescription(ud bson.D) bson.D {
	readable := func(path string) bool { return s.c.view.CheckSort(bson.D{{Key: path, Value: int32(1)}}) == nil }
	out := make(bson.D, 0, len(ud))
	for _, e := range ud {
		switch x := e.Value.(type) {
		case bson.D:
			kept := bson.D{}
			for _, f := range x {
				if readable(f.Key) {
					kept = append(kept, f)
				}
			}
			out = append(out, bson.E{Key: e.Key, Value: kept})
		case bson.A:
			kept := bson.A{}
			for _, v := range x {
				p, _ := v.(string)
				if p == "" {
					if td, ok := v.(bson.D); ok {
						p, _ = mql.Get(td, "field").(string)
					}
				}
				if p != "" && readable(p) {
					kept = append(kept, v)
				}
			}
			out = append(out, bson.E{Key: e.Key, Value: kept})
		default:
			out = append(out, e)
		}
	}
	return out
}

// withField returns ev with key set to v (replaced or appended).
func withField(ev bson.D, key string, v any) bson.D {
	out := make(bson.D, 0, len(ev)+1)
	found := false
	for _, e := range ev {
		if e.Key == key {
			e.Value, found = v, true
		}
		out = append(out, e)
	}
	if !found {
		out = append(out, bson.E{Key: key, Value: v})
	}
	return out
}

func (s *Subscription) match(ev bson.D) bson.D {
	if s.filter != nil && !s.filter.Match(ev) {
		return nil
	}
	return ev
}

// deleted pre-images remembered for change events: deletes committed
// through this Access, for stores that did not record the pre-image.
const deletedImagesCap = 4096

type deletedImages struct {
	mu    sync.Mutex
	byKey map[string]bson.D
	ring  []string
	next  int
}

func imageKey(db, coll string, id any) string {
	t, b, err := bson.MarshalValue(id)
	if err != nil {
		return ""
	}
	return db + "\x00" + coll + "\x00" + string(rune(t)) + string(b)
}

// rememberDeleted records the pre-image of a committed delete, when a
// feed may need it.
func (a *Access) rememberDeleted(db, coll string, pre bson.D) {
	a.feedsMu.Lock()
	watched := a.feeds[db] != nil
	a.feedsMu.Unlock()
	if !watched {
		return
	}
	k := imageKey(db, coll, mql.Get(pre, "_id"))
	if k == "" {
		return
	}
	di := &a.deleted
	di.mu.Lock()
	defer di.mu.Unlock()
	if di.byKey == nil {
		di.byKey = map[string]bson.D{}
		di.ring = make([]string, deletedImagesCap)
	}
	if old := di.ring[di.next]; old != "" {
		delete(di.byKey, old)
	}
	di.ring[di.next] = k
	di.byKey[k] = pre
	di.next = (di.next + 1) % deletedImagesCap
}

func (a *Access) deletedImage(db, coll string, id any) bson.D {
	k := imageKey(db, coll, id)
	di := &a.deleted
	di.mu.Lock()
	defer di.mu.Unlock()
	return di.byKey[k]
}
