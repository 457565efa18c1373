package functions

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/dop251/goja"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/dataaccess"
	"github.com/atollhq/atoll/internal/rules"
	"github.com/atollhq/atoll/internal/store"
)

// contextObject builds the `context` one module evaluation sees.
func (rt *jsRuntime) contextObject(c *call, f *frame) goja.Value {
	vm := rt.vm
	o := vm.NewObject()
	if rt.appObj == nil {
		rt.appObj = rt.freeze(rt.toJS(c.ver.appInfo).ToObject(vm))
		env := vm.NewObject()
		_ = env.Set("tag", c.ver.envTag)
		_ = env.Set("values", rt.freeze(rt.toJS(bson.M(c.ver.envValues)).ToObject(vm)))
		rt.envObj = rt.freeze(env)
		values := vm.NewObject()
		_ = values.Set("get", func(call goja.FunctionCall) goja.Value {
			v, ok := c.ver.values[call.Argument(0).String()]
			if !ok {
				return goja.Undefined()
			}
			return rt.toJS(v) // a fresh copy: callers may not change the value
		})
		rt.valuesObj = rt.freeze(values)
		rt.httpObj = rt.freeze(rt.httpObject())
	}
	_ = o.Set("app", rt.appObj)
	_ = o.Set("environment", rt.envObj)
	_ = o.Set("values", rt.valuesObj)
	rt.lazyContext(o, c, f)
	_ = o.Set("http", rt.httpObj)
	return o
}

// lazyMembers are the members made on first read (by makeLazy): the
// first nCtxLazy are context's, in the order context lists them, the
// others context.user's (see userObject).
var lazyMembers = [nLazy]string{"user", "request", "runningAsSystem", "functions", "services", "data", "custom_data", "identities"}

const (
	// nCtxLazy is the number of lazy members of context.
	nCtxLazy = 5
	// nLazy is the number of lazyMembers.
	nLazy = 8
)

// makeLazy makes lazyMembers[i] for l. The members bound to the
// evaluation's frame (runningAsSystem, functions.execute, services.get)
// are closures over it, as they were when made eagerly: a method called
// detached from its object still runs as its frame.
func (rt *jsRuntime) makeLazy(i int, l *lazyCtx) goja.Value {
	vm, c, f := rt.vm, l.c, l.f
	switch lazyMembers[i] {
	case "user":
		return rt.userObject(c)
	case "request":
		return rt.toJS(requestDoc(c.caller))
	case "runningAsSystem":
		return vm.ToValue(func(goja.FunctionCall) goja.Value { return vm.ToValue(f.exec.System) })
	case "functions":
		fns := vm.NewObject()
		_ = fns.Set("execute", func(call goja.FunctionCall) goja.Value {
			return rt.execute(c, f, call.Argument(0).String(), call.Arguments[min(1, len(call.Arguments)):])
		})
		return fns
	case "services":
		services := vm.NewObject()
		_ = services.Set("get", func(call goja.FunctionCall) goja.Value {
			return rt.serviceObject(c, f, call.Argument(0).String())
		})
		return services
	}
	return rt.toJS(userMember(c.caller, lazyMembers[i]))
}

// lazyCtx holds the lazily made members of one context object (see
// lazyMembers): most functions read few of them, and making all of them
// (converting the caller's user record and the HTTP request with its
// headers, four new functions) was most of building the context. It also
// stands for one context.user object (user set), whose data, custom_data
// and identities are converted on first read in the same way: vals[i] is
// context's lazyMembers[i], or the user object's lazyMembers[nCtxLazy+i].
type lazyCtx struct {
	c    *call
	f    *frame
	user bool
	vals [nCtxLazy]goja.Value
}

// The user object's lazy members fit in lazyCtx.vals (a negative array
// length would not compile).
var _ [nCtxLazy - (nLazy - nCtxLazy)]struct{}

// initLazy makes the getters and setters of the lazyMembers. They are
// shared by every context and user object of the runtime and find the
// object's values in rt.lazy, which is emptied when the call ends.
func (rt *jsRuntime) initLazy() {
	rt.lazy = map[*goja.Object]*lazyCtx{}
	for i := range lazyMembers {
		var get, set func(goja.FunctionCall) goja.Value
		if i < nCtxLazy {
			get, set = rt.ctxGetter(i), rt.ctxSetter(i)
		} else {
			get, set = rt.userGetter(i), rt.userSetter(i)
		}
		// The accessors are shared by every call on this runtime
		// (reachable through getOwnPropertyDescriptor): frozen, they
		// carry nothing between calls.
		rt.lazyAcc[i][0] = rt.freeze(rt.vm.ToValue(get).(*goja.Object))
		rt.lazyAcc[i][1] = rt.freeze(rt.vm.ToValue(set).(*goja.Object))
	}
}

