package functions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dop251/goja"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/appconfig"
	"github.com/atollhq/atoll/internal/applog"
	"github.com/atollhq/atoll/internal/dataaccess"
	"github.com/atollhq/atoll/internal/ejson"
	"github.com/atollhq/atoll/internal/expr"
	"github.com/atollhq/atoll/internal/rules"
	"github.com/atollhq/atoll/internal/store"
)

// Defaults of Config, after App Services' documented limits (spec §1.9)
// where it documents one.
const (
	DefaultTimeout         = 300 * time.Second
	DefaultMemoryLimit     = 350 << 20
	DefaultMaxConcurrent   = 10000
	DefaultMaxConsoleBytes = 1 << 20
	DefaultMaxResultBytes  = 18 << 20
)

// UserLookup resolves the user a run_as_user_id function runs as.
type UserLookup interface {
	FunctionUser(ctx context.Context, id string) (rules.Caller, error)
}

// Config configures an Engine. Zero values mean the defaults.
type Config struct {
	// Data is the data choke point behind context.services; nil makes
	// context.services.get return undefined.
	Data *dataaccess.Access
	// Store lists databases and collections (admin().getDBNames(),
	// db.getCollectionNames()); nil lists nothing.
	Store store.Store
	// Users resolves run_as_user_id users; nil runs as a user with only an
	// id.
	Users UserLookup
	// Logger receives one record per call and the console output.
	Logger *slog.Logger
	// AppLog, when set, receives one entry per top-level run (the app log
	// `atoll logs` reads). Record must not block.
	AppLog Recorder
	// Timeout is the wall-clock limit of one call.
	Timeout time.Duration
	// MemoryLimit is how far the Go heap may grow during one call.
	MemoryLimit int64
	// MaxConcurrent is the number of calls that may run at once.
	MaxConcurrent int
	// MaxConsoleBytes caps the console output kept per call.
	MaxConsoleBytes int
	// MaxResultBytes caps the BSON size of a result.
	MaxResultBytes int
	// MaxIdleRuntimes is how many warm runtimes are kept (default 32).
	MaxIdleRuntimes int
	// HTTPClient is context.http's client; nil means a client with a 60 s
	// timeout.
	HTTPClient *http.Client
}

// Recorder receives app log entries; *applog.Writer is one.
type Recorder interface {
	Record(applog.Entry)
}

// What started a run, as the app log records it (Caller.Trigger).
const (
	TriggerClient = "client" // functions/call
	TriggerRule   = "rule"   // %function in a rule expression
	TriggerAuth   = "auth"   // an auth provider or handler
	TriggerServer = "server" // other server-side code
)

// Caller is who calls a function.
type Caller struct {
	// Trigger is what started the run, for the app log; empty means
	// TriggerServer. Functions run through context.functions.execute are
	// part of their caller's run and its entry.
	Trigger string
	// User is the authenticated user; nil when there is none (triggers,
	// server-side code). It is what context.user shows.
	User *rules.Caller
	// System runs the call as system unless the function says otherwise:
	// triggers, auth handlers, server-side code.
	System bool
	// Client marks a call from a client (functions/call): private functions
	// are refused.
	Client bool
	// Request is context.request and %%request; nil when not from HTTP.
	Request *expr.Request
}

// SystemCaller is the caller of triggers and auth handlers.
func SystemCaller() Caller { return Caller{System: true} }

// authCaller is the caller of auth handlers.
func authCaller() Caller { return Caller{System: true, Trigger: TriggerAuth} }

// ClientCaller is an application user calling over the client API.
func ClientCaller(u rules.Caller, req *expr.Request) Caller {
	return Caller{User: &u, Client: true, Request: req, Trigger: TriggerClient}
}

// Execution is the outcome of one call.
type Execution struct {
	Result   any
	Logs     []string
	Duration time.Duration
}

// Engine runs one app's functions. It is safe for concurrent use; Reload
// swaps the config version without disturbing running calls.
type Engine struct {
	cfg Config
	log *slog.Logger
	ver atomic.Pointer[version]
	sem chan struct{}
	// idle are the warm runtimes, most recently used last: acquire takes
	// the last one (its objects are the likeliest still in the CPU
	// caches; a FIFO pool cycled through every runtime the peak
	// concurrency ever made, and the per-call work on a cold runtime's
	// objects cost a third more).
	idleMu sync.Mutex
	idle   []*jsRuntime

	mu     sync.Mutex
	active map[*call]struct{}
	stop   chan struct{}
	wg     sync.WaitGroup
	closed bool
}

