package triggers

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/atollhq/atoll/internal/appconfig"
)

func TestCompileAllTypes(t *testing.T) {
	app := testApp(t, map[string]string{
		"functions/config.json": `[{"name":"h","private":true}]`,
		"functions/h.js":        `exports = () => 1`,
		"triggers/onLogin.json": `{"name":"onLogin","type":"AUTHENTICATION","config":{"operation_type":"LOGIN","providers":["local-userpass"]},"event_processors":{"FUNCTION":{"config":{"function_name":"h"}}}}`,
		"triggers/many.json":    `{"name":"many","type":"AUTHENTICATION","config":{"operation_type":["CREATE","DELETE"],"providers":["anon-user"]},"function_name":"h"}`,
		"triggers/db.json": `{"name":"db","type":"DATABASE","disabled":true,"config":{"service_name":"mongodb-atlas","database":"store","collection":"sales",
			"operation_types":["INSERT","UPDATE","REPLACE","DELETE"],"match":{"fullDocument.flag":true},"project":{"_id":0,"operationType":1,"fullDocument.n":1},
			"full_document":true,"full_document_before_change":true,"unordered":false,"skip_catchup_events":true,"tolerate_resume_errors":true},
			"event_processors":{"FUNCTION":{"config":{"function_name":"h"}}}}`,
		"triggers/dbwide.json": `{"name":"dbwide","type":"DATABASE","config":{"service_name":"mongodb-atlas","database":"store","operation_types":["CREATE_COLLECTION","DROP_COLLECTION"],"unordered":true,"maximum_throughput":true},"event_processors":{"FUNCTION":{"config":{"function_name":"h"}}}}`,
		"triggers/cron.json":   `{"name":"cron","type":"SCHEDULED","config":{"schedule":"*/25 * * JAN,MAR MON-FRI","skip_catchup_events":true},"event_processors":{"FUNCTION":{"config":{"function_name":"h"}}}}`,
	})
	ts, err := Compile(app, func(n string) bool { return n == "h" })
	if err != nil {
		t.Fatal(err)
	}
	by := map[string]*Trigger{}
	for _, tr := range ts {
		by[tr.Name] = tr
		if tr.Function != "h" {
			t.Errorf("%s: function %q", tr.Name, tr.Function)
		}
	}
	if got := by["onLogin"].AuthOperations; len(got) != 1 || got[0] != "LOGIN" || by["onLogin"].Providers[0] != "local-userpass" {
		t.Errorf("onLogin: %+v", by["onLogin"])
	}
	if got := by["many"].AuthOperations; len(got) != 2 || got[1] != "DELETE" {
		t.Errorf("many: %v", got)
	}
	db := by["db"]
	if !db.Disabled || db.Database != "store" || db.Collection != "sales" || db.Match == nil || db.Project == nil ||
		!db.FullDocument || !db.FullDocumentBeforeChange || db.Unordered || !db.SkipCatchupEvents || !db.TolerateResumeErrors ||
		strings.Join(db.OperationTypes, ",") != "insert,update,replace,delete" {
		t.Errorf("db: %+v", db)
	}
	if w := by["dbwide"]; strings.Join(w.OperationTypes, ",") != "create,drop" || !w.Unordered || !w.MaximumThroughput {
		t.Errorf("dbwide: %+v", w)
	}
	c := by["cron"]
	if c.Schedule == nil || !c.SkipCatchupEvents {
		t.Fatalf("cron: %+v", c)
	}
	// Jan 2 2026 is a Friday; the next ticks are :25 and :50, then the
	// next hour at :00; Saturday and Sunday are skipped.
	at := time.Date(2026, 1, 2, 23, 0, 0, 0, time.UTC)
	var got []string
	for i := 0; i < 4; i++ {
		at = c.Schedule.Next(at)
		got = append(got, at.Format("Mon 15:04"))
	}
	if strings.Join(got, ",") != "Fri 23:25,Fri 23:50,Mon 00:00,Mon 00:25" {
		t.Errorf("ticks %v", got)
	}
}