// ctxState is the lazyCtx of this when it is a context object of the
// current call.
func (rt *jsRuntime) ctxState(this goja.Value) *lazyCtx {
	if to, ok := this.(*goja.Object); ok {
		if l := rt.lazy[to]; l != nil && !l.user && l.c == rt.cur {
			return l
		}
	}
	return nil
}

// ctxGetter is the getter of context's lazyMembers[i]: it makes the
// value on first read and returns the same value after that.
func (rt *jsRuntime) ctxGetter(i int) func(goja.FunctionCall) goja.Value {
	return func(call goja.FunctionCall) goja.Value {
		l := rt.ctxState(call.This)
		if l == nil {
			return goja.Undefined()
		}
		if l.vals[i] == nil {
			l.vals[i] = rt.makeLazy(i, l)
		}
		return l.vals[i]
	}
}

// ctxSetter is the setter of context's lazyMembers[i]: assigning
// replaces the value.
func (rt *jsRuntime) ctxSetter(i int) func(goja.FunctionCall) goja.Value {
	return func(call goja.FunctionCall) goja.Value {
		if l := rt.ctxState(call.This); l != nil {
			l.vals[i] = call.Argument(0)
		}
		return goja.Undefined()
	}
}

// lazyContext defines context's lazyMembers on o as accessors: the
// getter makes the value on first read and returns the same value after
// that, and assigning replaces it, as with the plain properties they
// stand for. Read on another object (one inheriting from a context),
// they give undefined.
func (rt *jsRuntime) lazyContext(o *goja.Object, c *call, f *frame) {
	if rt.lazy == nil {
		rt.initLazy()
	}
	rt.lazy[o] = &lazyCtx{c: c, f: f}
	for i := range nCtxLazy {
		_ = o.DefineAccessorProperty(lazyMembers[i], rt.lazyAcc[i][0], rt.lazyAcc[i][1], goja.FLAG_TRUE, goja.FLAG_TRUE)
	}
}

// userObject is context.user: id and type, then data, custom_data and
// identities, which are converted from the caller's record on first
// read (most functions read only the id). Until then they are
// enumerable accessors (userGetter, userSetter); the first read or
// assignment replaces the accessor by the plain data property that it
// stands for, so that afterwards the object is an ordinary one.
func (rt *jsRuntime) userObject(c *call) *goja.Object {
	if rt.lazy == nil {
		rt.initLazy()
	}
	u := rt.vm.NewObject()
	id, typ := userIDType(c.caller)
	_ = u.DefineDataProperty("id", rt.vm.ToValue(id), goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_TRUE)
	_ = u.DefineDataProperty("type", rt.vm.ToValue(typ), goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_TRUE)
	rt.lazy[u] = &lazyCtx{c: c, user: true}
	for i := nCtxLazy; i < nLazy; i++ {
		_ = u.DefineAccessorProperty(lazyMembers[i], rt.lazyAcc[i][0], rt.lazyAcc[i][1], goja.FLAG_TRUE, goja.FLAG_TRUE)
	}
	return u
}

// userState finds the user object of the current call that this is or
// inherits from (as a data property would be found), and its lazyCtx.
func (rt *jsRuntime) userState(this goja.Value) (*goja.Object, *lazyCtx) {
	o, _ := this.(*goja.Object)
	for depth := 0; o != nil && depth < 8; depth++ {
		if l := rt.lazy[o]; l != nil && l.user && l.c == rt.cur {
			return o, l
		}
		o = o.Prototype()
	}
	return nil, nil
}

// userGetter is the getter of the user object's lazyMembers[i]: it
// converts the member and makes it a plain data property of the user
// object. The value is also kept in the lazyCtx, for when the accessor
// stays: on an object frozen or sealed before the first read, or when
// the getter is called detached on the user object.
func (rt *jsRuntime) userGetter(i int) func(goja.FunctionCall) goja.Value {
	return func(call goja.FunctionCall) goja.Value {
		o, l := rt.userState(call.This)
		if l == nil {
			return goja.Undefined()
		}
		v := &l.vals[i-nCtxLazy]
		if *v == nil {
			*v = rt.makeLazy(i, l)
			_ = o.DefineDataProperty(lazyMembers[i], *v, goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_TRUE)
		}
		return *v
	}
}

