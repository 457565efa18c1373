package triggers

import (
	"context"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/store"
)

// tokenRecorder persists an ordered trigger's resume token in the
// background, so the next handler starts while the previous event's
// position is being written (a durable write costs an fsync on the
// embedded store). Only tokens of events whose handler finished are ever
// given to it, and it writes them in order, keeping only the newest while
// a write is in flight: after a crash, delivery resumes at most a few
// events back (at least once), never after an event that did not finish.
type tokenRecorder struct {
	st   store.Store
	name string

	mu      sync.Mutex
	pending bson.D    // newest token not yet written; nil: none
	at      time.Time // when the pending event was delivered
	busy    bool      // a write is in flight
	err     error     // the first write error; the stream ends on it
	idle    *sync.Cond
	wake    chan struct{}
	stop    chan struct{}
	done    chan struct{}
}

func newTokenRecorder(st store.Store, name string) *tokenRecorder {
	t := &tokenRecorder{st: st, name: name, wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	t.idle = sync.NewCond(&t.mu)
	go t.loop()
	return t
}

// set records tok as delivered; it returns the error of an earlier write,
// if any.
func (t *tokenRecorder) set(tok bson.D) error {
	t.mu.Lock()
	t.pending, t.at = tok, time.Now()
	err := t.err
	t.mu.Unlock()
	select {
	case t.wake <- struct{}{}:
	default:
	}
	return err
}

// flush waits until every token given to set is written.
func (t *tokenRecorder) flush() error {
	select {
	case t.wake <- struct{}{}:
	default:
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for (t.pending != nil || t.busy) && t.err == nil {
		t.idle.Wait()
	}
	return t.err
}

// close writes what is pending and stops the writer.
func (t *tokenRecorder) close() error {
	err := t.flush()
	close(t.stop)
	<-t.done
	return err
}

func (t *tokenRecorder) loop() {
	defer close(t.done)
	for {
		select {
		case <-t.stop:
			return
		case <-t.wake:
		}
		for {
			t.mu.Lock()
			tok, at := t.pending, t.at
			if tok == nil || t.err != nil {
				t.mu.Unlock()
				t.idle.Broadcast()
				break
			}
			t.pending, t.busy = nil, true
			t.mu.Unlock()
			// Written even during shutdown: the handler finished, and not
			// recording it would only cause a needless redelivery.
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			err := setState(ctx, t.st, t.name, bson.D{{Key: "resume_token", Value: tok},
				{Key: "last_delivered", Value: bson.NewDateTimeFromTime(at)}})
			cancel()
			t.mu.Lock()
			t.busy = false
			if err != nil && t.err == nil {
				t.err = err
			}
			t.mu.Unlock()
		}
	}
}
