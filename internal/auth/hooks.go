package auth

import (
	"context"
	"time"
)

// Operation is an authentication event type, as in AUTHENTICATION
// triggers.
type Operation string

// Operations.
const (
	OpCreate Operation = "CREATE"
	OpLogin  Operation = "LOGIN"
	OpDelete Operation = "DELETE"
)

// AuthEvent is what an auth trigger receives. Providers holds the provider
// that produced the event, or every linked provider for a DELETE.
type AuthEvent struct {
	Operation Operation
	Providers []string
	User      *User
	Time      time.Time
}

// EventHook is called after an event's writes have committed, on the
// request's goroutine; a hook that does slow work must hand it off.
type EventHook func(ctx context.Context, ev AuthEvent)

// OnEvent adds a hook.
func (s *Service) OnEvent(h EventHook) {
	s.hooksMu.Lock()
	s.hooks = append(s.hooks, h)
	s.hooksMu.Unlock()
}

func (s *Service) emit(ctx context.Context, op Operation, u *User, providers ...string) {
	s.hooksMu.RLock()
	hooks := s.hooks
	s.hooksMu.RUnlock()
	if len(hooks) == 0 {
		return
	}
	ev := AuthEvent{Operation: op, Providers: providers, User: u, Time: s.now()}
	for _, h := range hooks {
		h(ctx, ev)
	}
}
