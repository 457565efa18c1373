package functions

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/dop251/goja"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/expr"
	"github.com/atollhq/atoll/internal/rules"
)

// A function source is a script whose entry point is whatever it assigns
// to `exports`. It is compiled inside a wrapper function so that its
// top-level declarations are local to one evaluation (a fresh module per
// call: no state survives between calls) and so that each evaluation gets
// its own `context` (nested calls keep their own identity across awaits).
// The prefix stays on the first line, so line numbers are the file's.
const (
	modulePrefix = "(function (exports, context, module) {"
	moduleSuffix = "\n;return module.exports !== undefined ? module.exports : exports;})"
)

// compileModule compiles a function source once per config version.
func compileModule(name, file, src string) (*goja.Program, error) {
	p, err := goja.Compile(file, modulePrefix+src+moduleSuffix, false)
	if err != nil {
		msg := err.Error()
		var se *goja.CompilerSyntaxError
		if errors.As(err, &se) {
			msg = se.Error()
		}
		return nil, &SyntaxError{Function: name, File: file, Message: strings.TrimPrefix(msg, "SyntaxError: ")}
	}
	return p, nil
}

// jsRuntime is one warm goja runtime. It is used by one call at a time.
type jsRuntime struct {
	vm  *goja.Runtime
	e   *Engine
	ver *version
	// modules are the wrapper functions of the programs run so far.
	modules  map[*goja.Program]goja.Callable
	bs       bsonClasses
	dateCtor goja.Value
	// globals is the global object as it was when the runtime was made:
	// restored after every call.
	globals map[string]goja.Value
	// globalNames and globalVals are globals in order, for the fast check
	// in reset; ownNames is Object.getOwnPropertyNames as the runtime
	// was made (user code cannot replace it for us), and globalCount the
	// global object's own property count then.
	globalNames []string
	globalVals  []goja.Value
	ownNames    goja.Callable
	globalCount int
	// guards watch the global object and the built-ins for changes a
	// call leaves behind (guard.go); a changed built-in taints the
	// runtime, which is then dropped.
	guards  *guards
	tainted bool
	cur     *call
	// shared per-version objects, made on first use.
	appObj, envObj, valuesObj, httpObj goja.Value
	collProto, dbProto, svcProto       *goja.Object
	// refs are the service, database and collection objects of the
	// current call and what they stand for (see bound).
	refs map[*goja.Object]any
	// lazy holds the lazily made members of the current call's context
	// objects (see lazyContext); lazyAcc are their shared getters and
	// setters.
	lazy    map[*goja.Object]*lazyCtx
	lazyAcc [nLazy][2]goja.Value
}

func newRuntime(e *Engine, v *version) (*jsRuntime, error) {
	vm := goja.New()
	vm.SetFieldNameMapper(goja.UncapFieldNameMapper())
	vm.SetMaxCallStackSize(2000)
	rt := &jsRuntime{vm: vm, e: e, ver: v, modules: map[*goja.Program]goja.Callable{}}
	rt.dateCtor = vm.Get("Date")
	if err := rt.installGlobals(); err != nil {
		return nil, err
	}
	g := vm.GlobalObject()
	rt.globals = map[string]goja.Value{}
	for _, k := range g.GetOwnPropertyNames() {
		v := g.Get(k)
		rt.globals[k] = v
		rt.globalNames = append(rt.globalNames, k)
		rt.globalVals = append(rt.globalVals, v)
	}
	if obj, ok := g.Get("Object").(*goja.Object); ok {
		rt.ownNames, _ = goja.AssertFunction(obj.Get("getOwnPropertyNames"))
	}
	if rt.ownNames == nil {
		return nil, errors.New("functions: Object.getOwnPropertyNames missing")
	}
	var builtins []*goja.Object
	for _, n := range guardedBuiltins {
		o, ok := g.Get(n[0]).(*goja.Object)
		if ok && n[1] != "" {
			o, ok = o.Get(n[1]).(*goja.Object)
		}
		if !ok {
			return nil, fmt.Errorf("functions: built-in %s.%s missing", n[0], n[1])
		}
		builtins = append(builtins, o)
	}
	if err := rt.installGuards(builtins); err != nil {
		return nil, err
	}
	// The global object's names and values as the guards left them (they
	// replace Object.defineProperty and its kin, not globals).
	rt.globalCount = rt.ownCount(g)
	return rt, nil
}

