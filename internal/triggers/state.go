package triggers

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/store"
)

// StateDatabase and StateCollection hold one document per DATABASE or
// SCHEDULED trigger: its position (resume token or last tick) and status. They live under __atoll, the database Atoll
// keeps its own data in, so the app's rules never see them.
const (
	StateDatabase   = "__atoll"
	StateCollection = "trigger_state"
)

// Statuses of a trigger.
const (
	StatusRunning   = "running"
	StatusSuspended = "suspended"
	StatusDisabled  = "disabled"
)

// ErrNoTrigger is returned by Resume for a trigger with no recorded state.
var ErrNoTrigger = errors.New("triggers: no such trigger")

// State is a DATABASE or SCHEDULED trigger's durable state.
type State struct {
	Name   string
	Status string
	// ResumeToken is where delivery continues: the event after it. Empty
	// means "from now" on the next start.
	ResumeToken bson.D
	// Error is why the trigger was suspended.
	Error       string
	SuspendedAt time.Time
	// LastDelivered is when an event was last handled; Heartbeat is when
	// the token was last refreshed while idle.
	LastDelivered time.Time
	Heartbeat     time.Time
	UpdatedAt     time.Time
	// LastTick is the last schedule time a SCHEDULED trigger fired for.
	LastTick time.Time
}

func stateColl(st store.Store) store.Collection {
	return st.Database(StateDatabase).Collection(StateCollection)
}

func loadState(ctx context.Context, st store.Store, name string) (*State, error) {
	d, err := stateColl(st).FindOne(ctx, bson.D{{Key: "_id", Value: name}}, store.FindOptions{})
	if errors.Is(err, store.ErrNoDocuments) || (err == nil && d == nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading trigger state %s: %w", name, err)
	}
	return stateFromDoc(d), nil
}

func stateFromDoc(d bson.D) *State {
	s := &State{}
	for _, e := range d {
		switch e.Key {
		case "_id":
			s.Name, _ = e.Value.(string)
		case "status":
			s.Status, _ = e.Value.(string)
		case "resume_token":
			s.ResumeToken, _ = e.Value.(bson.D)
		case "error":
			s.Error, _ = e.Value.(string)
		case "suspended_at":
			s.SuspendedAt = dateOf(e.Value)
		case "last_delivered":
			s.LastDelivered = dateOf(e.Value)
		case "heartbeat":
			s.Heartbeat = dateOf(e.Value)
		case "last_tick":
			s.LastTick = dateOf(e.Value)
		case "updated_at":
			s.UpdatedAt = dateOf(e.Value)
		}
	}
	return s
}

func dateOf(v any) time.Time {
	if d, ok := v.(bson.DateTime); ok {
		return d.Time().UTC()
	}
	return time.Time{}
}

// setState upserts fields of a trigger's state document.
func setState(ctx context.Context, st store.Store, name string, set bson.D) error {
	set = append(set, bson.E{Key: "updated_at", Value: bson.NewDateTimeFromTime(time.Now())})
	_, err := stateColl(st).UpdateOne(ctx, bson.D{{Key: "_id", Value: name}}, bson.D{{Key: "$set", Value: set}}, store.UpdateOptions{Upsert: true})
	if err != nil {
		return fmt.Errorf("writing trigger state %s: %w", name, err)
	}
	return nil
}

// ListStates returns every recorded trigger state, by name.
func ListStates(ctx context.Context, st store.Store) ([]*State, error) {
	cur, err := stateColl(st).Find(ctx, bson.D{}, store.FindOptions{Sort: bson.D{{Key: "_id", Value: 1}}})
	if err != nil {
		return nil, fmt.Errorf("listing trigger state: %w", err)
	}
	docs, err := store.All(ctx, cur)
	if err != nil {
		return nil, fmt.Errorf("listing trigger state: %w", err)
	}
	out := make([]*State, len(docs))
	for i, d := range docs {
		out[i] = stateFromDoc(d)
	}
	return out, nil
}

// Resume marks a suspended trigger running again. Delivery restarts with
// the event after the last one handled (the one that failed, if a handler
// failed), or from now when fromNow is set (events in between are lost).
// A runner with the trigger suspended notices within its poll interval.
func Resume(ctx context.Context, st store.Store, name string, fromNow bool) error {
	s, err := loadState(ctx, st, name)
	if err != nil {
		return err
	}
	if s == nil {
		return fmt.Errorf("%w: %q has no recorded state", ErrNoTrigger, name)
	}
	set := bson.D{{Key: "status", Value: StatusRunning}, {Key: "error", Value: ""}}
	if fromNow {
		set = append(set, bson.E{Key: "resume_token", Value: nil})
	}
	return setState(ctx, st, name, set)
}
