package triggers

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/store"
)

// LeaseCollection (under StateDatabase) holds the leases of running
// DATABASE and SCHEDULED triggers (and of authentication event delivery).
// Processes sharing a store run each of them in exactly one process at a
// time; when the holder dies its lease expires and another takes over.
//
// A lease is a sequence of generations, one document each:
// {_id: "<name>#<epoch>", trigger: name, epoch, holder, expires}. The
// newest generation is the lease. Taking over an expired lease inserts
// generation epoch+1, and only one inserter of an _id can succeed, so two
// contenders never both win. Only the holder of a generation ever updates
// it (to renew or release it). The design relies on nothing but a unique
// _id on insert, because FerretDB (a supported MongoDB stand-in) applies
// conditional updates as a read followed by an unconditional write: two
// processes "taking over" one document by a filtered update could both
// succeed there.
const LeaseCollection = "trigger_leases"

func leaseColl(st store.Store) store.Collection {
	return st.Database(StateDatabase).Collection(LeaseCollection)
}

// lease is one generation held by this runner.
type lease struct {
	name  string
	id    string
	epoch int64
	// validUntil is when this runner must stop acting as the holder unless
	// a renewal completed before it: the expires value it last wrote.
	validUntil time.Time
}

func leaseID(name string, epoch int64) string {
	return name + "#" + strconv.FormatInt(epoch, 10)
}

// currentLease returns the newest generation of name's lease, nil if none.
func currentLease(ctx context.Context, st store.Store, name string) (bson.D, error) {
	cur, err := leaseColl(st).Find(ctx, bson.D{{Key: "trigger", Value: name}},
		store.FindOptions{Sort: bson.D{{Key: "epoch", Value: -1}}, Limit: 1})
	if err != nil {
		return nil, err
	}
	docs, err := store.All(ctx, cur)
	if err != nil || len(docs) == 0 {
		return nil, err
	}
	return docs[0], nil
}

// LeaseHolder returns the runner id holding name's lease and when it
// expires; "" if there is no lease.
func LeaseHolder(ctx context.Context, st store.Store, name string) (string, time.Time, error) {
	d, err := currentLease(ctx, st, name)
	if err != nil || d == nil {
		return "", time.Time{}, err
	}
	h, _ := lookupValue(d, "holder").(string)
	return h, dateOf(lookupValue(d, "expires")), nil
}

func int64Of(v any) int64 {
	switch n := v.(type) {
	case int64:
		return n
	case int32:
		return int64(n)
	case float64:
		return int64(n)
	}
	return 0
}

// acquire takes name's lease if it is free (none yet, or the newest
// generation expired); it returns nil when another holder has it.
func (r *Runner) acquire(ctx context.Context, name string) (*lease, error) {
	start := time.Now()
	c := leaseColl(r.cfg.Store)
	cur, err := currentLease(ctx, r.cfg.Store, name)
	if err != nil {
		return nil, fmt.Errorf("lease %s: %w", name, err)
	}
	next := int64(1)
	if cur != nil {
		if !dateOf(lookupValue(cur, "expires")).Before(start) {
			return nil, nil
		}
		next = int64Of(lookupValue(cur, "epoch")) + 1
	}
	l := &lease{name: name, id: leaseID(name, next), epoch: next, validUntil: start.Add(r.cfg.LeaseTTL)}
	_, err = c.InsertOne(ctx, bson.D{{Key: "_id", Value: l.id}, {Key: "trigger", Value: name}, {Key: "epoch", Value: next},
		{Key: "holder", Value: r.id}, {Key: "expires", Value: bson.NewDateTimeFromTime(l.validUntil)}})
	if store.IsDuplicateKey(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("lease %s: %w", name, err)
	}
	// Older generations are history; their holders notice on renewal.
	if _, err := c.DeleteMany(ctx, bson.D{{Key: "trigger", Value: name}, {Key: "epoch", Value: bson.D{{Key: "$lt", Value: next}}}}); err != nil {
		r.log.Warn("removing old trigger leases", "trigger", name, "error", err)
	}
	return l, nil
}

// errLeaseLost: the generation is gone (a newer holder removed it) or the
// renewal completed too late to be trusted.
var errLeaseLost = errors.New("trigger lease lost")