// New compiles app's functions and returns an Engine. A source that does
// not compile fails here with a *SyntaxError naming the file and line.
func New(app *appconfig.App, cfg Config) (*Engine, error) {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MemoryLimit <= 0 {
		cfg.MemoryLimit = DefaultMemoryLimit
	}
	if cfg.MaxConcurrent <= 0 {
		cfg.MaxConcurrent = DefaultMaxConcurrent
	}
	if cfg.MaxConsoleBytes <= 0 {
		cfg.MaxConsoleBytes = DefaultMaxConsoleBytes
	}
	if cfg.MaxResultBytes <= 0 {
		cfg.MaxResultBytes = DefaultMaxResultBytes
	}
	if cfg.MaxIdleRuntimes <= 0 {
		cfg.MaxIdleRuntimes = 32
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 60 * time.Second}
	}
	e := &Engine{
		cfg: cfg, log: cfg.Logger,
		sem:    make(chan struct{}, cfg.MaxConcurrent),
		idle:   make([]*jsRuntime, 0, cfg.MaxIdleRuntimes),
		active: map[*call]struct{}{},
		stop:   make(chan struct{}),
	}
	if err := e.Reload(app); err != nil {
		return nil, err
	}
	e.wg.Add(1)
	go e.watchMemory()
	return e, nil
}

// Reload compiles a new config version and swaps it in. Warm runtimes of
// the old version are dropped as they come back to the pool.
func (e *Engine) Reload(app *appconfig.App) error {
	v, err := compileApp(app)
	if err != nil {
		return err
	}
	e.ver.Store(v)
	return nil
}

// Close stops the memory watchdog. Calls still running finish.
func (e *Engine) Close() error {
	e.mu.Lock()
	if !e.closed {
		e.closed = true
		close(e.stop)
	}
	e.mu.Unlock()
	e.wg.Wait()
	return nil
}

// Has reports whether the current config version has the function.
func (e *Engine) Has(name string) bool { return e.ver.Load().funcs[name] != nil }

// Call runs the function name with args (BSON values) for caller and
// returns its result (BSON values; undefined is bson.Undefined{}).
func (e *Engine) Call(ctx context.Context, caller Caller, name string, args []any) (any, error) {
	x, err := e.Run(ctx, caller, name, args)
	if err != nil {
		return nil, err
	}
	return x.Result, nil
}

// Run is Call returning the console output and duration as well.
func (e *Engine) Run(ctx context.Context, caller Caller, name string, args []any) (*Execution, error) {
	v := e.ver.Load()
	fn := v.funcs[name]
	if fn == nil {
		return nil, fmt.Errorf("%w: '%s'", ErrFunctionNotFound, name)
	}
	if caller.Client && fn.cfg.Private {
		// App Services answers a private function as if it did not exist
		// to the client, with an execution error.
		return nil, &ExecutionError{Function: name, Message: fmt.Sprintf("function '%s' is private", name), Err: ErrPrivate}
	}
	// A call nested in another (a %function in the rules of a function's
	// data access) runs on its caller's slot: it is bounded by
	// expr.MaxCallDepth, and refusing it would make a busy server fail
	// rules instead of new calls.
	if expr.CallDepth(ctx) == 0 {
		select {
		case e.sem <- struct{}{}:
		default:
			return nil, ErrTooManyRequests
		}
		defer func() { <-e.sem }()
	}

	start := time.Now()
	c := &call{e: e, ver: v, caller: caller}
	rt, err := e.acquire(v)
	if err != nil {
		return nil, err
	}
	res, err := c.run(ctx, rt, fn, args)
	e.release(rt)
	x := &Execution{Result: res, Logs: c.logs, Duration: time.Since(start)}
	e.logCall(ctx, fn, caller, args, x, err)
	if e.cfg.AppLog != nil {
		e.record(start, fn, caller, c.top, args, x, err)
	}
	if err != nil {
		return x, err
	}
	return x, nil
}

