package functions

import (
	"context"
	"errors"

	"github.com/dop251/goja"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/dataaccess"
)

// Client sessions and multi-document transactions (spec §1.5):
//
//	const session = context.services.get("mongodb-atlas").startSession();
//	await session.withTransaction(async () => {
//	  await coll.updateOne(filter, update, { session });
//	});
//	session.endSession();
//
// or startTransaction / commitTransaction / abortTransaction by hand.
// Operations given { session } while its transaction is open run in it,
// through dataaccess with the frame's identity (an application user's
// rules and schema still apply). The transaction's context is the call's,
// so a transaction left open is rolled back when the call ends or times
// out, and the store's writer is released with it.

// sessionError is an error thrown to JavaScript by a session, with the
// Node.js driver's text (capitalized: functions may match on it).
type sessionError string

func (e sessionError) Error() string { return string(e) }

// Session errors.
const (
	errSessionEnded      sessionError = "Cannot use a session that has ended"
	errTxInProgress      sessionError = "Transaction already in progress"
	errNoTxStarted       sessionError = "No transaction started"
	errCommitAfterAbort  sessionError = "Cannot call commitTransaction after calling abortTransaction"
	errNotSessionOfCall  sessionError = "options.session is not a session started in this function call"
	errNoDataAccessForTx sessionError = "sessions need the mongodb-atlas data source"
)

// sessionKey is the hidden property tying a JS session object to its Go
// session.
const sessionKey = "__atollSession"

// session is one startSession() of a call.
type session struct {
	c    *call
	data *dataaccess.Access
	tx   *dataaccess.Transaction // the current or last transaction
	// open is set from startTransaction until commitTransaction,
	// abortTransaction or endSession. The store transaction may end
	// earlier (a failed operation aborts it): operations given the
	// session then fail instead of running outside a transaction.
	open  bool
	abort bool // the last transaction ended by abortTransaction
	ended bool
}

// inProgress reports whether the session's transaction is open, from
// JavaScript's point of view.
func (s *session) inProgress() bool { return s.open }

func (s *session) start() error {
	switch {
	case s.ended:
		return errSessionEnded
	case s.inProgress():
		return errTxInProgress
	case s.data == nil:
		return errNoDataAccessForTx
	}
	// Transaction options (readConcern, writeConcern, readPreference,
	// maxCommitTimeMS) are accepted and ignored: the embedded store's
	// transactions are serializable, MongoDB's use the driver defaults.
	tx, err := s.data.BeginTransaction(s.c.ctx)
	if err != nil {
		return err
	}
	s.tx, s.open, s.abort = tx, true, false
	return nil
}

func (s *session) commit() error {
	switch {
	case s.tx == nil:
		return errNoTxStarted
	case s.abort:
		return errCommitAfterAbort
	}
	s.open = false
	return s.tx.Commit() // again after a commit: nil, as in the driver
}

// rollback aborts an open transaction. Unlike the Node.js driver it does
// not complain when none is open: App Services' documented pattern calls
// abortTransaction in a catch block after withTransaction has already
// rolled back.
func (s *session) rollback() {
	if s.open {
		s.tx.Abort()
		s.open, s.abort = false, true
	}
}

// context is the context an operation given this session runs with: the
// transaction's while one is open, the call's otherwise.
func (s *session) context() (context.Context, error) {
	if s.ended {
		return nil, errSessionEnded
	}
	if s.open {
		if err := s.tx.Err(); err != nil {
			return nil, err
		}
		return s.tx.Context(), nil
	}
	return s.c.ctx, nil
}

// sessionObject is client.startSession().
func (rt *jsRuntime) sessionObject(c *call) goja.Value {
	vm := rt.vm
	s := &session{c: c, data: c.e.cfg.Data}
	o := vm.NewObject()
	_ = o.DefineDataProperty(sessionKey, vm.ToValue(s), goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_FALSE)
	_ = o.Set("startTransaction", func(goja.FunctionCall) goja.Value {
		if err := s.start(); err != nil {
			rt.throw(err)
		}
		return goja.Undefined()
	})
	_ = o.Set("commitTransaction", func(goja.FunctionCall) goja.Value {
		return rt.promise(func() (any, error) { return nil, s.commit() })
	})
	_ = o.Set("abortTransaction", func(goja.FunctionCall) goja.Value {
		return rt.promise(func() (any, error) { s.rollback(); return nil, nil })
	})
	_ = o.Set("endSession", func(goja.FunctionCall) goja.Value {
		return rt.promise(func() (any, error) {
			s.rollback()
			s.ended = true
			return nil, nil
		})
	})
	_ = o.Set("inTransaction", func(goja.FunctionCall) goja.Value { return vm.ToValue(s.inProgress()) })
	_ = o.DefineAccessorProperty("hasEnded", vm.ToValue(func(goja.FunctionCall) goja.Value { return vm.ToValue(s.ended) }), nil, goja.FLAG_FALSE, goja.FLAG_TRUE)
	_ = o.Set("withTransaction", func(call goja.FunctionCall) goja.Value {
		return rt.withTransaction(s, o, call.Argument(0))
	})
	return o
}

