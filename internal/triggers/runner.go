package triggers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/functions"
	"github.com/atollhq/atoll/internal/store"
)

// Functions is the part of the functions engine triggers use:
// *functions.Engine satisfies it.
type Functions interface {
	Call(ctx context.Context, caller functions.Caller, name string, args []any) (any, error)
}

// Config is what a Runner needs.
type Config struct {
	// Functions runs the handlers, as system.
	Functions Functions
	// Store holds the watched data and the trigger state under __atoll;
	// needed by DATABASE triggers.
	Store  store.Store
	Logger *slog.Logger
	// AuthPoll is how often the process delivering authentication
	// trigger events looks for events recorded by other processes (its own
	// wake it at once; default 1 s).
	AuthPoll time.Duration
	// PollInterval is how often a suspended DATABASE trigger checks whether
	// it was resumed, and the pause before reopening a failed stream
	// (default 2 s).
	PollInterval time.Duration
	// Heartbeat is how long an idle change stream waits before its
	// position is recorded again (default 10 s).
	Heartbeat time.Duration
	// Clock drives scheduled triggers (default: the real clock).
	Clock Clock
	// LeaseTTL is how long a trigger's lease lasts without renewal: the
	// time another process waits before taking over from a dead holder
	// (default 30 s; renewed every third of it).
	LeaseTTL time.Duration
	// Exclusive says no other process can use Store (the embedded store
	// locks its directory): leases left by an earlier process that died
	// are void, so a restart does not wait LeaseTTL for them to expire.
	Exclusive bool
	// ShutdownGrace is how long Close lets running handlers finish before
	// cancelling them (default 5 s). A handler that finishes is recorded as
	// delivered; one cancelled is delivered again by the next holder.
	ShutdownGrace time.Duration
	// MaxInFlight bounds the concurrent handlers of one unordered trigger
	// (default 64; the functions engine's own limit applies as well).
	MaxInFlight int
	// MaxThroughputInFlight is that bound for an unordered trigger with
	// maximum_throughput, App Services' switch for exceeding the default
	// concurrency (default 1,024, and never below MaxInFlight).
	MaxThroughputInFlight int
}

// ErrClosed is returned by Start after Close.
var ErrClosed = errors.New("triggers: runner closed")

// Runner runs one app's triggers. It owns every goroutine it starts:
// Close stops them and waits for them.
type Runner struct {
	cfg      Config
	log      *slog.Logger
	triggers []*Trigger
	auth     []*Trigger
	// id names this runner as a lease holder.
	id string
	// authWake tells the authentication event deliverer an event was
	// recorded.
	authWake chan struct{}

	mu      sync.Mutex
	started bool
	closed  bool
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

// New returns a Runner for triggers; nothing runs before Start.
func New(triggers []*Trigger, cfg Config) *Runner {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = 64
	}
	if cfg.MaxThroughputInFlight <= 0 {
		cfg.MaxThroughputInFlight = 1024
	}
	cfg.MaxThroughputInFlight = max(cfg.MaxThroughputInFlight, cfg.MaxInFlight)
	if cfg.LeaseTTL <= 0 {
		cfg.LeaseTTL = 30 * time.Second
	}
	if cfg.ShutdownGrace <= 0 {
		cfg.ShutdownGrace = 5 * time.Second
	}
	if cfg.Clock == nil {
		cfg.Clock = realClock{}
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 2 * time.Second
	}
	if cfg.Heartbeat <= 0 {
		cfg.Heartbeat = 10 * time.Second
	}
	if cfg.AuthPoll <= 0 {
		cfg.AuthPoll = time.Second
	}
	r := &Runner{cfg: cfg, log: cfg.Logger, triggers: triggers, id: bson.NewObjectID().Hex()}
	for _, t := range triggers {
		if t.Type == TypeAuthentication && !t.Disabled {
			r.auth = append(r.auth, t)
		}
	}
	r.authWake = make(chan struct{}, 1)
	return r
}

// Start starts the enabled triggers. The goroutines live until Close (or
// until ctx ends); ctx is also the context handlers run under.
func (r *Runner) Start(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return ErrClosed
	}
	if r.started {
		return errors.New("triggers: runner already started")
	}
	r.started = true
	if r.cfg.Exclusive && r.cfg.Store != nil {
		if _, err := leaseColl(r.cfg.Store).DeleteMany(ctx, bson.D{}); err != nil {
			return fmt.Errorf("triggers: clearing the leases of an earlier process: %w", err)
		}
	}
	ctx, r.cancel = context.WithCancel(ctx)
	if len(r.auth) > 0 {
		if r.cfg.Store == nil {
			r.cancel()
			return errors.New("triggers: AUTHENTICATION triggers need a store")
		}
		r.wg.Add(1)
		go r.leased(ctx, authLease, r.runAuth)
	}
	for _, t := range r.triggers {
		switch {
		case t.Type == TypeDatabase && t.Disabled:
			// Recorded so that re-enabling knows to skip catch-up events.
			if r.cfg.Store != nil {
				if err := setState(ctx, r.cfg.Store, t.Name, bson.D{{Key: "status", Value: StatusDisabled}}); err != nil {
					r.log.Error("recording disabled trigger", "trigger", t.Name, "error", err)
				}
			}
		case t.Type == TypeDatabase:
			if r.cfg.Store == nil {
				r.cancel()
				return errors.New("triggers: DATABASE triggers need a store")
			}
			d := &dbTrigger{r: r, t: t}
			r.wg.Add(1)
			go r.leased(ctx, t.Name, d.run)
		case t.Type == TypeScheduled && t.Disabled:
			if r.cfg.Store != nil {
				if err := setState(ctx, r.cfg.Store, t.Name, bson.D{{Key: "status", Value: StatusDisabled}}); err != nil {
					r.log.Error("recording disabled trigger", "trigger", t.Name, "error", err)
				}
			}
		case t.Type == TypeScheduled && r.cfg.Store == nil:
			r.cancel()
			return errors.New("triggers: SCHEDULED triggers need a store")
		case t.Type == TypeScheduled:
			r.wg.Add(1)
			go r.leased(ctx, t.Name, func(w work) { r.runScheduled(w, t) })
		}
	}
	return nil
}

// Close stops every trigger and waits for running handlers to return,
// letting them finish for up to ShutdownGrace. Authentication events not
// yet delivered stay recorded in the store for the next runner.
func (r *Runner) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	if r.cancel != nil {
		r.cancel()
	}
	r.mu.Unlock()
	r.wg.Wait()
	return nil
}