// guardedBuiltins are the built-in objects (global name, then property)
// whose changes taint a runtime: the prototypes ordinary code inherits
// from most. Each costs about half a µs per call (guard.go); guarding also
// the other prototypes and the namespaces (JSON, Math, Object, Promise,
// ...) would double the cost of a trivial call, so their members are
// not watched (see docs/performance.md).
var guardedBuiltins = [][2]string{
	{"Object", "prototype"}, {"Array", "prototype"}, {"Function", "prototype"}, {"String", "prototype"},
}

// ownCount is the number of own string-keyed properties of o, or -1
// when it cannot be read. It goes through the captured
// Object.getOwnPropertyNames: for goja's lazily built prototypes and
// global object that costs a fraction of (*goja.Object).
// GetOwnPropertyNames, which builds every lazy property on each call.
func (rt *jsRuntime) ownCount(o *goja.Object) int {
	return rt.length(rt.ownNames, o)
}

// unchanged reports whether the global object has exactly its starting
// properties with their starting values. Same count and every starting
// name bound to its starting value means no name was added either.
func (rt *jsRuntime) unchanged() bool {
	g := rt.vm.GlobalObject()
	if c := rt.ownCount(g); c < 0 || c != rt.globalCount {
		return false
	}
	for i, k := range rt.globalNames {
		if cur := g.Get(k); cur == nil || !cur.SameAs(rt.globalVals[i]) {
			return false
		}
	}
	return true
}

// reset restores the global object after a call: only when the call
// changed it (see guard) are its properties walked, new ones deleted and
// changed ones put back. A call that changed a guarded built-in taints
// the runtime.
func (rt *jsRuntime) reset() {
	// A global the call turned into a throwing getter panics in Get: the
	// runtime cannot be trusted any more, and the panic must not escape.
	defer func() {
		if r := recover(); r != nil {
			rt.tainted = true
		}
	}()
	gs := rt.guards
	if gs.dirtyGlobal || !rt.intact(gs.list[0]) {
		gs.dirtyGlobal = false
		rt.restoreGlobals()
		if !rt.intact(gs.list[0]) {
			rt.tainted = true
		}
	}
	if gs.dirtyBuiltin {
		gs.dirtyBuiltin = false
		rt.tainted = true
	}
	for _, g := range gs.list[1:] {
		if !rt.intact(g) {
			rt.tainted = true
			return
		}
	}
}

// restoreGlobals deletes the global properties a call added and puts
// back the ones it replaced.
func (rt *jsRuntime) restoreGlobals() {
	g := rt.vm.GlobalObject()
	for _, k := range g.GetOwnPropertyNames() {
		base, ok := rt.globals[k]
		if !ok {
			if g.Delete(k) != nil {
				rt.tainted = true
			}
			continue
		}
		if cur := g.Get(k); cur == nil || !cur.SameAs(base) {
			if err := g.Set(k, base); err != nil {
				rt.tainted = true
			}
		}
	}
	// Whatever the walk could not put back is caught next time by
	// unchanged; a runtime that cannot be restored is dropped.
	if !rt.unchanged() {
		rt.tainted = true
	}
}

// module returns the wrapper function of p in this runtime.
func (rt *jsRuntime) module(p *goja.Program) (goja.Callable, error) {
	if m, ok := rt.modules[p]; ok {
		return m, nil
	}
	v, err := rt.vm.RunProgram(p)
	if err != nil {
		return nil, err
	}
	m, ok := goja.AssertFunction(v)
	if !ok {
		return nil, errors.New("functions: module wrapper is not a function")
	}
	// Every call on this runtime runs the same wrapper, which sloppy code
	// reaches as arguments.callee: frozen, it carries nothing between calls.
	if o, isObj := v.(*goja.Object); isObj {
		rt.freeze(o)
	}
	rt.modules[p] = m
	return m, nil
}

// frame is one function evaluation inside a call: its execution identity.
type frame struct {
	name string
	exec rules.Caller // System set for system execution
}

// call is one top-level call: its caller, console output and interrupt.
type call struct {
	e         *Engine
	ver       *version
	caller    Caller
	rt        *jsRuntime
	ctx       context.Context
	logs      []string
	logBytes  int
	truncated bool
	heapStart int64
	// base is the call depth of the context the call came with (a
	// %function call inside another function's data access); depth
	// counts the functions running in this call (context.functions.
	// execute). Their sum is bounded by expr.MaxCallDepth, the counter
	// %function shares, so a cycle through rules and functions stops
	// there rather than at the concurrency limit.
	base     int
	depth    int
	timers   []*timer
	timerSeq int64
	// top is the identity the top-level function ran as, for the app log.
	top *rules.Caller

	mu          sync.Mutex
	interrupted error
}

