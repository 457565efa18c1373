package triggers

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/functions"
)

// Clock is the time source of scheduled triggers; tests use a fake one.
type Clock interface {
	Now() time.Time
	// SleepUntil waits until t; it returns false if ctx ended first.
	SleepUntil(ctx context.Context, t time.Time) bool
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now().UTC() }

func (realClock) SleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-tm.C:
		return true
	}
}

// runScheduled fires t's function at each tick of its schedule. The last
// tick fired is recorded, so ticks missed while no runner ran are fired on
// start (each once, oldest first) unless the trigger was disabled and has
// skip_catchup_events. A handler error is logged and recorded; the
// schedule goes on (function errors do not stop a trigger, spec §2.6).
func (r *Runner) runScheduled(w work, t *Trigger) {
	ctx := w.ctx
	log := r.log.With("trigger", t.Name)
	st, clock := r.cfg.Store, r.cfg.Clock
	var last time.Time
	for {
		s, err := loadState(ctx, st, t.Name)
		if err == nil {
			if s != nil && !(s.Status == StatusDisabled && t.SkipCatchupEvents) {
				last = s.LastTick
			}
			break
		}
		log.Error("trigger state unreadable; retrying", "error", err)
		if !sleepCtx(ctx, r.cfg.PollInterval) {
			return
		}
	}
	if last.IsZero() {
		last = clock.Now()
	}
	r.recordTick(ctx, t, bson.D{{Key: "status", Value: StatusRunning}, {Key: "last_tick", Value: bson.NewDateTimeFromTime(last)}})
	for {
		next := t.Schedule.Next(last)
		if next.IsZero() {
			log.Warn("schedule has no further ticks")
			<-ctx.Done()
			return
		}
		if !clock.SleepUntil(ctx, next) {
			return
		}
		set := bson.D{{Key: "last_tick", Value: bson.NewDateTimeFromTime(next)},
			{Key: "last_delivered", Value: bson.NewDateTimeFromTime(clock.Now())}}
		if _, err := r.cfg.Functions.Call(w.handlers, functions.SystemCaller(), t.Function, nil); err != nil {
			if w.handlers.Err() != nil {
				return
			}
			log.Error("scheduled trigger function failed", "function", t.Function, "tick", next, "error", err)
			set = append(set, bson.E{Key: "error", Value: err.Error()})
		} else {
			set = append(set, bson.E{Key: "error", Value: ""})
		}
		last = next
		// Recorded even when Close came during the call: it finished.
		r.recordTick(w.handlers, t, set)
	}
}

func (r *Runner) recordTick(ctx context.Context, t *Trigger, set bson.D) {
	if err := setState(ctx, r.cfg.Store, t.Name, set); err != nil && ctx.Err() == nil {
		r.log.Error("recording scheduled trigger state", "trigger", t.Name, "error", err)
	}
}