// logCall writes the run to the process log: failures at Warn, successes
// at Debug (the app log, Config.AppLog, is where every run is kept; a
// line per successful call on stderr would cost a tenth of a trivial
// call).
func (e *Engine) logCall(ctx context.Context, fn *compiledFunc, caller Caller, args []any, x *Execution, err error) {
	level := slog.LevelDebug
	if err != nil {
		level = slog.LevelWarn
	}
	if !e.log.Enabled(ctx, level) {
		return
	}
	attrs := []slog.Attr{
		slog.String("type", "function"), slog.String("function", fn.cfg.Name),
		slog.Duration("duration", x.Duration), slog.Bool("system", caller.System),
	}
	if caller.User != nil {
		attrs = append(attrs, slog.String("user_id", caller.User.ID))
	}
	if !fn.cfg.DisableArgLogs {
		if b, merr := bson.MarshalExtJSON(bson.D{{Key: "arguments", Value: bson.A(args)}}, false, false); merr == nil {
			attrs = append(attrs, slog.String("arguments", string(b)))
		}
	}
	if len(x.Logs) > 0 {
		attrs = append(attrs, slog.Any("logs", x.Logs))
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
		e.log.LogAttrs(ctx, slog.LevelWarn, "function call failed", attrs...)
		return
	}
	e.log.LogAttrs(ctx, slog.LevelDebug, "function call", attrs...)
}

// record hands the run's app log entry to cfg.AppLog. exec is the
// identity the function ran as (nil when it failed before resolving it).
func (e *Engine) record(start time.Time, fn *compiledFunc, caller Caller, exec *rules.Caller, args []any, x *Execution, err error) {
	ent := applog.Entry{Time: start, Type: "function", Name: fn.cfg.Name, Duration: x.Duration,
		Trigger: caller.Trigger, Logs: x.Logs, System: caller.System}
	if ent.Trigger == "" {
		ent.Trigger = TriggerServer
	}
	if caller.User != nil && !caller.User.System {
		ent.UserID = caller.User.ID
	}
	if exec != nil {
		ent.System = exec.System
	}
	if !fn.cfg.DisableArgLogs {
		if len(args) == 0 {
			ent.Arguments = "[]" // what ejsonOf gives, without the encoder
		} else {
			ent.Arguments = ejsonOf(bson.A(args))
		}
	}
	if err != nil {
		ent.Error = err.Error()
	} else {
		ent.Result = ejsonOf(x.Result)
	}
	e.cfg.AppLog.Record(ent)
}

// ejsonOf is v in canonical extended JSON, or a note that it has none.
func ejsonOf(v any) string {
	b, err := ejson.Append(make([]byte, 0, 128), v)
	if err != nil {
		return fmt.Sprintf("(not representable: %v)", err)
	}
	return string(b)
}

// acquire returns a warm runtime of version v, or a new one.
func (e *Engine) acquire(v *version) (*jsRuntime, error) {
	e.idleMu.Lock()
	if len(e.idle) > 0 && e.idle[0].ver != v {
		// A reload happened: drop the old version's runtimes, which sit
		// at the bottom where acquire would not reach them.
		kept := e.idle[:0]
		for _, rt := range e.idle {
			if rt.ver == v {
				kept = append(kept, rt)
			}
		}
		clear(e.idle[len(kept):])
		e.idle = kept
	}
	for len(e.idle) > 0 {
		rt := e.idle[len(e.idle)-1]
		e.idle[len(e.idle)-1] = nil
		e.idle = e.idle[:len(e.idle)-1]
		if rt.ver == v {
			e.idleMu.Unlock()
			return rt, nil
		}
		// An old config version: drop it.
	}
	e.idleMu.Unlock()
	return newRuntime(e, v)
}

// release returns rt to the pool unless it is tainted or the pool is full.
func (e *Engine) release(rt *jsRuntime) {
	if rt.tainted || rt.ver != e.ver.Load() {
		return
	}
	e.idleMu.Lock()
	if len(e.idle) < e.cfg.MaxIdleRuntimes {
		e.idle = append(e.idle, rt)
	}
	e.idleMu.Unlock()
}