// userSetter is the setter of the user object's lazyMembers[i]:
// assigning makes a plain data property of this, as assigning a
// writable data property (own or inherited) does.
func (rt *jsRuntime) userSetter(i int) func(goja.FunctionCall) goja.Value {
	return func(call goja.FunctionCall) goja.Value {
		o, l := rt.userState(call.This)
		if l == nil {
			return goja.Undefined()
		}
		this, v := call.This.(*goja.Object), call.Argument(0)
		// A frozen or sealed object refuses the new property, as its
		// read-only data property would refuse the assignment.
		if this.DefineDataProperty(lazyMembers[i], v, goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_TRUE) == nil && this == o {
			l.vals[i-nCtxLazy] = v
		}
		return goja.Undefined()
	}
}

// execute is context.functions.execute: private functions are allowed,
// the callee runs as the caller unless its own run-as settings say
// otherwise.
func (rt *jsRuntime) execute(c *call, parent *frame, name string, args []goja.Value) goja.Value {
	fn := c.ver.funcs[name]
	if fn == nil {
		rt.throw(fmt.Errorf("%w: '%s'", ErrFunctionNotFound, name))
	}
	exec, err := c.resolveRunAs(rt, fn, parent)
	if err == nil && !parent.exec.System {
		err = c.checkCanEvaluateJS(rt, fn, args)
	}
	if err != nil {
		rt.throw(err)
	}
	v, err := c.invoke(rt, fn, exec, args)
	if err != nil {
		var ex *goja.Exception
		if errors.As(err, &ex) {
			panic(ex.Value()) // rethrow the callee's value unchanged
		}
		var ie *goja.InterruptedError
		if errors.As(err, &ie) {
			panic(ie)
		}
		rt.throw(err)
	}
	return v
}

func (c *call) checkCanEvaluateJS(rt *jsRuntime, fn *compiledFunc, args []goja.Value) error {
	if fn.canEvaluate == nil {
		return nil
	}
	goArgs := make([]any, len(args))
	for i, a := range args {
		x, err := rt.fromJS(a, 0, false)
		if err != nil {
			return err
		}
		goArgs[i] = x
	}
	return c.checkCanEvaluate(fn, goArgs)
}

// userIDType is the id and type of context.user: a system caller's (or
// none) are "" and "system".
func userIDType(c Caller) (id, typ string) {
	u := c.User
	if u == nil || u.System {
		return "", "system"
	}
	if u.Type == "" {
		return u.ID, "normal"
	}
	return u.ID, u.Type
}

// userMember is context.user's data, custom_data or identities (empty
// for a system caller).
func userMember(c Caller, name string) any {
	u := c.User
	if u == nil || u.System {
		u = &rules.Caller{}
	}
	switch name {
	case "data":
		if u.Data != nil {
			return u.Data
		}
	case "custom_data":
		if u.CustomData != nil {
			return u.CustomData
		}
	case "identities":
		ids := make(bson.A, 0, len(u.Identities))
		for _, id := range u.Identities {
			ids = append(ids, bson.D{{Key: "id", Value: id.ID}, {Key: "provider_type", Value: id.ProviderType}})
		}
		return ids
	}
	return bson.D{}
}

func requestDoc(c Caller) any {
	r := c.Request
	if r == nil {
		return bson.D{}
	}
	d := bson.D{}
	add := func(k, v string) {
		if v != "" {
			d = append(d, bson.E{Key: k, Value: v})
		}
	}
	add("remoteIPAddress", r.RemoteIPAddress)
	if r.RequestHeaders != nil {
		h := bson.D{}
		keys := make([]string, 0, len(r.RequestHeaders))
		for k := range r.RequestHeaders {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			vs := bson.A{}
			for _, v := range r.RequestHeaders[k] {
				vs = append(vs, v)
			}
			h = append(h, bson.E{Key: k, Value: vs})
		}
		d = append(d, bson.E{Key: "requestHeaders", Value: h})
	}
	add("webhookUrl", r.WebhookURL)
	add("httpMethod", r.HTTPMethod)
	add("rawQueryString", r.RawQueryString)
	add("httpReferrer", r.HTTPReferrer)
	add("httpUserAgent", r.HTTPUserAgent)
	add("service", r.Service)
	add("action", r.Action)
	return d
}

