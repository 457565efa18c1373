package triggers

import (
	"context"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/auth"
	"github.com/atollhq/atoll/internal/functions"
	"github.com/atollhq/atoll/internal/store"
)

// AuthEventCollection (under StateDatabase) holds authentication trigger
// events not yet delivered: {_id, trigger, event}. An event is recorded
// when the auth operation has committed, before the request returns, and
// removed once its trigger's function has run, so a crash between the two
// only delays it: the process holding the authLease delivers pending
// events, oldest first, when it starts and whenever it is woken or polls.
const AuthEventCollection = "trigger_auth_events"

// authLease names the lease of authentication event delivery; "@" cannot
// start a trigger name, so it never collides with one.
const authLease = "@auth"

func authEventColl(st store.Store) store.Collection {
	return st.Database(StateDatabase).Collection(AuthEventCollection)
}

// OnAuthEvent is the auth.EventHook of authentication triggers: register it
// with auth.Service.OnEvent. It runs after the auth operation committed, on
// the request's goroutine: it records the event durably for each matching
// trigger and wakes the deliverer; the triggers run asynchronously, as in
// App Services. If the store refuses the record, the event is lost and
// logged as such.
func (r *Runner) OnAuthEvent(ctx context.Context, ev auth.AuthEvent) {
	if len(r.auth) == 0 || ev.User == nil || r.cfg.Store == nil {
		return
	}
	var docs []bson.D
	var doc bson.D
	for _, t := range r.auth {
		if !authMatches(t, ev) {
			continue
		}
		if doc == nil {
			doc = authEventDoc(ev)
		}
		docs = append(docs, bson.D{{Key: "_id", Value: bson.NewObjectID()}, {Key: "trigger", Value: t.Name}, {Key: "event", Value: doc}})
	}
	if len(docs) == 0 {
		return
	}
	// The operation has committed: recording it must not fail because the
	// client went away.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if _, err := authEventColl(r.cfg.Store).InsertMany(wctx, docs, store.InsertManyOptions{}); err != nil {
		r.log.Error("authentication trigger event lost: recording it failed", "operation", string(ev.Operation), "user_id", ev.User.ID, "error", err)
		return
	}
	select {
	case r.authWake <- struct{}{}:
	default:
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

// runAuth delivers recorded authentication events while r holds the
// authLease: oldest first, one at a time, each removed once its function
// returned (a function error is logged, not retried, as for other
// triggers). An event whose handler was cut short (the lease lost, or
// still running ShutdownGrace after Close) stays recorded and is delivered
// again by the next holder: at least once.
func (r *Runner) runAuth(w work) {
	ctx := w.ctx
	c := authEventColl(r.cfg.Store)
	byName := map[string]*Trigger{}
	for _, t := range r.auth {
		byName[t.Name] = t
	}
	for ctx.Err() == nil {
		cur, err := c.Find(ctx, bson.D{}, store.FindOptions{Sort: bson.D{{Key: "_id", Value: 1}}, Limit: 100})
		var docs []bson.D
		if err == nil {
			docs, err = store.All(ctx, cur)
		}
		if err != nil {
			if ctx.Err() == nil {
				r.log.Warn("reading authentication trigger events; retrying", "error", err)
			}
		}
		for _, d := range docs {
			name, _ := lookupValue(d, "trigger").(string)
			ev, _ := lookupValue(d, "event").(bson.D)
			if t := byName[name]; t == nil {
				r.log.Warn("authentication trigger event dropped: the trigger is no longer enabled", "trigger", name)
			} else if _, err := r.cfg.Functions.Call(w.handlers, functions.SystemCaller(), t.Function, []any{ev}); err != nil {
				if w.handlers.Err() != nil {
					return
				}
				r.log.Error("authentication trigger failed", "trigger", t.Name, "function", t.Function, "error", err)
			}
			// Delivered: removed even if the lease was lost meanwhile.
			if _, err := c.DeleteOne(context.WithoutCancel(ctx), bson.D{{Key: "_id", Value: lookupValue(d, "_id")}}); err != nil {
				r.log.Warn("removing a delivered authentication trigger event", "trigger", name, "error", err)
			}
			if ctx.Err() != nil {
				return
			}
		}
		if len(docs) == 100 {
			continue
		}
		// Nothing left: wait for this process's next event, or poll for
		// those recorded by other processes sharing the store.
		t := time.NewTimer(r.cfg.AuthPoll)
		select {
		case <-ctx.Done():
		case <-r.authWake:
		case <-t.C:
		}
		t.Stop()
	}
}