// renew extends l. A renewal counts only if it completed before l expired:
// a contender reading the lease after that point sees the new expiry, and
// none can have read it expired before (clocks of processes sharing a store
// are assumed synchronised).
func (r *Runner) renew(ctx context.Context, l *lease) error {
	start := time.Now()
	exp := start.Add(r.cfg.LeaseTTL)
	res, err := leaseColl(r.cfg.Store).UpdateOne(ctx, bson.D{{Key: "_id", Value: l.id}, {Key: "holder", Value: r.id}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "expires", Value: bson.NewDateTimeFromTime(exp)}}}}, store.UpdateOptions{})
	if err != nil {
		return fmt.Errorf("lease %s: %w", l.name, err)
	}
	if res.MatchedCount == 0 || !time.Now().Before(l.validUntil) {
		return errLeaseLost
	}
	l.validUntil = exp
	return nil
}

// release gives l up (expires it) so another process takes over at its
// next attempt.
func (r *Runner) release(l *lease) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := leaseColl(r.cfg.Store).UpdateOne(ctx, bson.D{{Key: "_id", Value: l.id}, {Key: "holder", Value: r.id}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "expires", Value: bson.NewDateTimeFromTime(time.Unix(0, 0))}}}}, store.UpdateOptions{}); err != nil {
		r.log.Warn("releasing trigger lease", "trigger", l.name, "error", err)
	}
}

// work is what a leased trigger runs under. ctx ends when the trigger must
// take no more work: the runner is closing, or the lease was lost.
// handlers is the context its handlers run under: it ends when the lease
// is lost or expires, or ShutdownGrace after ctx ends for a Close, so a
// handler running at a clean shutdown finishes and is recorded rather than
// cut short and delivered again by the next holder.
type work struct {
	ctx, handlers context.Context
}

// leased runs run while r holds name's lease: it waits for the lease,
// renews it every LeaseTTL/3 until run returns, and ends run's contexts
// when the lease is lost or expires unrenewed (the store did not answer in
// time). It owns the renewal goroutine and returns when ctx ends.
func (r *Runner) leased(ctx context.Context, name string, run func(w work)) {
	defer r.wg.Done()
	log := r.log.With("trigger", name)
	for ctx.Err() == nil {
		l, err := r.acquire(ctx, name)
		if err != nil && ctx.Err() == nil {
			log.Warn("acquiring trigger lease", "error", err)
		}
		if l == nil {
			sleepCtx(ctx, r.cfg.PollInterval)
			continue
		}
		log.Info("trigger lease acquired", "holder", r.id, "epoch", l.epoch)
		wctx, stopWork := context.WithCancel(ctx)
		hctx, stopHandlers := context.WithCancel(context.WithoutCancel(ctx))
		// Closing gives running handlers ShutdownGrace (the timer, if it
		// outlives run, only cancels what is already cancelled).
		stopGrace := context.AfterFunc(ctx, func() { time.AfterFunc(r.cfg.ShutdownGrace, stopHandlers) })
		// The lease is renewed while handlers drain, so it stays this
		// runner's until they are done.
		rctx, stopRenewing := context.WithCancel(context.WithoutCancel(ctx))
		var renewer sync.WaitGroup
		renewer.Add(1)
		go func() {
			defer renewer.Done()
			lost := func() { stopWork(); stopHandlers() }
			for {
				wait := r.cfg.LeaseTTL / 3
				if left := time.Until(l.validUntil); left < wait {
					wait = left
				}
				if !sleepCtx(rctx, wait) {
					return
				}
				if !time.Now().Before(l.validUntil) {
					log.Warn("trigger lease expired before it could be renewed")
					lost()
					return
				}
				err := r.renew(rctx, l)
				if rctx.Err() != nil {
					return
				}
				if errors.Is(err, errLeaseLost) {
					log.Warn("trigger lease lost to another process")
					lost()
					return
				}
				if err != nil {
					// Retried until the lease expires.
					log.Warn("renewing trigger lease", "error", err)
				}
			}
		}()
		run(work{ctx: wctx, handlers: hctx})
		stopGrace()
		stopWork()
		stopHandlers()
		stopRenewing()
		renewer.Wait()
		if ctx.Err() != nil {
			r.release(l)
		}
	}
}

// sleepCtx waits d; it returns false if ctx ended first.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
