package dataaccess

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/atollhq/atoll/internal/appconfig"
	"github.com/atollhq/atoll/internal/rules"
)

// The %function checks run when the rules are compiled: an undeclared
// function in a rule and a can_evaluate cycle refuse the config with file,
// path and reason.
func TestCompileRefusesFunctionCyclesAndUnknownFunctions(t *testing.T) {
	app := testApp()
	app.DataSources[0].Collections = append(app.DataSources[0].Collections, &appconfig.Collection{
		Database: "tracker", Collection: "notes",
		Rules: raw("tracker/notes/rules.json", `{"database":"tracker","collection":"notes","roles":[{"name":"r",
			"apply_when":{"%%true":{"%function":{"name":"ghost","arguments":["%%root.owner_id"]}}},"read":true}]}`),
	})
	app.Functions = []*appconfig.Function{
		{Name: "a", CanEvaluate: json.RawMessage(`{"%%true":{"%function":{"name":"b","arguments":["%%args.0"]}}}`)},
		{Name: "b", CanEvaluate: json.RawMessage(`{"%%true":{"%function":{"name":"a"}}}`)},
		{Name: "c"},
	}
	err := Check(app, Options{})
	if err == nil {
		t.Fatal("a cycle and an undeclared function were accepted")
	}
	if !errors.Is(err, rules.ErrFunctionCycle) || !errors.Is(err, rules.ErrUnknownFunction) {
		t.Fatalf("want both sentinels: %v", err)
	}
	msg := err.Error()
	for _, want := range []string{"functions/config.json", "a → b → a", "tracker/notes/rules.json", `"ghost"`} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}

	// Declared, acyclic %function calls are fine.
	app.Functions = []*appconfig.Function{
		{Name: "a", CanEvaluate: json.RawMessage(`{"%%true":{"%function":{"name":"c"}}}`)},
		{Name: "ghost"}, {Name: "c"},
	}
	if err := Check(app, Options{}); err != nil {
		t.Fatalf("valid config refused: %v", err)
	}
}