// interrupt stops the call's JavaScript with cause.
func (c *call) interrupt(cause error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.interrupted != nil || c.rt == nil {
		return
	}
	c.interrupted = cause
	c.rt.vm.Interrupt(cause)
}

func (c *call) run(ctx context.Context, rt *jsRuntime, fn *compiledFunc, args []any) (res any, err error) {
	ctx, cancel := context.WithTimeoutCause(ctx, c.e.cfg.Timeout, ErrTimeout)
	defer cancel()
	c.ctx = ctx
	c.base = expr.CallDepth(ctx)
	c.mu.Lock()
	c.rt = rt
	c.mu.Unlock()
	rt.cur = c
	c.heapStart = heapBytes()
	c.e.mu.Lock()
	c.e.active[c] = struct{}{}
	c.e.mu.Unlock()
	done := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		defer close(done)
		cause := context.Cause(ctx)
		if !errors.Is(cause, ErrTimeout) {
			cause = fmt.Errorf("%w: %w", ErrCanceled, cause)
		}
		c.interrupt(cause)
	})
	defer func() {
		if !stop() {
			<-done // the interrupt is being delivered: wait, then clear it
		}
		c.e.mu.Lock()
		delete(c.e.active, c)
		c.e.mu.Unlock()
		c.mu.Lock()
		if c.interrupted != nil {
			// An interrupt inside a promise job can leave goja's call
			// stack half unwound: later calls would never run their
			// promise jobs. Such a runtime is not reused.
			rt.tainted = true
		}
		c.rt = nil
		c.mu.Unlock()
		rt.vm.ClearInterrupt()
		rt.cur = nil
		clear(rt.lazy)
		clear(rt.refs)
		rt.reset()
		if r := recover(); r != nil {
			rt.tainted = true
			res, err = nil, &ExecutionError{Function: fn.cfg.Name, Message: fmt.Sprintf("internal error: %v", r)}
		}
	}()

	exec, err := c.resolveRunAs(rt, fn, nil)
	if err == nil {
		c.top = &exec
		err = c.checkCanEvaluate(fn, args)
	}
	if err != nil {
		return nil, err
	}
	jsArgs := make([]goja.Value, len(args))
	for i, a := range args {
		jsArgs[i] = rt.toJS(a)
	}
	v, err := c.invoke(rt, fn, exec, jsArgs)
	if err != nil {
		return nil, c.jsError(fn.cfg.Name, err)
	}
	if err := c.runTimers(rt, v); err != nil {
		return nil, c.jsError(fn.cfg.Name, err)
	}
	v, err = c.settle(fn.cfg.Name, v)
	if err != nil {
		return nil, err
	}
	out, err := rt.fromJS(v, 0, true)
	if err != nil {
		return nil, &ExecutionError{Function: fn.cfg.Name, Message: err.Error(), Err: err}
	}
	if err := c.checkSize(out); err != nil {
		return nil, err
	}
	return out, nil
}

// invoke evaluates fn's module with a fresh context for exec and calls its
// export with args.
func (c *call) invoke(rt *jsRuntime, fn *compiledFunc, exec rules.Caller, args []goja.Value) (goja.Value, error) {
	if c.base+c.depth >= expr.MaxCallDepth {
		return nil, &ExecutionError{Function: fn.cfg.Name, Err: expr.ErrCallDepth,
			Message: fmt.Sprintf("function call depth exceeds %d (a cycle through functions?)", expr.MaxCallDepth)}
	}
	c.depth++
	// What this function runs (data access, whose rules may use
	// %function) sees the depth in its context.
	outer := c.ctx
	c.ctx = expr.WithCallDepth(outer, c.base+c.depth)
	defer func() { c.depth--; c.ctx = outer }()
	m, err := rt.module(fn.prog)
	if err != nil {
		return nil, err
	}
	f := &frame{name: fn.cfg.Name, exec: exec}
	ctxObj := rt.contextObject(c, f)
	exp, err := m(goja.Undefined(), goja.Undefined(), ctxObj, rt.vm.NewObject())
	if err != nil {
		return nil, err
	}
	callable, ok := goja.AssertFunction(exp)
	if !ok {
		return nil, &ExecutionError{Function: fn.cfg.Name, Message: fmt.Sprintf("function %q does not assign a function to exports", fn.cfg.Name)}
	}
	return callable(goja.Undefined(), args...)
}

