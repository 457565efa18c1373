package functions

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

func TestCallLogAndConsole(t *testing.T) {
	var buf bytes.Buffer
	files := fnFiles(map[string]string{
		"chatty": `exports = function(x){ console.log("hello", {n: BSON.Long.fromNumber(5)}); console.error(new Error("bad")); return EJSON.stringify({a: 1}, null, 2) }`,
		"quiet":  `exports = function(x){ return 1 }`,
	}, `[{"name":"chatty"},{"name":"quiet","disable_arg_logs":true}]`)
	e := testEngine(t, testApp(t, files), Config{Logger: slog.New(slog.NewTextHandler(&buf, nil))})
	ctx := tctx(t)
	x, err := e.Run(ctx, ClientCaller(alice(), nil), "chatty", []any{"visible-arg"})
	if err != nil {
		t.Fatal(err)
	}
	if len(x.Logs) != 2 || x.Logs[0] != `hello {"n":5}` || x.Logs[1] != "ERROR Error: bad" {
		t.Errorf("logs: %q", x.Logs)
	}
	if x.Result != "{\n  \"a\": 1\n}" {
		t.Errorf("indented EJSON: %q", x.Result)
	}
	if _, err := e.Call(ctx, ClientCaller(alice(), nil), "quiet", []any{"hidden-arg"}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"function=chatty", "visible-arg", "user_id=alice", "function=quiet", "hello"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "hidden-arg") {
		t.Errorf("disable_arg_logs ignored:\n%s", out)
	}
}