// serviceObject is context.services.get(name): undefined for an unknown
// service.
func (rt *jsRuntime) serviceObject(c *call, f *frame, name string) goja.Value {
	data := c.e.cfg.Data
	if data == nil || !slices.Contains(data.Services(), name) {
		return goja.Undefined()
	}
	// db, startSession and admin are methods of the services' prototype
	// (serviceProto).
	return rt.bound(rt.serviceProto(), &serviceRef{c: c, f: f, name: name})
}

// adminObject is service.admin().
func (rt *jsRuntime) adminObject(c *call, f *frame) goja.Value {
	adm := rt.vm.NewObject()
	_ = adm.Set("getDBNames", func(goja.FunctionCall) goja.Value {
		return rt.promise(func() (any, error) {
			if err := systemOnly(f, "getDBNames"); err != nil {
				return nil, err
			}
			st := c.e.cfg.Store
			if st == nil {
				return bson.A{}, nil
			}
			names, err := st.ListDatabases(c.ctx)
			out := bson.A{}
			for _, n := range names {
				if !reservedDB(n) {
					out = append(out, n)
				}
			}
			return out, err
		})
	})
	return adm
}

// dbRef is what a database object stands for.
type dbRef struct {
	c           *call
	f           *frame
	service, db string
}

// serviceRef is what a service object (context.services.get(name))
// stands for.
type serviceRef struct {
	c    *call
	f    *frame
	name string
}

// bound makes an object with prototype proto standing for ref (a
// *serviceRef, *dbRef or *collRef: its call, frame and namespace). The
// methods live on one prototype per runtime, so that opening a service,
// database or collection costs one object, not a set of new functions;
// a method finds its object's ref with refOf. The refs are forgotten when
// the call ends.
func (rt *jsRuntime) bound(proto *goja.Object, ref any) *goja.Object {
	o := rt.vm.CreateObject(proto)
	if rt.refs == nil {
		rt.refs = map[*goja.Object]any{}
	}
	rt.refs[o] = ref
	return o
}

// refOf returns the ref of this (or of the nearest object on its
// prototype chain that has one) when it is a T of the current call, and
// throws a TypeError otherwise: a method called on a forged object, or
// detached from its object, or on an object of an earlier call.
func refOf[T interface{ call() *call }](rt *jsRuntime, this goja.Value, what string) T {
	o, _ := this.(*goja.Object)
	for depth := 0; o != nil && depth < 8; depth++ {
		if r, ok := rt.refs[o].(T); ok && r.call() == rt.cur {
			return r
		}
		o = o.Prototype()
	}
	panic(rt.vm.NewTypeError("not a %s of this call", what))
}

func (r *serviceRef) call() *call { return r.c }
func (r *dbRef) call() *call      { return r.c }
func (r *collRef) call() *call    { return r.c }

// databaseObject is service.db(name).
func (rt *jsRuntime) databaseObject(r *dbRef) goja.Value {
	if rt.dbProto == nil {
		rt.dbProto = rt.databaseProto()
	}
	return rt.bound(rt.dbProto, r)
}

func (rt *jsRuntime) dbRefOf(this goja.Value) *dbRef {
	return refOf[*dbRef](rt, this, "database")
}

// serviceProto holds db, startSession and admin.
func (rt *jsRuntime) serviceProto() *goja.Object {
	if rt.svcProto == nil {
		o := rt.vm.NewObject()
		_ = o.Set("db", func(call goja.FunctionCall) goja.Value {
			r := refOf[*serviceRef](rt, call.This, "service")
			return rt.databaseObject(&dbRef{c: r.c, f: r.f, service: r.name, db: call.Argument(0).String()})
		})
		_ = o.Set("startSession", func(call goja.FunctionCall) goja.Value {
			return rt.sessionObject(refOf[*serviceRef](rt, call.This, "service").c)
		})
		_ = o.Set("admin", func(call goja.FunctionCall) goja.Value {
			r := refOf[*serviceRef](rt, call.This, "service")
			return rt.adminObject(r.c, r.f)
		})
		rt.svcProto = rt.freeze(o)
	}
	return rt.svcProto
}