// withTransaction is session.withTransaction(fn): start a transaction, run
// fn(session), commit when its promise fulfils (unless fn ended the
// transaction itself), abort when it rejects or throws. It settles with
// fn's result or error, or with the commit's error. The callback is not
// retried: no backend here reports transient transaction errors to it.
func (rt *jsRuntime) withTransaction(s *session, so *goja.Object, fnv goja.Value) goja.Value {
	vm := rt.vm
	p, resolve, reject := vm.NewPromise()
	fn, ok := goja.AssertFunction(fnv)
	if !ok {
		_ = reject(vm.NewTypeError("withTransaction needs a function"))
		return vm.ToValue(p)
	}
	if err := s.start(); err != nil {
		_ = reject(vm.NewGoError(err))
		return vm.ToValue(p)
	}
	fulfil := func(v goja.Value) {
		if s.inProgress() {
			if err := s.commit(); err != nil {
				_ = reject(vm.NewGoError(err))
				return
			}
		}
		_ = resolve(v)
	}
	fail := func(reason goja.Value) {
		s.rollback()
		_ = reject(reason)
	}
	res, err := fn(goja.Undefined(), so)
	if err != nil {
		s.rollback()
		var ex *goja.Exception
		if errors.As(err, &ex) {
			_ = reject(ex.Value())
			return vm.ToValue(p)
		}
		panic(err) // an interrupt (timeout): unwind the call
	}
	if obj, ok := res.(*goja.Object); ok {
		if then, ok := goja.AssertFunction(obj.Get("then")); ok {
			_, err := then(obj,
				vm.ToValue(func(c goja.FunctionCall) goja.Value { fulfil(c.Argument(0)); return goja.Undefined() }),
				vm.ToValue(func(c goja.FunctionCall) goja.Value { fail(c.Argument(0)); return goja.Undefined() }))
			if err != nil {
				fail(vm.NewGoError(err))
			}
			return vm.ToValue(p)
		}
	}
	fulfil(res)
	return vm.ToValue(p)
}

// sessionArg is the position of the options argument (where { session }
// is read) of each collection method.
var sessionArg = map[string]int{
	"find": 2, "findOne": 2, "findOneAndUpdate": 2, "findOneAndReplace": 2, "findOneAndDelete": 1,
	"insertOne": 1, "insertMany": 1, "updateOne": 2, "updateMany": 2, "deleteOne": 1, "deleteMany": 1,
	"aggregate": 1, "count": 1, "distinct": 2, "bulkWrite": 1,
}

// sessionUse is how one collection operation runs: with the session it
// was given, or with none.
type sessionUse struct {
	c *call
	s *session
}

// sessionOf reads options.session; a value that is not a session of this
// call is a TypeError, never silently ignored (its operation would run
// outside the transaction the function meant).
func (rt *jsRuntime) sessionOf(c *call, options goja.Value) sessionUse {
	v := opt(options, "session")
	if v == nil {
		return sessionUse{c: c}
	}
	if o, ok := v.(*goja.Object); ok {
		if h := o.Get(sessionKey); h != nil {
			if s, ok := h.Export().(*session); ok && s.c == c {
				return sessionUse{c: c, s: s}
			}
		}
	}
	panic(rt.vm.NewTypeError(errNotSessionOfCall.Error()))
}

// context is the context to run the operation with.
func (u sessionUse) context() (context.Context, error) {
	if u.s == nil {
		return u.c.ctx, nil
	}
	return u.s.context()
}

// done records the outcome of an operation: one that fails inside a
// transaction aborts it, as a failed write aborts a MongoDB transaction
// (so a write the rules deny cannot be committed around).
func (u sessionUse) done(v any, err error) (any, error) {
	if err != nil && u.s != nil && u.s.open {
		u.s.tx.Fail(err)
	}
	return v, err
}

// run runs op with the operation's context and records its outcome.
func (u sessionUse) run(op func(ctx context.Context) (any, error)) (any, error) {
	ctx, err := u.context()
	if err != nil {
		return nil, err
	}
	return u.done(op(ctx))
}

// runDocs is run for the reads behind a cursor.
func runDocs(u sessionUse, op func(ctx context.Context) ([]bson.D, error)) ([]bson.D, error) {
	v, err := u.run(func(ctx context.Context) (any, error) { return op(ctx) })
	docs, _ := v.([]bson.D)
	return docs, err
}
