package triggers

import (
	"context"
	"slices"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/auth"
	"github.com/atollhq/atoll/internal/functions"
)

type authJob struct {
	t  *Trigger
	ev bson.D
}

// OnAuthEvent is the auth.EventHook of authentication triggers: register it
// with auth.Service.OnEvent. It runs after the auth operation committed, on
// the request's goroutine, so it only queues the event; the triggers run
// asynchronously, as in App Services. A full queue makes the request wait
// (no event is dropped while the Runner is open).
func (r *Runner) OnAuthEvent(ctx context.Context, ev auth.AuthEvent) {
	if len(r.auth) == 0 || ev.User == nil {
		return
	}
	var doc bson.D
	for _, t := range r.auth {
		if !authMatches(t, ev) {
			continue
		}
		if doc == nil {
			doc = authEventDoc(ev)
		}
		select {
		case r.authQ <- authJob{t: t, ev: doc}:
		case <-r.done:
			r.log.Warn("authentication trigger event dropped: runner closed", "trigger", t.Name, "operation", string(ev.Operation))
			return
		case <-ctx.Done():
			r.log.Warn("authentication trigger event dropped: request ended while the queue was full", "trigger", t.Name, "operation", string(ev.Operation))
			return
		}
	}
}

// authMatches: the operation is one of the trigger's and any of the
// event's providers is one of its providers (no providers: any).
func authMatches(t *Trigger, ev auth.AuthEvent) bool {
	if !slices.Contains(t.AuthOperations, string(ev.Operation)) {
		return false
	}
	if len(t.Providers) == 0 {
		return true
	}
	for _, p := range ev.Providers {
		if slices.Contains(t.Providers, p) {
			return true
		}
	}
	return false
}

// authEventDoc is the handler's argument (spec §2.4): operationType,
// providers, user (the §3.6 user object) and time.
func authEventDoc(ev auth.AuthEvent) bson.D {
	provs := bson.A{}
	for _, p := range ev.Providers {
		provs = append(provs, p)
	}
	return bson.D{
		{Key: "operationType", Value: string(ev.Operation)},
		{Key: "providers", Value: provs},
		{Key: "user", Value: ev.User.Document(nil)},
		{Key: "time", Value: bson.NewDateTimeFromTime(ev.Time)},
	}
}

// runAuth runs queued authentication events one at a time, in the order
// the auth service produced them.
func (r *Runner) runAuth(ctx context.Context) {
	defer r.wg.Done()
	for {
		select {
		case <-ctx.Done():
			return
		case j := <-r.authQ:
			if _, err := r.cfg.Functions.Call(ctx, functions.SystemCaller(), j.t.Function, []any{j.ev}); err != nil {
				r.log.Error("authentication trigger failed", "trigger", j.t.Name, "function", j.t.Function, "error", err)
			}
		}
	}
}