// databaseProto holds collection and getCollectionNames.
func (rt *jsRuntime) databaseProto() *goja.Object {
	o := rt.vm.NewObject()
	_ = o.Set("collection", func(call goja.FunctionCall) goja.Value {
		r := rt.dbRefOf(call.This)
		return rt.collectionObject(r.c, r.f, r.service, r.db, call.Argument(0).String())
	})
	_ = o.Set("getCollectionNames", func(call goja.FunctionCall) goja.Value {
		r := rt.dbRefOf(call.This)
		return rt.promise(func() (any, error) {
			if err := systemOnly(r.f, "getCollectionNames"); err != nil {
				return nil, err
			}
			st := r.c.e.cfg.Store
			if st == nil || reservedDB(r.db) {
				return bson.A{}, nil
			}
			names, err := st.Database(r.db).ListCollections(r.c.ctx)
			return stringsA(names), err
		})
	})
	return rt.freeze(o)
}

func reservedDB(n string) bool {
	return n == store.SystemDatabase || n == "admin" || n == "local" || n == "config"
}

func stringsA(s []string) bson.A {
	out := make(bson.A, len(s))
	for i := range s {
		out[i] = s[i]
	}
	return out
}

// promise runs op now and returns a settled promise. Every operation is
// synchronous underneath; the promise only gives functions the interface
// they were written against.
func (rt *jsRuntime) promise(op func() (any, error)) goja.Value {
	return rt.settled(op())
}

// settled returns a promise settled with v, or rejected with err.
func (rt *jsRuntime) settled(v any, err error) goja.Value {
	p, resolve, reject := rt.vm.NewPromise()
	if err != nil {
		_ = reject(rt.vm.NewGoError(err))
	} else if gv, ok := v.(goja.Value); ok {
		_ = resolve(gv)
	} else {
		_ = resolve(rt.toJS(v))
	}
	return rt.vm.ToValue(p)
}

// handle opens the namespace for the frame's execution identity.
func (c *call) handle(f *frame, service, db, coll string) (*dataaccess.Collection, error) {
	req := dataaccess.Request{Caller: f.exec, HTTP: c.caller.Request, Functions: c.e.ForCaller(c.caller)}
	return c.e.cfg.Data.Collection(c.ctx, req, service, db, coll)
}

func (rt *jsRuntime) doc(v goja.Value) bson.D {
	if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
		return bson.D{}
	}
	x, err := rt.fromJS(v, 0, false)
	if err != nil {
		rt.throw(err)
	}
	d, ok := x.(bson.D)
	if !ok {
		rt.throw(fmt.Errorf("expected a document, got %T", x))
	}
	return d
}

func (rt *jsRuntime) docs(v goja.Value) []bson.D {
	x, err := rt.fromJS(v, 0, false)
	if err != nil {
		rt.throw(err)
	}
	a, ok := x.(bson.A)
	if !ok {
		rt.throw(fmt.Errorf("expected an array of documents, got %T", x))
	}
	out := make([]bson.D, len(a))
	for i, e := range a {
		d, ok := e.(bson.D)
		if !ok {
			rt.throw(fmt.Errorf("expected a document at index %d, got %T", i, e))
		}
		out[i] = d
	}
	return out
}

// opt reads an option of an options object.
func opt(o goja.Value, k string) goja.Value {
	ob, ok := o.(*goja.Object)
	if !ok {
		return nil
	}
	v := ob.Get(k)
	if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
		return nil
	}
	return v
}

func (rt *jsRuntime) optDoc(o goja.Value, k string) bson.D {
	if v := opt(o, k); v != nil {
		return rt.doc(v)
	}
	return nil
}

func optBool(o goja.Value, k string) bool {
	if v := opt(o, k); v != nil {
		return v.ToBoolean()
	}
	return false
}

// collectionObject is db.collection(name) with the methods of spec §1.5
// (on one prototype per runtime, see bound).
func (rt *jsRuntime) collectionObject(c *call, f *frame, service, db, coll string) goja.Value {
	if rt.collProto == nil {
		rt.collProto = rt.collectionProto()
	}
	return rt.bound(rt.collProto, &collRef{c: c, f: f, service: service, db: db, coll: coll})
}

// collRef is what a collection object stands for.
type collRef struct {
	c                 *call
	f                 *frame
	service, db, coll string
}

func (r *collRef) open(rt *jsRuntime) *dataaccess.Collection {
	h, err := r.c.handle(r.f, r.service, r.db, r.coll)
	if err != nil {
		rt.throw(err)
	}
	return h
}

