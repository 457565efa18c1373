package functions

// Tests for docs/compat.md entries of the functions package that no other
// test held on its own.

import (
	"bytes"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

func compatEngine(t *testing.T, cfg Config, srcs map[string]string, manifest string) *Engine {
	t.Helper()
	return testEngine(t, testApp(t, fnFiles(srcs, manifest)), cfg)
}

// Results are capped (18 MiB by default) with ErrResultTooLarge.
func TestCompatResultSizeCap(t *testing.T) {
	e := compatEngine(t, Config{MaxResultBytes: 1000}, map[string]string{
		"big":   `exports = () => "x".repeat(2000)`,
		"small": `exports = () => "x".repeat(500)`,
	}, `[{"name":"big"},{"name":"small"}]`)
	if _, err := e.Call(tctx(t), ClientCaller(alice(), nil), "big", nil); !errors.Is(err, ErrResultTooLarge) {
		t.Fatalf("big: %v", err)
	}
	if _, err := e.Call(tctx(t), ClientCaller(alice(), nil), "small", nil); err != nil {
		t.Fatalf("small: %v", err)
	}
	if DefaultMaxResultBytes != 18<<20 || DefaultMaxConsoleBytes != 1<<20 {
		t.Fatalf("defaults changed: result %d, console %d", DefaultMaxResultBytes, DefaultMaxConsoleBytes)
	}
}

// Undefined fields in documents are dropped and undefined array items
// become null.
func TestCompatUndefinedInResults(t *testing.T) {
	e := compatEngine(t, Config{}, map[string]string{
		"u": `exports = () => ({a: undefined, b: [undefined, 1], c: 2})`,
	}, `[{"name":"u"}]`)
	got, err := e.Call(tctx(t), ClientCaller(alice(), nil), "u", nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := bson.MarshalExtJSON(bson.D{{Key: "v", Value: got}}, false, false)
	if string(b) != `{"v":{"b":[null,1],"c":2}}` {
		t.Fatalf("got %s", b)
	}
}

// can_evaluate is skipped for server-side system callers (triggers, auth
// runners) and for a nested execute from a system frame; client calls
// are checked.
func TestCompatCanEvaluateSkippedForSystem(t *testing.T) {
	e := compatEngine(t, Config{}, map[string]string{
		"guarded": `exports = () => "in"`,
		"sysCall": `exports = () => context.functions.execute("guarded")`,
	}, `[{"name":"guarded","can_evaluate":{"%%true":false}},{"name":"sysCall","run_as_system":true}]`)
	ctx := tctx(t)
	if _, err := e.Call(ctx, ClientCaller(alice(), nil), "guarded", nil); !errors.Is(err, ErrCanEvaluate) {
		t.Fatalf("client call: %v", err)
	}
	if got, err := e.Call(ctx, SystemCaller(), "guarded", nil); err != nil || got != "in" {
		t.Fatalf("system call: %#v %v", got, err)
	}
	if got, err := e.Call(ctx, ClientCaller(alice(), nil), "sysCall", nil); err != nil || got != "in" {
		t.Fatalf("execute from a system frame: %#v %v", got, err)
	}
}

// Successful calls log to slog at Debug, failures at Warn.
func TestCompatCallLogLevels(t *testing.T) {
	var buf bytes.Buffer
	e := compatEngine(t, Config{Logger: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))},
		map[string]string{"ok": `exports = () => 1`, "bad": `exports = () => { throw new Error("boom") }`},
		`[{"name":"ok"},{"name":"bad"}]`)
	ctx := tctx(t)
	if _, err := e.Call(ctx, ClientCaller(alice(), nil), "ok", nil); err != nil {
		t.Fatal(err)
	}
	if buf.Len() != 0 {
		t.Fatalf("a successful call logged above Debug: %s", buf.String())
	}
	if _, err := e.Call(ctx, ClientCaller(alice(), nil), "bad", nil); err == nil {
		t.Fatal("bad succeeded")
	}
	if out := buf.String(); !strings.Contains(out, "level=WARN") || !strings.Contains(out, "function=bad") {
		t.Fatalf("failure log: %s", out)
	}
}

// utils.crypto.encrypt is AES-GCM with a random 12-byte nonce before the
// ciphertext; sign hashes with SHA-256 and defaults to PSS. Both are
// checked from Go, so the wire format is what the entry says.
func TestCompatCryptoFormats(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	priv := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
	e := compatEngine(t, Config{}, map[string]string{
		"enc":  `exports = () => utils.crypto.encrypt("aes", "plain text", "0123456789abcdef")`,
		"sign": `exports = (priv) => utils.crypto.sign("rsa", "message", priv)`,
	}, `[{"name":"enc"},{"name":"sign"}]`)
	ctx := tctx(t)
	got, err := e.Call(ctx, SystemCaller(), "enc", nil)
	if err != nil {
		t.Fatal(err)
	}
	ct, ok := got.(bson.Binary)
	if !ok || len(ct.Data) != 12+len("plain text")+16 {
		t.Fatalf("ciphertext %#v", got)
	}
	block, _ := aes.NewCipher([]byte("0123456789abcdef"))
	gcm, _ := cipher.NewGCM(block)
	plain, err := gcm.Open(nil, ct.Data[:12], ct.Data[12:], nil)
	if err != nil || string(plain) != "plain text" {
		t.Fatalf("decrypt in Go: %q %v", plain, err)
	}
	got, err = e.Call(ctx, SystemCaller(), "sign", []any{priv})
	if err != nil {
		t.Fatal(err)
	}
	sig, ok := got.(bson.Binary)
	if !ok {
		t.Fatalf("signature %#v", got)
	}
	sum := sha256.Sum256([]byte("message"))
	if err := rsa.VerifyPSS(&key.PublicKey, crypto.SHA256, sum[:], sig.Data, nil); err != nil {
		t.Fatalf("default scheme is not PSS over SHA-256: %v", err)
	}
}

