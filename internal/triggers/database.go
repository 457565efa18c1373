package triggers

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/functions"
	"github.com/atollhq/atoll/internal/store"
)

// dbTrigger runs one DATABASE trigger: a change stream on its scope, each
// event handed to the function one at a time in commit order, the resume
// token recorded after each successful delivery.
type dbTrigger struct {
	r *Runner
	t *Trigger
}

// errSuspend wraps the reason a trigger stops until resumed.
type errSuspend struct{ err error }

func (e errSuspend) Error() string { return e.err.Error() }

// pipeline is the change stream pipeline: the operation types (plus
// invalidate, which suspends) and match. project is applied after the
// stream, so the resume token (_id) is never projected away.
func (d *dbTrigger) pipeline() []bson.D {
	ops := bson.A{"invalidate"}
	for _, o := range d.t.OperationTypes {
		ops = append(ops, o)
	}
	var p []bson.D
	p = append(p, bson.D{{Key: "$match", Value: bson.D{{Key: "operationType", Value: bson.D{{Key: "$in", Value: ops}}}}}})
	if d.t.matchDoc != nil {
		p = append(p, bson.D{{Key: "$match", Value: bson.D{{Key: "$or", Value: bson.A{
			bson.D{{Key: "operationType", Value: "invalidate"}}, d.t.matchDoc,
		}}}}})
	}
	return p
}

func (d *dbTrigger) run(w work) {
	ctx := w.ctx
	log := d.r.log.With("trigger", d.t.Name)
	st := d.r.cfg.Store
	for ctx.Err() == nil {
		s, err := loadState(ctx, st, d.t.Name)
		if err != nil {
			log.Error("trigger state unreadable; retrying", "error", err)
			d.sleep(ctx)
			continue
		}
		if s == nil {
			s = &State{Status: StatusRunning}
		}
		if s.Status == StatusSuspended {
			d.sleep(ctx)
			continue
		}
		if s.Status == StatusDisabled && d.t.SkipCatchupEvents {
			s.ResumeToken = nil
		}
		err = d.stream(w, s.ResumeToken)
		if ctx.Err() != nil {
			return
		}
		var sus errSuspend
		if errors.As(err, &sus) {
			log.Error("trigger suspended", "error", sus.err)
			if werr := setState(context.WithoutCancel(ctx), st, d.t.Name, bson.D{
				{Key: "status", Value: StatusSuspended}, {Key: "error", Value: sus.err.Error()},
				{Key: "suspended_at", Value: bson.NewDateTimeFromTime(time.Now())},
			}); werr != nil {
				log.Error("recording suspension failed", "error", werr)
			}
			continue
		}
		if err != nil {
			log.Warn("change stream ended; reopening", "error", err)
			d.sleep(ctx)
		}
	}
}