func (rt *jsRuntime) collRefOf(this goja.Value) *collRef {
	return refOf[*collRef](rt, this, "collection")
}

// collectionProto holds the methods of spec §1.5.
func (rt *jsRuntime) collectionProto() *goja.Object {
	vm := rt.vm
	o := vm.NewObject()
	// method defines a promise-returning method. op gets the collection
	// and the context (the call's, or the { session }'s transaction's)
	// as arguments, not through variables shared by the methods: the
	// conversion of its arguments may run JavaScript (getters) that calls
	// another collection's methods.
	method := func(name string, op func(r *collRef, ctx context.Context, call goja.FunctionCall) (any, error)) {
		sessArg := sessionArg[name]
		_ = o.Set(name, func(call goja.FunctionCall) goja.Value {
			r := rt.collRefOf(call.This)
			use := rt.sessionOf(r.c, call.Argument(sessArg))
			ctx, err := use.context()
			var v any
			if err == nil {
				v, err = use.done(op(r, ctx, call))
			}
			return rt.settled(v, err)
		})
	}
	_ = o.Set("find", func(call goja.FunctionCall) goja.Value {
		r := rt.collRefOf(call.This)
		q, proj := rt.doc(call.Argument(0)), rt.optProjection(call.Argument(1))
		use := rt.sessionOf(r.c, call.Argument(sessionArg["find"]))
		return rt.cursorObject(func(sort bson.D, skip, limit int64) ([]bson.D, error) {
			return runDocs(use, func(ctx context.Context) ([]bson.D, error) {
				return r.open(rt).Find(ctx, q, dataaccess.FindOptions{Projection: proj, Sort: sort, Skip: skip, Limit: limit})
			})
		})
	})
	_ = o.Set("aggregate", func(call goja.FunctionCall) goja.Value {
		r := rt.collRefOf(call.This)
		p := rt.docs(call.Argument(0))
		use := rt.sessionOf(r.c, call.Argument(sessionArg["aggregate"]))
		return rt.cursorObject(func(sort bson.D, skip, limit int64) ([]bson.D, error) {
			pipe := p
			if len(sort) > 0 {
				pipe = append(pipe[:len(pipe):len(pipe)], bson.D{{Key: "$sort", Value: sort}})
			}
			if skip > 0 {
				pipe = append(pipe[:len(pipe):len(pipe)], bson.D{{Key: "$skip", Value: skip}})
			}
			if limit > 0 {
				pipe = append(pipe[:len(pipe):len(pipe)], bson.D{{Key: "$limit", Value: limit}})
			}
			return runDocs(use, func(ctx context.Context) ([]bson.D, error) { return r.open(rt).Aggregate(ctx, pipe) })
		})
	})
	method("findOne", func(r *collRef, ctx context.Context, call goja.FunctionCall) (any, error) {
		q, proj, opts := rt.doc(call.Argument(0)), rt.optProjection(call.Argument(1)), call.Argument(2)
		d, err := r.open(rt).FindOne(ctx, q, dataaccess.FindOptions{Projection: proj, Sort: rt.optDoc(opts, "sort")})
		if d == nil || err != nil {
			return nil, err
		}
		return d, nil
	})
	modOpts := func(o goja.Value) dataaccess.FindOneAndModifyOptions {
		return dataaccess.FindOneAndModifyOptions{
			Sort: rt.optDoc(o, "sort"), Projection: rt.optDoc(o, "projection"),
			Upsert: optBool(o, "upsert"), ReturnNewDocument: optBool(o, "returnNewDocument"),
		}
	}
	orNull := func(d bson.D, err error) (any, error) {
		if d == nil || err != nil {
			return nil, err
		}
		return d, nil
	}
	method("findOneAndUpdate", func(r *collRef, ctx context.Context, call goja.FunctionCall) (any, error) {
		return orNull(r.open(rt).FindOneAndUpdate(ctx, rt.doc(call.Argument(0)), rt.doc(call.Argument(1)), modOpts(call.Argument(2))))
	})
	method("findOneAndReplace", func(r *collRef, ctx context.Context, call goja.FunctionCall) (any, error) {
		return orNull(r.open(rt).FindOneAndReplace(ctx, rt.doc(call.Argument(0)), rt.doc(call.Argument(1)), modOpts(call.Argument(2))))
	})
	method("findOneAndDelete", func(r *collRef, ctx context.Context, call goja.FunctionCall) (any, error) {
		return orNull(r.open(rt).FindOneAndDelete(ctx, rt.doc(call.Argument(0)), modOpts(call.Argument(1))))
	})
	method("insertOne", func(r *collRef, ctx context.Context, call goja.FunctionCall) (any, error) {
		res, err := r.open(rt).InsertOne(ctx, rt.doc(call.Argument(0)))
		if err != nil {
			return nil, err
		}
		return res.Document(), nil
	})
	method("insertMany", func(r *collRef, ctx context.Context, call goja.FunctionCall) (any, error) {
		res, err := r.open(rt).InsertMany(ctx, rt.docs(call.Argument(0)))
		if err != nil {
			return nil, err
		}
		return res.Document(), nil
	})
	updOpts := func(o goja.Value) dataaccess.UpdateOptions {
		u := dataaccess.UpdateOptions{Upsert: optBool(o, "upsert")}
		if v := opt(o, "arrayFilters"); v != nil {
			u.ArrayFilters = rt.docs(v)
		}
		return u
	}
	method("updateOne", func(r *collRef, ctx context.Context, call goja.FunctionCall) (any, error) {
		res, err := r.open(rt).UpdateOne(ctx, rt.doc(call.Argument(0)), rt.doc(call.Argument(1)), updOpts(call.Argument(2)))
		if err != nil {
			return nil, err
		}
		return updateResult(res), nil
	})
	method("updateMany", func(r *collRef, ctx context.Context, call goja.FunctionCall) (any, error) {
		res, err := r.open(rt).UpdateMany(ctx, rt.doc(call.Argument(0)), rt.doc(call.Argument(1)), updOpts(call.Argument(2)))
		if err != nil {
			return nil, err
		}
		return updateResult(res), nil
	})
	method("deleteOne", func(r *collRef, ctx context.Context, call goja.FunctionCall) (any, error) {
		res, err := r.open(rt).DeleteOne(ctx, rt.doc(call.Argument(0)))
		if err != nil {
			return nil, err
		}
		return deleteResult(res), nil
	})
	method("deleteMany", func(r *collRef, ctx context.Context, call goja.FunctionCall) (any, error) {
		res, err := r.open(rt).DeleteMany(ctx, rt.doc(call.Argument(0)))
		if err != nil {
			return nil, err
		}
		return deleteResult(res), nil
	})
	method("count", func(r *collRef, ctx context.Context, call goja.FunctionCall) (any, error) {
		var co dataaccess.CountOptions
		if v := opt(call.Argument(1), "limit"); v != nil {
			co.Limit = v.ToInteger()
		}
		if v := opt(call.Argument(1), "skip"); v != nil {
			co.Skip = v.ToInteger()
		}
		n, err := r.open(rt).Count(ctx, rt.doc(call.Argument(0)), co)
		return float64(n), err
	})
	method("distinct", func(r *collRef, ctx context.Context, call goja.FunctionCall) (any, error) {
		field := call.Argument(0).String()
		pipe := []bson.D{
			{{Key: "$match", Value: rt.doc(call.Argument(1))}},
			{{Key: "$unwind", Value: bson.D{{Key: "path", Value: "$" + field}, {Key: "preserveNullAndEmptyArrays", Value: false}}}},
			{{Key: "$group", Value: bson.D{{Key: "_id", Value: "$" + field}}}},
			{{Key: "$sort", Value: bson.D{{Key: "_id", Value: 1}}}},
		}
		ds, err := r.open(rt).Aggregate(ctx, pipe)
		out := bson.A{}
		for _, d := range ds {
			if len(d) > 0 {
				out = append(out, d[0].Value)
			}
		}
		return out, err
	})
	method("bulkWrite", func(r *collRef, ctx context.Context, call goja.FunctionCall) (any, error) {
		h := r.open(rt)
		for _, op := range rt.docs(call.Argument(0)) {
			if len(op) != 1 {
				return nil, errors.New("bulkWrite: each operation has exactly one key")
			}
			args, _ := op[0].Value.(bson.D)
			get := func(k string) bson.D {
				for _, e := range args {
					if e.Key == k {
						d, _ := e.Value.(bson.D)
						return d
					}
				}
				return nil
			}
			upsert := false
			for _, e := range args {
				if e.Key == "upsert" {
					upsert, _ = e.Value.(bool)
				}
			}
			var err error
			switch op[0].Key {
			case "insertOne":
				_, err = h.InsertOne(ctx, get("document"))
			case "updateOne":
				_, err = h.UpdateOne(ctx, get("filter"), get("update"), dataaccess.UpdateOptions{Upsert: upsert})
			case "updateMany":
				_, err = h.UpdateMany(ctx, get("filter"), get("update"), dataaccess.UpdateOptions{Upsert: upsert})
			case "replaceOne":
				_, err = h.ReplaceOne(ctx, get("filter"), get("replacement"), dataaccess.UpdateOptions{Upsert: upsert})
			case "deleteOne":
				_, err = h.DeleteOne(ctx, get("filter"))
			case "deleteMany":
				_, err = h.DeleteMany(ctx, get("filter"))
			default:
				err = fmt.Errorf("bulkWrite: unknown operation %q", op[0].Key)
			}
			if err != nil {
				return nil, err
			}
		}
		return nil, nil
	})
	return rt.freeze(o)
}