// Calls refused before they run (not found, private) are not in the app
// log.
func TestCompatRefusedCallsNotLogged(t *testing.T) {
	rec := &entries{}
	e := compatEngine(t, Config{AppLog: rec}, map[string]string{"hidden": `exports = () => 1`},
		`[{"name":"hidden","private":true}]`)
	ctx := tctx(t)
	if _, err := e.Call(ctx, ClientCaller(alice(), nil), "hidden", nil); !errors.Is(err, ErrPrivate) {
		t.Fatalf("private: %v", err)
	}
	if _, err := e.Call(ctx, ClientCaller(alice(), nil), "absent", nil); !errors.Is(err, ErrFunctionNotFound) {
		t.Fatalf("absent: %v", err)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.got) != 0 {
		t.Fatalf("refused calls logged: %+v", rec.got)
	}
}

// A %function evaluated by the rules of a function's own data access runs
// on its caller's concurrency slot: with one slot, the nested call still
// runs (were it refused, the role would not apply and the read would
// return nothing).
func TestCompatNestedRuleCallTakesNoSlot(t *testing.T) {
	files := fnFiles(map[string]string{
		"yes":    `exports = () => true`,
		"seed":   `exports = () => context.services.get("mongodb-atlas").db("db").collection("c").insertOne({_id: 1})`,
		"reader": `exports = () => context.services.get("mongodb-atlas").db("db").collection("c").find({}).toArray()`,
	}, `[{"name":"yes","private":true},{"name":"seed","run_as_system":true},{"name":"reader"}]`)
	files["data_sources/mongodb-atlas/db/c/rules.json"] = `{"database":"db","collection":"c","roles":[
		{"name":"r","apply_when":{"%%true":{"%function":{"name":"yes","arguments":[]}}},"read":true,"fields":{"_id":{"read":true}}}]}`
	e := testEngine(t, testApp(t, files), Config{MaxConcurrent: 1})
	ctx := tctx(t)
	if _, err := e.Call(ctx, SystemCaller(), "seed", nil); err != nil {
		t.Fatal(err)
	}
	got, err := e.Call(ctx, ClientCaller(alice(), nil), "reader", nil)
	if arr, ok := got.(bson.A); err != nil || !ok || len(arr) != 1 {
		t.Fatalf("reader: %#v %v", got, err)
	}
}

// Function errors map to App Services' codes and statuses: unknown
// function 404 FunctionNotFound; a throw, a can_evaluate refusal and a
// client call of a private function 400 FunctionExecutionError.
func TestCompatErrorCodesAndStatuses(t *testing.T) {
	e := compatEngine(t, Config{}, map[string]string{
		"boom":    `exports = () => { throw new Error("boom") }`,
		"guarded": `exports = () => 1`,
		"hidden":  `exports = () => 1`,
	}, `[{"name":"boom"},{"name":"guarded","can_evaluate":{"%%true":false}},{"name":"hidden","private":true}]`)
	ctx := tctx(t)
	for _, c := range []struct {
		name   string
		code   string
		status int
	}{
		{"absent", "FunctionNotFound", 404},
		{"boom", "FunctionExecutionError", 400},
		{"guarded", "FunctionExecutionError", 400},
		{"hidden", "FunctionExecutionError", 400},
	} {
		_, err := e.Call(ctx, ClientCaller(alice(), nil), c.name, nil)
		if code, status := Code(err); err == nil || code != c.code || status != c.status {
			t.Errorf("%s: %v → %s %d, want %s %d", c.name, err, code, status, c.code, c.status)
		}
	}
}

// context.user in a run_as_system function called by a user stays the
// caller (the docs say both "the caller" and "empty data"; we keep the
// caller); a value's private flag has no effect on context.values.get.
func TestCompatSystemFunctionSeesCallerAndPrivateValues(t *testing.T) {
	files := fnFiles(map[string]string{
		"who": `exports = () => [context.user.id, context.runningAsSystem(), context.values.get("hidden")]`,
	}, `[{"name":"who","run_as_system":true}]`)
	files["values/hidden.json"] = `{"name":"hidden","value":"v","private":true}`
	e := testEngine(t, testApp(t, files), Config{})
	got, err := e.Call(tctx(t), ClientCaller(alice(), nil), "who", nil)
	a, ok := got.(bson.A)
	if err != nil || !ok || len(a) != 3 || a[0] != "alice" || a[1] != true || a[2] != "v" {
		t.Fatalf("got %#v %v", got, err)
	}
}
