package functions

import (
	_ "embed"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dop251/goja"
	"go.mongodb.org/mongo-driver/v2/bson"
)

//go:embed prelude.js
var preludeSource string

var preludeProgram = goja.MustCompile("prelude.js", preludeSource, true)

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func unb64(s string) ([]byte, error) { return base64.StdEncoding.DecodeString(s) }

// throw raises err as a JavaScript exception (goja turns the panic into one).
func (rt *jsRuntime) throw(err error) {
	panic(rt.vm.NewGoError(err))
}

// installGlobals sets up BSON, EJSON, utils and console. context is not a
// global: every module evaluation receives its own.
func (rt *jsRuntime) installGlobals() error {
	vm := rt.vm
	h := vm.NewObject()
	set := func(name string, f func(goja.FunctionCall) goja.Value) { _ = h.Set(name, f) }
	str := func(c goja.FunctionCall, i int) string { return c.Argument(i).String() }
	set("newObjectId", func(goja.FunctionCall) goja.Value { return vm.ToValue(bson.NewObjectID().Hex()) })
	set("objectIdHex", func(c goja.FunctionCall) goja.Value {
		id, err := bson.ObjectIDFromHex(str(c, 0))
		if err != nil {
			panic(vm.NewTypeError("invalid ObjectId: %q", str(c, 0)))
		}
		return vm.ToValue(id.Hex())
	})
	set("objectIdFromTime", func(c goja.FunctionCall) goja.Value {
		id := bson.NewObjectIDFromTimestamp(time.Unix(c.Argument(0).ToInteger(), 0))
		var zero [12]byte
		copy(zero[:4], id[:4])
		return vm.ToValue(hex.EncodeToString(zero[:]))
	})
	set("longString", func(c goja.FunctionCall) goja.Value {
		a := c.Argument(0)
		if s, ok := a.Export().(string); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
			if err != nil {
				panic(vm.NewTypeError("invalid Long: %q", s))
			}
			return vm.ToValue(strconv.FormatInt(n, 10))
		}
		return vm.ToValue(strconv.FormatInt(a.ToInteger(), 10))
	})
	set("longFromBits", func(c goja.FunctionCall) goja.Value {
		lo, hi := uint32(c.Argument(0).ToInteger()), uint32(c.Argument(1).ToInteger())
		return vm.ToValue(strconv.FormatInt(int64(uint64(hi)<<32|uint64(lo)), 10))
	})
	set("decimalString", func(c goja.FunctionCall) goja.Value {
		d, err := bson.ParseDecimal128(str(c, 0))
		if err != nil {
			panic(vm.NewTypeError("invalid Decimal128: %q", str(c, 0)))
		}
		return vm.ToValue(d.String())
	})
	set("textToBase64", func(c goja.FunctionCall) goja.Value { return vm.ToValue(b64([]byte(str(c, 0)))) })
	set("bytesToBase64", func(c goja.FunctionCall) goja.Value {
		switch x := c.Argument(0).Export().(type) {
		case goja.ArrayBuffer:
			return vm.ToValue(b64(x.Bytes()))
		case []byte:
			return vm.ToValue(b64(x))
		case []any:
			b := make([]byte, len(x))
			for i, e := range x {
				n, _ := e.(int64)
				b[i] = byte(n)
			}
			return vm.ToValue(b64(b))
		}
		panic(vm.NewTypeError("Binary: unsupported buffer"))
	})
	set("base64ToHex", func(c goja.FunctionCall) goja.Value {
		b, _ := unb64(str(c, 0))
		return vm.ToValue(hex.EncodeToString(b))
	})
	set("base64ToText", func(c goja.FunctionCall) goja.Value {
		b, _ := unb64(str(c, 0))
		if !utf8.Valid(b) {
			return vm.ToValue(strings.ToValidUTF8(string(b), "\uFFFD"))
		}
		return vm.ToValue(string(b))
	})
	set("base64Len", func(c goja.FunctionCall) goja.Value {
		b, _ := unb64(str(c, 0))
		return vm.ToValue(len(b))
	})
	set("checkBase64", func(c goja.FunctionCall) goja.Value {
		if _, err := unb64(str(c, 0)); err != nil {
			panic(vm.NewTypeError("invalid base64 (padding required)"))
		}
		return vm.ToValue(str(c, 0))
	})
	set("hexToBase64", func(c goja.FunctionCall) goja.Value {
		b, err := hex.DecodeString(str(c, 0))
		if err != nil {
			panic(vm.NewTypeError("invalid hex"))
		}
		return vm.ToValue(b64(b))
	})
	pv, err := vm.RunProgram(preludeProgram)
	if err != nil {
		return fmt.Errorf("functions: prelude: %w", err)
	}
	pf, _ := goja.AssertFunction(pv)
	bsonVal, err := pf(goja.Undefined(), h)
	if err != nil {
		return fmt.Errorf("functions: prelude: %w", err)
	}
	bsonObj := bsonVal.ToObject(vm)
	get := func(n string) *goja.Object { return bsonObj.Get(n).ToObject(vm) }
	rt.bs = bsonClasses{
		objectID: get("ObjectId"), long: get("Long"), decimal: get("Decimal128"), binary: get("Binary"),
		binaryFrom: must(goja.AssertFunction(get("Binary").Get("fromBase64"))),
		timestamp:  get("Timestamp"), regex: get("BSONRegExp"), minKey: get("MinKey"), maxKey: get("MaxKey"),
	}
	proto := func(c *goja.Object) *goja.Object { return c.Get("prototype").ToObject(vm) }
	rt.bs.objectIDProto, rt.bs.longProto, rt.bs.decimalProto = proto(rt.bs.objectID), proto(rt.bs.long), proto(rt.bs.decimal)
	g := vm.GlobalObject()
	define := func(name string, v goja.Value) {
		_ = g.DefineDataProperty(name, v, goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_FALSE)
	}
	define("BSON", bsonObj)
	define("EJSON", rt.freeze(rt.ejsonObject()))
	define("utils", rt.freeze(rt.utilsObject()))
	define("console", rt.freeze(rt.consoleObject()))
	rt.installTimers()
	define("require", vm.ToValue(func(c goja.FunctionCall) goja.Value {
		panic(vm.NewTypeError("require(%q): npm dependencies and Node built-ins are not supported by Atoll", str(c, 0)))
	}))
	return nil
}