// updateResult is the result of updateOne and updateMany as functions
// see it: the counts are numbers, as in App Services, not the int64
// (BSON.Long) of the wire document, so that `matchedCount === 1` holds.
func updateResult(r *dataaccess.UpdateResult) bson.D {
	d := bson.D{{Key: "matchedCount", Value: float64(r.MatchedCount)}, {Key: "modifiedCount", Value: float64(r.ModifiedCount)}}
	if r.UpsertedID != nil {
		d = append(d, bson.E{Key: "upsertedId", Value: r.UpsertedID})
	}
	return d
}

// deleteResult is the result of deleteOne and deleteMany as functions
// see it, deletedCount a number (see updateResult).
func deleteResult(r *dataaccess.DeleteResult) bson.D {
	return bson.D{{Key: "deletedCount", Value: float64(r.DeletedCount)}}
}

func (rt *jsRuntime) optProjection(v goja.Value) bson.D {
	if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
		return nil
	}
	return rt.doc(v)
}

// cursorObject is the cursor of find and aggregate: sort/skip/limit until
// the first read, then next/toArray over the results read at once.
func (rt *jsRuntime) cursorObject(read func(sort bson.D, skip, limit int64) ([]bson.D, error)) goja.Value {
	vm := rt.vm
	o := vm.NewObject()
	var (
		sort        bson.D
		skip, limit int64
		docs        []bson.D
		pos         int
		done        bool
	)
	load := func() error {
		if done {
			return nil
		}
		d, err := read(sort, skip, limit)
		if err != nil {
			return err
		}
		docs, done = d, true
		return nil
	}
	chain := func(set func(goja.Value)) func(goja.FunctionCall) goja.Value {
		return func(call goja.FunctionCall) goja.Value {
			if done {
				rt.throw(errors.New("cursor options cannot change after the first read"))
			}
			set(call.Argument(0))
			return o
		}
	}
	_ = o.Set("sort", chain(func(v goja.Value) { sort = rt.doc(v) }))
	_ = o.Set("skip", chain(func(v goja.Value) { skip = v.ToInteger() }))
	_ = o.Set("limit", chain(func(v goja.Value) { limit = v.ToInteger() }))
	_ = o.Set("toArray", func(goja.FunctionCall) goja.Value {
		return rt.promise(func() (any, error) {
			if err := load(); err != nil {
				return nil, err
			}
			rest := docs[pos:]
			pos = len(docs)
			out := make(bson.A, len(rest))
			for i := range rest {
				out[i] = rest[i]
			}
			return out, nil
		})
	})
	_ = o.Set("next", func(goja.FunctionCall) goja.Value {
		return rt.promise(func() (any, error) {
			if err := load(); err != nil {
				return nil, err
			}
			if pos >= len(docs) {
				return bson.Undefined{}, nil
			}
			pos++
			return docs[pos-1], nil
		})
	})
	_ = o.Set("hasNext", func(goja.FunctionCall) goja.Value {
		return rt.promise(func() (any, error) {
			if err := load(); err != nil {
				return nil, err
			}
			return pos < len(docs), nil
		})
	})
	return o
}

// systemOnly refuses namespace listings to functions running as an
// application user: names are read from the store directly, outside the
// rules, so only the system may enumerate them (deny by default).
func systemOnly(f *frame, op string) error {
	if f.exec.System {
		return nil
	}
	return fmt.Errorf("%s is only available to functions running as system", op)
}