// idleCount is how many warm runtimes wait in the pool.
func (e *Engine) idleCount() int {
	e.idleMu.Lock()
	defer e.idleMu.Unlock()
	return len(e.idle)
}

// heapBytes reads the live heap size without stopping the world.
func heapBytes() int64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return int64(s[0].Value.Uint64())
}

// watchMemory interrupts calls during which the heap grew past the memory
// limit. goja has no allocation accounting; the heap growth since the
// call started is the best bound available, and it stops a runaway
// allocation long before the process runs out of memory.
func (e *Engine) watchMemory() {
	defer e.wg.Done()
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-e.stop:
			return
		case <-t.C:
		}
		e.mu.Lock()
		if len(e.active) == 0 {
			e.mu.Unlock()
			continue
		}
		h := heapBytes()
		for c := range e.active {
			if h-c.heapStart > e.cfg.MemoryLimit {
				c.interrupt(ErrMemoryLimit)
			}
		}
		e.mu.Unlock()
	}
}

// version is one compiled config version.
type version struct {
	app       *appconfig.App
	funcs     map[string]*compiledFunc
	values    map[string]any // BSON values, secrets resolved
	envTag    string
	envValues map[string]any
	appInfo   bson.D
}

// compiledFunc is one function of a version.
type compiledFunc struct {
	cfg         *appconfig.Function
	prog        *goja.Program
	runAsScript *goja.Program
	canEvaluate *expr.Expr
}

func compileApp(app *appconfig.App) (*version, error) {
	v := &version{app: app, funcs: map[string]*compiledFunc{}, values: map[string]any{}}
	var errs []error
	for _, f := range app.Functions {
		cf := &compiledFunc{cfg: f}
		file := f.SourceFile
		if file == "" {
			file = "functions/" + f.Name + ".js"
		}
		p, err := compileModule(f.Name, file, f.Source)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		cf.prog = p
		if f.RunAsUserIDScriptSource != "" {
			p, err := compileModule(f.Name, file+" (run_as_user_id_script_source)", f.RunAsUserIDScriptSource)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			cf.runAsScript = p
		}
		if raw := f.CanEvaluate; len(raw) > 0 && string(raw) != "{}" && string(raw) != "null" {
			// Bare fields in can_evaluate read the arguments (%%args), as
			// in the spec and rules.CheckFunctions.
			x, err := expr.ParseJSON(raw, expr.Options{Scope: expr.ScopeArgs})
			if err != nil {
				errs = append(errs, fmt.Errorf("functions: can_evaluate of %q: %w", f.Name, err))
				continue
			}
			cf.canEvaluate = x
		}
		v.funcs[f.Name] = cf
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	for _, val := range app.Values {
		raw, ok := app.Value(val.Name)
		if !ok {
			continue
		}
		x, err := decodeJSONValue(raw)
		if err != nil {
			return nil, fmt.Errorf("functions: value %q: %w", val.Name, err)
		}
		v.values[val.Name] = x
	}
	v.envTag = app.EnvironmentTag()
	v.envValues = map[string]any{}
	if env := app.ActiveEnvironment(); env != nil {
		for k, raw := range env.Values {
			x, err := decodeJSONValue(raw)
			if err != nil {
				return nil, fmt.Errorf("functions: %s: value %q: %w", env.File, k, err)
			}
			v.envValues[k] = x
		}
	}
	v.appInfo = bson.D{
		{Key: "id", Value: app.AppID}, {Key: "clientAppId", Value: app.AppID},
		{Key: "name", Value: app.Name()}, {Key: "projectId", Value: ""},
		{Key: "deployment", Value: bson.D{{Key: "model", Value: app.Root.DeploymentModel}, {Key: "providerRegion", Value: app.Root.ProviderRegion}}},
		{Key: "lastDeployed", Value: time.Now().UTC().Format(time.RFC3339)},
		{Key: "hostingUri", Value: ""},
	}
	return v, nil
}

// decodeJSONValue decodes one (extended) JSON value into BSON terms.
func decodeJSONValue(raw json.RawMessage) (any, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	wrapped := append(append([]byte(`{"v":`), raw...), '}')
	var d bson.D
	if err := bson.UnmarshalExtJSON(wrapped, false, &d); err != nil {
		return nil, err
	}
	return d[0].Value, nil
}