// settle waits for a promise result. Every asynchronous operation Atoll
// offers resolves before it returns to JavaScript and goja runs the job
// queue before control comes back to Go, so a promise still pending here
// can never settle.
func (c *call) settle(name string, v goja.Value) (goja.Value, error) {
	p, ok := promiseOf(v)
	if !ok {
		return v, nil
	}
	switch p.State() {
	case goja.PromiseStateFulfilled:
		return p.Result(), nil
	case goja.PromiseStateRejected:
		return nil, c.thrown(name, p.Result(), "")
	}
	return nil, &ExecutionError{Function: name, Message: ErrUnsettled.Error(), Err: ErrUnsettled}
}

// jsError converts an error from goja into an *ExecutionError.
func (c *call) jsError(name string, err error) error {
	var ie *goja.InterruptedError
	if errors.As(err, &ie) {
		cause, _ := ie.Value().(error)
		if cause == nil {
			cause = ErrTimeout
		}
		return &ExecutionError{Function: name, Message: cause.Error(), Err: cause}
	}
	var ex *goja.Exception
	if errors.As(err, &ex) {
		return c.thrown(name, ex.Value(), ex.String())
	}
	var so *goja.StackOverflowError
	if errors.As(err, &so) {
		return &ExecutionError{Function: name, Message: "maximum call stack size exceeded", Err: err}
	}
	var ee *ExecutionError
	if errors.As(err, &ee) {
		return ee
	}
	return &ExecutionError{Function: name, Message: err.Error(), Err: err}
}

// thrown converts a thrown JavaScript value.
func (c *call) thrown(name string, v goja.Value, stack string) error {
	ee := &ExecutionError{Function: name, Stack: stack}
	if o, ok := v.(*goja.Object); ok {
		if ge, ok := o.Export().(error); ok && o.ClassName() == "GoError" {
			ee.Err = ge
		}
		if m := o.Get("message"); m != nil && !goja.IsUndefined(m) && (o.ClassName() == "Error" || o.ClassName() == "GoError") {
			ee.Message = m.String()
			ee.Value = ee.Message
			return ee
		}
	}
	if v == nil {
		v = goja.Undefined()
	}
	if x, err := c.rt.fromJS(v, 0, true); err == nil {
		ee.Value = x
	}
	if c.rt != nil {
		if s, err := c.rt.ejsonString(v); err == nil && !isStringValue(v) {
			ee.Message = s
		} else {
			ee.Message = v.String()
		}
	} else {
		ee.Message = v.String()
	}
	return ee
}

// promiseOf returns v's promise when v is a Promise. Other objects are
// not exported: Export copies a plain object whole into a map.
func promiseOf(v goja.Value) (*goja.Promise, bool) {
	o, ok := v.(*goja.Object)
	if !ok || o.ExportType() != promiseType {
		return nil, false
	}
	p, ok := o.Export().(*goja.Promise)
	return p, ok
}

func isStringValue(v goja.Value) bool {
	_, ok := v.Export().(string)
	return ok
}

// checkSize refuses results larger than MaxResultBytes.
func (c *call) checkSize(v any) error {
	switch x := v.(type) {
	case nil, bool, int32, int64, float64, bson.Undefined, bson.ObjectID, bson.DateTime, bson.Decimal128:
		return nil
	case string:
		if len(x) <= c.e.cfg.MaxResultBytes {
			return nil
		}
		return ErrResultTooLarge
	}
	n, ok := bsonSize(v, 0)
	n += 8 // measured as the field r of a document, as before
	if !ok {
		// A type the quick measure does not know: encode it.
		b, err := bson.Marshal(bson.D{{Key: "r", Value: v}})
		if err != nil {
			return &ExecutionError{Message: err.Error(), Err: err}
		}
		n = len(b)
	}
	if n > c.e.cfg.MaxResultBytes {
		return fmt.Errorf("%w: %d bytes (limit %d)", ErrResultTooLarge, n, c.e.cfg.MaxResultBytes)
	}
	return nil
}

// bsonSize is the size of v's BSON encoding as a document field value
// (without its type byte and key), computed without encoding it; ok is
// false for a type it does not know, or nesting past maxDepth. A result
// is measured on every call, and encoding it only to count bytes used to
// cost as much as converting it.
func bsonSize(v any, depth int) (n int, ok bool) {
	if depth > maxDepth {
		return 0, false
	}
	switch x := v.(type) {
	case nil, bson.Undefined, bson.Null, bson.MinKey, bson.MaxKey:
		return 0, true
	case bool:
		return 1, true
	case int32:
		return 4, true
	case int64, float64, bson.DateTime, bson.Timestamp:
		return 8, true
	case bson.ObjectID:
		return 12, true
	case bson.Decimal128:
		return 16, true
	case string:
		return 4 + len(x) + 1, true
	case bson.Binary:
		return 4 + 1 + len(x.Data), true
	case bson.Regex:
		return len(x.Pattern) + 1 + len(x.Options) + 1, true
	case bson.D:
		n = 4 + 1
		for _, e := range x {
			m, ok := bsonSize(e.Value, depth+1)
			if !ok {
				return 0, false
			}
			n += 1 + len(e.Key) + 1 + m
		}
		return n, true
	case bson.A:
		n = 4 + 1
		for i, e := range x {
			m, ok := bsonSize(e, depth+1)
			if !ok {
				return 0, false
			}
			n += 1 + decimalLen(i) + 1 + m
		}
		return n, true
	}
	return 0, false
}

