package triggers

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/store"
)

// LeaseCollection (under StateDatabase) holds one lease per running
// DATABASE or SCHEDULED trigger: {_id: name, holder, expires}. Processes
// sharing a store run each trigger in exactly one of them at a time; when
// the holder dies its lease expires and another takes over.
const LeaseCollection = "trigger_leases"

func leaseColl(st store.Store) store.Collection {
	return st.Database(StateDatabase).Collection(LeaseCollection)
}

// acquire takes or renews the lease on name for r; it reports whether r
// holds it.
func (r *Runner) acquire(ctx context.Context, name string) (bool, error) {
	now := time.Now()
	exp := bson.NewDateTimeFromTime(now.Add(r.cfg.LeaseTTL))
	c := leaseColl(r.cfg.Store)
	res, err := c.UpdateOne(ctx, bson.D{{Key: "_id", Value: name}, {Key: "$or", Value: bson.A{
		bson.D{{Key: "holder", Value: r.id}},
		bson.D{{Key: "expires", Value: bson.D{{Key: "$lt", Value: bson.NewDateTimeFromTime(now)}}}},
	}}}, bson.D{{Key: "$set", Value: bson.D{{Key: "holder", Value: r.id}, {Key: "expires", Value: exp}}}}, store.UpdateOptions{})
	if err != nil {
		return false, fmt.Errorf("lease %s: %w", name, err)
	}
	if res.MatchedCount == 1 {
		return true, nil
	}
	_, err = c.InsertOne(ctx, bson.D{{Key: "_id", Value: name}, {Key: "holder", Value: r.id}, {Key: "expires", Value: exp}})
	if store.IsDuplicateKey(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("lease %s: %w", name, err)
	}
	return true, nil
}

// release gives the lease up so another process takes over at once.
func (r *Runner) release(name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := leaseColl(r.cfg.Store).DeleteOne(ctx, bson.D{{Key: "_id", Value: name}, {Key: "holder", Value: r.id}}); err != nil {
		r.log.Warn("releasing trigger lease", "trigger", name, "error", err)
	}
}

// leased runs run(ctx) while r holds name's lease: it waits for the lease,
// renews it every LeaseTTL/3, and cancels run's context when the lease is
// lost (another process took it after a missed renewal). It owns the
// renewal goroutine and returns when ctx ends.
func (r *Runner) leased(ctx context.Context, name string, run func(ctx context.Context)) {
	defer r.wg.Done()
	log := r.log.With("trigger", name)
	for ctx.Err() == nil {
		ok, err := r.acquire(ctx, name)
		if err != nil && ctx.Err() == nil {
			log.Warn("acquiring trigger lease", "error", err)
		}
		if !ok {
			sleepCtx(ctx, r.cfg.PollInterval)
			continue
		}
		log.Debug("trigger lease acquired", "holder", r.id)
		lctx, cancel := context.WithCancel(ctx)
		var renewer sync.WaitGroup
		renewer.Add(1)
		go func() {
			defer renewer.Done()
			defer cancel()
			for sleepCtx(lctx, r.cfg.LeaseTTL/3) {
				ok, err := r.acquire(lctx, name)
				if errors.Is(err, context.Canceled) || lctx.Err() != nil {
					return
				}
				if err != nil {
					// A failed renewal is retried; the lease is lost only
					// when another holder has it.
					log.Warn("renewing trigger lease", "error", err)
					continue
				}
				if !ok {
					log.Warn("trigger lease lost to another process")
					return
				}
			}
		}()
		run(lctx)
		cancel()
		renewer.Wait()
	}
	r.release(name)
}

// sleepCtx waits d; it returns false if ctx ended first.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