// consoleObject captures console output into the current call, up to
// MaxConsoleBytes.
func (rt *jsRuntime) consoleObject() *goja.Object {
	o := rt.vm.NewObject()
	logf := func(level string) func(goja.FunctionCall) goja.Value {
		return func(c goja.FunctionCall) goja.Value {
			cl := rt.cur
			if cl == nil || cl.truncated {
				return goja.Undefined()
			}
			var sb strings.Builder
			for i, a := range c.Arguments {
				if i > 0 {
					sb.WriteByte(' ')
				}
				rt.formatLog(&sb, a)
				if sb.Len() > rt.e.cfg.MaxConsoleBytes {
					break
				}
			}
			line := sb.String()
			if level != "" {
				line = level + " " + line
			}
			if cl.logBytes+len(line) > rt.e.cfg.MaxConsoleBytes {
				cl.truncated = true
				cl.logs = append(cl.logs, "[console output truncated]")
				return goja.Undefined()
			}
			cl.logBytes += len(line)
			cl.logs = append(cl.logs, line)
			return goja.Undefined()
		}
	}
	_ = o.Set("log", logf(""))
	_ = o.Set("info", logf(""))
	_ = o.Set("debug", logf(""))
	_ = o.Set("warn", logf("WARN"))
	_ = o.Set("error", logf("ERROR"))
	return o
}

func (rt *jsRuntime) formatLog(sb *strings.Builder, v goja.Value) {
	if o, ok := v.(*goja.Object); ok {
		switch o.ClassName() {
		case "Error", "Function", "Date":
			sb.WriteString(v.String())
			return
		}
		if s, err := rt.ejsonString(v); err == nil {
			sb.WriteString(s)
			return
		}
	}
	sb.WriteString(v.String())
}

// ejsonString renders v as relaxed Extended JSON.
func (rt *jsRuntime) ejsonString(v goja.Value) (string, error) {
	return rt.ejsonStringify(v, false)
}

func (rt *jsRuntime) ejsonStringify(v goja.Value, canonical bool) (string, error) {
	x, err := rt.fromJS(v, 0, false)
	if err != nil {
		return "", err
	}
	b, err := bson.MarshalExtJSON(bson.D{{Key: "v", Value: x}}, canonical, false)
	if err != nil {
		return "", err
	}
	s := string(b)
	return s[len(`{"v":`) : len(s)-1], nil
}

func (rt *jsRuntime) ejsonObject() *goja.Object {
	vm := rt.vm
	o := vm.NewObject()
	relaxedOpt := func(v goja.Value) bool {
		if ob, ok := v.(*goja.Object); ok {
			if r := ob.Get("relaxed"); r != nil && !goja.IsUndefined(r) {
				return r.ToBoolean()
			}
		}
		return true
	}
	_ = o.Set("stringify", func(c goja.FunctionCall) goja.Value {
		opts, space := c.Argument(3), c.Argument(2)
		if ob, ok := c.Argument(1).(*goja.Object); ok && ob.ClassName() != "Function" && goja.IsUndefined(space) {
			opts = ob
		}
		s, err := rt.ejsonStringify(c.Argument(0), !relaxedOpt(opts))
		if err != nil {
			rt.throw(err)
		}
		if n := space.ToInteger(); n > 0 || isStringValue(space) {
			indent := strings.Repeat(" ", int(min(n, 10)))
			if isStringValue(space) {
				indent = space.String()
			}
			var out strings.Builder
			var buf = []byte(s)
			var ind []byte
			if b, err := indentJSON(buf, indent); err == nil {
				ind = b
			}
			out.Write(ind)
			return vm.ToValue(out.String())
		}
		return vm.ToValue(s)
	})
	_ = o.Set("parse", func(c goja.FunctionCall) goja.Value {
		x, err := decodeJSONValue(json.RawMessage(c.Argument(0).String()))
		if err != nil {
			panic(vm.NewGoError(fmt.Errorf("EJSON.parse: %w", err)))
		}
		return rt.toJS(x)
	})
	_ = o.Set("serialize", func(c goja.FunctionCall) goja.Value {
		s, err := rt.ejsonStringify(c.Argument(0), !relaxedOpt(c.Argument(1)))
		if err != nil {
			rt.throw(err)
		}
		var out any
		_ = json.Unmarshal([]byte(s), &out)
		return vm.ToValue(out)
	})
	_ = o.Set("deserialize", func(c goja.FunctionCall) goja.Value {
		b, err := json.Marshal(c.Argument(0).Export())
		if err != nil {
			rt.throw(err)
		}
		x, err := decodeJSONValue(b)
		if err != nil {
			rt.throw(err)
		}
		return rt.toJS(x)
	})
	return o
}

func indentJSON(b []byte, indent string) ([]byte, error) {
	var out strings.Builder
	var v json.RawMessage = b
	r, err := json.MarshalIndent(v, "", indent)
	if err != nil {
		return nil, err
	}
	out.Write(r)
	return []byte(out.String()), nil
}

func must(f goja.Callable, ok bool) goja.Callable {
	if !ok {
		panic("functions: prelude: not a function")
	}
	return f
}