// TestCompileBadInput: each bad trigger fails with its file, key and reason.
func TestCompileBadInput(t *testing.T) {
	fn := func(name string) map[string]*appconfig.EventProcessor {
		return map[string]*appconfig.EventProcessor{"FUNCTION": {Config: &appconfig.ProcessorConfig{FunctionName: name}}}
	}
	db := func(c appconfig.TriggerConfig) *appconfig.Trigger {
		c.ServiceName = "mongodb-atlas"
		if c.OperationTypes == nil {
			c.OperationTypes = []string{"INSERT"}
		}
		return &appconfig.Trigger{Name: "t", Type: "DATABASE", Config: &c, EventProcessors: fn("h")}
	}
	cases := []struct {
		name, key, reason string
		tr                *appconfig.Trigger
	}{
		{"unknown type", "type", "unknown trigger type", &appconfig.Trigger{Name: "t", Type: "WEBHOOK", EventProcessors: fn("h")}},
		{"bad cron value", "config.schedule", "schedule", &appconfig.Trigger{Name: "t", Type: "SCHEDULED", Config: &appconfig.TriggerConfig{Schedule: "61 * * * *"}, EventProcessors: fn("h")}},
		{"six-field cron", "config.schedule", "five-field", &appconfig.Trigger{Name: "t", Type: "SCHEDULED", Config: &appconfig.TriggerConfig{Schedule: "0 * * * * *"}, EventProcessors: fn("h")}},
		{"missing function", "event_processors.FUNCTION.config.function_name", "is not defined", &appconfig.Trigger{Name: "t", Type: "SCHEDULED", Config: &appconfig.TriggerConfig{Schedule: "* * * * *"}, EventProcessors: fn("nope")}},
		{"no handler", "event_processors.FUNCTION.config.function_name", "missing handler", &appconfig.Trigger{Name: "t", Type: "SCHEDULED", Config: &appconfig.TriggerConfig{Schedule: "* * * * *"}}},
		{"eventbridge", "event_processors.AWS_EVENTBRIDGE", "AWS EventBridge", &appconfig.Trigger{Name: "t", Type: "DATABASE", Config: &appconfig.TriggerConfig{ServiceName: "mongodb-atlas", OperationTypes: []string{"INSERT"}},
			EventProcessors: map[string]*appconfig.EventProcessor{"AWS_EVENTBRIDGE": {Config: &appconfig.ProcessorConfig{AccountID: "1", Region: "us-east-1"}}}}},
		{"bad match", "config.match", "match does not compile", db(appconfig.TriggerConfig{Database: "d", Collection: "c", Match: json.RawMessage(`{"a":{"$bogus":1}}`)})},
		{"match not json", "config.match", "not a JSON object", db(appconfig.TriggerConfig{Match: json.RawMessage(`[1]`)})},
		{"project drops operationType", "config.project", "operationType", db(appconfig.TriggerConfig{Project: json.RawMessage(`{"operationType":0}`)})},
		{"inclusive project without operationType", "config.project", "operationType", db(appconfig.TriggerConfig{Project: json.RawMessage(`{"fullDocument":1}`)})},
		{"unknown db op", "config.operation_types[0]", "unknown operation type", db(appconfig.TriggerConfig{OperationTypes: []string{"insert"}})},
		{"ddl op on a collection", "config.operation_types[0]", "database- or deployment-level", db(appconfig.TriggerConfig{Database: "d", Collection: "c", OperationTypes: []string{"DROP_COLLECTION"}})},
		{"no ops", "config.operation_types", "at least one", db(appconfig.TriggerConfig{OperationTypes: []string{}})},
		{"max throughput ordered", "config.maximum_throughput", "unordered", db(appconfig.TriggerConfig{MaximumThroughput: true})},
		{"auth op", "config.operation_type", "unknown operation type", &appconfig.Trigger{Name: "t", Type: "AUTHENTICATION", Config: &appconfig.TriggerConfig{OperationType: appconfig.StringList{Values: []string{"LOGOUT"}}}, EventProcessors: fn("h")}},
		{"auth no op", "config.operation_type", "missing operation type", &appconfig.Trigger{Name: "t", Type: "AUTHENTICATION", Config: &appconfig.TriggerConfig{}, EventProcessors: fn("h")}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.tr.File = "triggers/t.json"
			_, err := Compile(&appconfig.App{Triggers: []*appconfig.Trigger{c.tr}}, func(n string) bool { return n == "h" })
			var probs appconfig.Problems
			if !errors.As(err, &probs) {
				t.Fatalf("err = %v", err)
			}
			for _, p := range probs {
				if p.File == "triggers/t.json" && p.Path == c.key && strings.Contains(p.Reason, c.reason) {
					return
				}
			}
			t.Errorf("want %s: ...%s...; got %v", c.key, c.reason, err)
		})
	}
}