// sleep waits one poll interval or until ctx ends.
func (d *dbTrigger) sleep(ctx context.Context) {
	t := time.NewTimer(d.r.cfg.PollInterval)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// stream delivers events from token (nil: from now) until w.ctx ends, the
// stream fails or the trigger must be suspended (errSuspend). Handlers run
// under w.handlers: those running when w.ctx ends finish and are recorded.
func (d *dbTrigger) stream(w work, token bson.D) error {
	ctx := w.ctx
	st := d.r.cfg.Store
	opts := store.WatchOptions{ResumeAfter: token, MaxAwaitTime: d.r.cfg.Heartbeat}
	if d.t.FullDocument {
		opts.FullDocument = "updateLookup"
	}
	if d.t.FullDocumentBeforeChange {
		opts.FullDocumentBeforeChange = "whenAvailable"
	}
	var (
		cs  store.ChangeStream
		err error
	)
	switch {
	case d.t.Collection != "":
		cs, err = st.Database(d.t.Database).Collection(d.t.Collection).Watch(ctx, d.pipeline(), opts)
	case d.t.Database != "":
		cs, err = st.Database(d.t.Database).Watch(ctx, d.pipeline(), opts)
	default:
		return errSuspend{errors.New("deployment-level database triggers (no database) are not supported yet")}
	}
	if store.ErrorCode(err) == store.CodeChangeStreamHistoryLost {
		if d.t.TolerateResumeErrors {
			d.r.log.Warn("resume point lost; restarting from now (tolerate_resume_errors)", "trigger", d.t.Name)
			if err := setState(ctx, st, d.t.Name, bson.D{{Key: "resume_token", Value: nil}}); err != nil {
				return err
			}
			return nil
		}
		return errSuspend{fmt.Errorf("resume point no longer in the change history: %w", err)}
	}
	if err != nil {
		return fmt.Errorf("opening change stream: %w", err)
	}
	defer cs.Close(context.WithoutCancel(ctx))
	un := &unordered{d: d}
	// None of the handlers outlives the stream; at shutdown the mark
	// moves over those that finish.
	defer un.wg.Wait()
	defer func() {
		if ctx.Err() != nil && len(un.window) > 0 {
			_ = un.advance(w.handlers, true, -1)
		}
	}()
	// An ordered trigger's positions are written by rec; what it holds is
	// written before the stream returns (deferred calls run last first).
	rec := newTokenRecorder(st, d.t.Name)
	defer func() {
		if err := rec.close(); err != nil && ctx.Err() == nil {
			d.r.log.Error("recording trigger position", "trigger", d.t.Name, "error", err)
		}
	}()
	// Record where the stream starts, so events committed from now on are
	// delivered after a restart even if none has been handled yet.
	last := cs.ResumeToken()
	if err := setState(ctx, st, d.t.Name, bson.D{{Key: "status", Value: StatusRunning}, {Key: "resume_token", Value: last},
		{Key: "heartbeat", Value: bson.NewDateTimeFromTime(time.Now())}}); err != nil {
		return err
	}
	for {
		if !cs.Next(ctx) {
			if err := cs.Err(); err != nil {
				return fmt.Errorf("change stream: %w", err)
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			// Idle: let running handlers finish and record the mark,
			// then keep the stored position fresh (heartbeat).
			if len(un.window) > 0 {
				if err := un.advance(ctx, true, -1); err != nil {
					return err
				}
				continue
			}
			// The heartbeat must not be overtaken by an older token.
			if err := rec.flush(); err != nil {
				return err
			}
			if tok := cs.ResumeToken(); !tokenEqual(tok, last) {
				if err := setState(ctx, st, d.t.Name, bson.D{{Key: "resume_token", Value: tok},
					{Key: "heartbeat", Value: bson.NewDateTimeFromTime(time.Now())}}); err != nil {
					return err
				}
				last = tok
			}
			continue
		}
		if ctx.Err() != nil {
			// An event already buffered: left for the next holder.
			return ctx.Err()
		}
		ev := cs.Event()
		if op, _ := lookupValue(ev, "operationType").(string); op == "invalidate" {
			return errSuspend{errors.New("the watched namespace was dropped or renamed (invalidate event)")}
		}
		arg, err := d.t.ChangeEvent(ev)
		if err != nil {
			return errSuspend{err}
		}
		if d.t.Unordered {
			if err := un.launch(w, arg, cs.ResumeToken()); err != nil {
				return err
			}
			continue
		}
		if _, err := d.r.cfg.Functions.Call(w.handlers, functions.SystemCaller(), d.t.Function, []any{arg}); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return errSuspend{fmt.Errorf("function %s: %w", d.t.Function, err)}
		}
		// The handler finished: record it (in the background, while the
		// next event is handled; a write error ends the stream).
		last = cs.ResumeToken()
		if err := rec.set(last); err != nil {
			return err
		}
	}
}

// unorderedJob is one event handed to a handler of an unordered trigger.
type unorderedJob struct {
	tok  bson.D
	done chan struct{}
	err  error
}

// unordered runs an unordered trigger's handlers concurrently (at most
// MaxInFlight at once, MaxThroughputInFlight with maximum_throughput) and records the low-water mark: the token of the
// last event such that it and every earlier one finished. After a crash
// or a suspension, events after the mark run again, including some that
// already ran (at least once, as App Services documents).
type unordered struct {
	d      *dbTrigger
	window []*unorderedJob
	wg     sync.WaitGroup
}

// limit is how many handlers may run at once.
func (u *unordered) limit() int {
	if u.d.t.MaximumThroughput {
		return u.d.r.cfg.MaxThroughputInFlight
	}
	return u.d.r.cfg.MaxInFlight
}

func (u *unordered) launch(w work, arg bson.D, tok bson.D) error {
	ctx := w.ctx
	if len(u.window) >= u.limit() {
		if err := u.advance(ctx, true, 1); err != nil {
			return err
		}
	}
	j := &unorderedJob{tok: tok, done: make(chan struct{})}
	u.window = append(u.window, j)
	u.wg.Add(1)
	go func() {
		defer u.wg.Done()
		defer close(j.done)
		_, j.err = u.d.r.cfg.Functions.Call(w.handlers, functions.SystemCaller(), u.d.t.Function, []any{arg})
	}()
	return u.advance(ctx, false, 0)
}

// advance moves the mark over finished jobs at the head of the window,
// waiting for at least min of them when block is set (min < 0: all).
// A failed job at the head suspends the trigger once the others finished.
func (u *unordered) advance(ctx context.Context, block bool, min int) error {
	var tok bson.D
	n := 0
	for len(u.window) > 0 {
		j := u.window[0]
		if block && (min < 0 || n < min) {
			select {
			case <-j.done:
			case <-ctx.Done():
				return ctx.Err()
			}
		} else {
			select {
			case <-j.done:
			default:
				return u.record(ctx, tok)
			}
		}
		if j.err != nil {
			u.wg.Wait()
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if err := u.record(ctx, tok); err != nil {
				return err
			}
			return errSuspend{fmt.Errorf("function %s: %w", u.d.t.Function, j.err)}
		}
		tok = j.tok
		u.window = u.window[1:]
		n++
	}
	return u.record(ctx, tok)
}

func (u *unordered) record(ctx context.Context, tok bson.D) error {
	if tok == nil {
		return nil
	}
	return setState(ctx, u.d.r.cfg.Store, u.d.t.Name, bson.D{{Key: "resume_token", Value: tok},
		{Key: "last_delivered", Value: bson.NewDateTimeFromTime(time.Now())}})
}

// ChangeEvent is the argument the trigger's function receives for a
// change-stream event: the event with project applied (spec §2.3).
func (t *Trigger) ChangeEvent(ev bson.D) (bson.D, error) {
	if t.Project == nil {
		return ev, nil
	}
	out, err := t.Project.Apply(ev, -1)
	if err != nil {
		return nil, fmt.Errorf("project: %w", err)
	}
	return out, nil
}

func lookupValue(d bson.D, key string) any {
	for _, e := range d {
		if e.Key == key {
			return e.Value
		}
	}
	return nil
}

func tokenEqual(a, b bson.D) bool {
	x, err1 := bson.Marshal(a)
	y, err2 := bson.Marshal(b)
	return err1 == nil && err2 == nil && string(x) == string(y)
}
