package functions

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/dop251/goja"
)

// timer is one pending setTimeout of a call.
type timer struct {
	id   int64
	due  time.Time
	fn   goja.Callable
	args []goja.Value
}

// installTimers defines setTimeout, clearTimeout and setImmediate. Timers
// belong to the current call: they run while its result is pending and are
// dropped when it ends.
func (rt *jsRuntime) installTimers() {
	vm := rt.vm
	g := vm.GlobalObject()
	add := func(c goja.FunctionCall, delay time.Duration) goja.Value {
		cl := rt.cur
		f, ok := goja.AssertFunction(c.Argument(0))
		if !ok || cl == nil {
			panic(vm.NewTypeError("setTimeout: callback is not a function"))
		}
		cl.timerSeq++
		var args []goja.Value
		if len(c.Arguments) > 2 {
			args = append(args, c.Arguments[2:]...)
		}
		cl.timers = append(cl.timers, &timer{id: cl.timerSeq, due: time.Now().Add(delay), fn: f, args: args})
		return vm.ToValue(cl.timerSeq)
	}
	_ = g.DefineDataProperty("setTimeout", vm.ToValue(func(c goja.FunctionCall) goja.Value {
		ms := c.Argument(1).ToInteger()
		if ms < 0 {
			ms = 0
		}
		return add(c, time.Duration(ms)*time.Millisecond)
	}), goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_FALSE)
	_ = g.DefineDataProperty("setImmediate", vm.ToValue(func(c goja.FunctionCall) goja.Value {
		return add(goja.FunctionCall{This: c.This, Arguments: append([]goja.Value{c.Argument(0), vm.ToValue(0)}, c.Arguments[min(1, len(c.Arguments)):]...)}, 0)
	}), goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_FALSE)
	_ = g.DefineDataProperty("clearTimeout", vm.ToValue(func(c goja.FunctionCall) goja.Value {
		if cl := rt.cur; cl != nil {
			id := c.Argument(0).ToInteger()
			for i, t := range cl.timers {
				if t.id == id {
					cl.timers = append(cl.timers[:i], cl.timers[i+1:]...)
					break
				}
			}
		}
		return goja.Undefined()
	}), goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_FALSE)
}

// runTimers runs due timers, earliest first, while the result v is a
// pending promise. It returns when v settles, when no timer is left, or
// with the call's interruption (timeout, cancellation).
func (c *call) runTimers(rt *jsRuntime, v goja.Value) error {
	p, ok := promiseOf(v)
	if !ok {
		return nil
	}
	for p.State() == goja.PromiseStatePending && len(c.timers) > 0 {
		sort.SliceStable(c.timers, func(i, j int) bool { return c.timers[i].due.Before(c.timers[j].due) })
		t := c.timers[0]
		c.timers = c.timers[1:]
		if d := time.Until(t.due); d > 0 {
			select {
			case <-time.After(d):
			case <-c.ctx.Done():
				cause := context.Cause(c.ctx)
				if !errors.Is(cause, ErrTimeout) {
					cause = fmt.Errorf("%w: %w", ErrCanceled, cause)
				}
				return &ExecutionError{Message: cause.Error(), Err: cause}
			}
		}
		if _, err := t.fn(goja.Undefined(), t.args...); err != nil {
			return err
		}
	}
	return nil
}