// decimalLen is the number of digits of i ≥ 0 (an array index key).
func decimalLen(i int) int {
	n := 1
	for i >= 10 {
		i /= 10
		n++
	}
	return n
}

// resolveRunAs returns the execution identity of fn called from parent
// (nil for a top-level call), after spec §1.3.
func (c *call) resolveRunAs(rt *jsRuntime, fn *compiledFunc, parent *frame) (rules.Caller, error) {
	switch {
	case fn.cfg.RunAsSystem:
		return rules.Caller{System: true}, nil
	case fn.cfg.RunAsUserID != "":
		return c.lookupUser(fn.cfg.RunAsUserID)
	case fn.runAsScript != nil:
		return c.runAsScript(rt, fn)
	}
	if parent != nil {
		return parent.exec, nil
	}
	if c.caller.System || c.caller.User == nil {
		return rules.Caller{System: true}, nil
	}
	return *c.caller.User, nil
}

func (c *call) lookupUser(id string) (rules.Caller, error) {
	if c.e.cfg.Users == nil {
		return rules.Caller{ID: id, Type: "normal"}, nil
	}
	u, err := c.e.cfg.Users.FunctionUser(c.ctx, id)
	if err != nil {
		return rules.Caller{}, &ExecutionError{Message: fmt.Sprintf("run as user %q: %v", id, err), Err: err}
	}
	return u, nil
}

// runAsScript runs run_as_user_id_script_source: it returns a user id or
// {runAsSystem: true}.
func (c *call) runAsScript(rt *jsRuntime, fn *compiledFunc) (rules.Caller, error) {
	m, err := rt.module(fn.runAsScript)
	if err == nil {
		var exp goja.Value
		f := &frame{name: fn.cfg.Name, exec: rules.Caller{System: true}}
		exp, err = m(goja.Undefined(), goja.Undefined(), rt.contextObject(c, f), rt.vm.NewObject())
		if err == nil {
			if callable, ok := goja.AssertFunction(exp); ok {
				exp, err = callable(goja.Undefined())
			}
		}
		if err == nil {
			exp, err = c.settle(fn.cfg.Name, exp)
		}
		if err == nil {
			if o, ok := exp.(*goja.Object); ok && o.Get("runAsSystem") != nil && o.Get("runAsSystem").ToBoolean() {
				return rules.Caller{System: true}, nil
			}
			if s, ok := exp.Export().(string); ok && s != "" {
				return c.lookupUser(s)
			}
			return rules.Caller{}, &ExecutionError{Function: fn.cfg.Name, Message: "run_as_user_id_script_source must return a user id or {runAsSystem: true}"}
		}
	}
	return rules.Caller{}, c.jsError(fn.cfg.Name, err)
}

// checkCanEvaluate evaluates can_evaluate with the authenticated caller.
// Server-side callers (triggers, auth handlers) are not subject to it.
func (c *call) checkCanEvaluate(fn *compiledFunc, args []any) error {
	if fn.canEvaluate == nil || (c.caller.System && c.caller.User == nil) {
		return nil
	}
	b := expr.Binding{
		Values:      c.ver.values,
		Environment: expr.Environment{Tag: c.ver.envTag, Values: c.ver.envValues},
		Request:     c.caller.Request,
		Args:        bson.A(args),
		Functions:   c.e.ForCaller(c.caller),
	}
	if u := c.caller.User; u != nil && !u.System {
		b.User = &expr.User{ID: u.ID, Type: u.Type, Data: u.Data, CustomData: u.CustomData, Identities: u.Identities}
	}
	env, err := expr.Bind(b)
	if err == nil {
		var ok bool
		ok, err = fn.canEvaluate.Eval(c.ctx, env, expr.NoDocument)
		if err == nil && ok {
			return nil
		}
	}
	msg := fmt.Sprintf("rule not matched for function \"%s\"", fn.cfg.Name)
	if err != nil {
		msg += ": " + err.Error()
	}
	return &ExecutionError{Function: fn.cfg.Name, Message: msg, Err: ErrCanEvaluate}
}
