package triggers

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/appconfig"
	"github.com/atollhq/atoll/internal/mql"
)

// Trigger types.
const (
	TypeDatabase       = "DATABASE"
	TypeAuthentication = "AUTHENTICATION"
	TypeScheduled      = "SCHEDULED"
)

// Trigger is one compiled trigger.
type Trigger struct {
	Name     string
	Type     string
	Disabled bool
	// Function is the handler, called as system.
	Function string
	// File is the trigger's file in the app directory, for messages.
	File string

	// AUTHENTICATION: the operations (CREATE, LOGIN, DELETE) and provider
	// types that fire it; no providers means any provider.
	AuthOperations []string
	Providers      []string

	// DATABASE.
	Service    string
	Database   string
	Collection string
	// OperationTypes are change-stream names (insert, update, ...).
	OperationTypes           []string
	Match                    *mql.Filter
	matchDoc                 bson.D
	Project                  *mql.Projection
	FullDocument             bool
	FullDocumentBeforeChange bool
	Unordered                bool
	SkipCatchupEvents        bool
	TolerateResumeErrors     bool
	MaximumThroughput        bool

	// SCHEDULED: Schedule is the parsed Spec (5 fields, UTC).
	Spec     string
	Schedule cron.Schedule
}

// changeStreamOps maps App Services' config operation names to the
// change-stream operationType values events carry.
var changeStreamOps = map[string]string{
	"INSERT": "insert", "UPDATE": "update", "REPLACE": "replace", "DELETE": "delete",
	"CREATE_COLLECTION": "create", "MODIFY_COLLECTION": "modify", "RENAME_COLLECTION": "rename",
	"DROP_COLLECTION": "drop", "SHARD_COLLECTION": "shardCollection", "RESHARD_COLLECTION": "reshardCollection",
	"REFINE_COLLECTION_SHARD_KEY": "refineCollectionShardKey", "CREATE_INDEXES": "createIndexes",
	"DROP_INDEXES": "dropIndexes", "DROP_DATABASE": "dropDatabase",
}

// collectionOps are the only operations a collection-level trigger sees.
var collectionOps = map[string]bool{"INSERT": true, "UPDATE": true, "REPLACE": true, "DELETE": true}

// cronParser is App Services' grammar: five fields, minute first, with
// month and weekday names.
var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow)

// Compile checks and compiles app's triggers. hasFunction reports whether
// a function exists (nil skips the check). Every problem is reported, as
// appconfig.Problems naming file, key and reason.
func Compile(app *appconfig.App, hasFunction func(name string) bool) ([]*Trigger, error) {
	var probs appconfig.Problems
	add := func(file, key, reason string) {
		probs = append(probs, appconfig.Problem{File: file, Path: key, Reason: reason})
	}
	var out []*Trigger
	for _, at := range app.Triggers {
		t, ok := compileOne(at, hasFunction, add)
		if ok {
			out = append(out, t)
		}
	}
	if len(probs) > 0 {
		return nil, probs
	}
	return out, nil
}

func compileOne(at *appconfig.Trigger, hasFunction func(string) bool, add func(file, key, reason string)) (*Trigger, bool) {
	n := 0
	bad := func(key, reason string) { n++; add(at.File, key, reason) }
	t := &Trigger{Name: at.Name, Type: at.Type, Disabled: at.Disabled, File: at.File}
	c := at.Config
	if c == nil {
		c = &appconfig.TriggerConfig{}
	}

	if _, ok := at.EventProcessors["AWS_EVENTBRIDGE"]; ok {
		bad("event_processors.AWS_EVENTBRIDGE", "AWS EventBridge handlers are not supported by Atoll; use a FUNCTION event processor that forwards events")
	}
	if len(at.ErrorHandler) > 0 && string(at.ErrorHandler) != "null" {
		bad("error_handler", "error handlers belong to AWS EventBridge triggers, which Atoll does not support")
	}
	for key := range at.EventProcessors {
		if key != "FUNCTION" && key != "AWS_EVENTBRIDGE" {
			bad("event_processors."+key, "unknown event processor; expected FUNCTION")
		}
	}
	t.Function = at.HandlerFunction()
	switch {
	case t.Function == "":
		bad("event_processors.FUNCTION.config.function_name", "missing handler function")
	case hasFunction != nil && !hasFunction(t.Function):
		bad("event_processors.FUNCTION.config.function_name", "function "+strconv.Quote(t.Function)+" is not defined")
	}

	switch at.Type {
	case TypeAuthentication:
		if len(c.OperationType.Values) == 0 {
			bad("config.operation_type", "missing operation type (CREATE, LOGIN or DELETE)")
		}
		for _, op := range c.OperationType.Values {
			if op != "CREATE" && op != "LOGIN" && op != "DELETE" {
				bad("config.operation_type", "unknown operation type "+strconv.Quote(op)+"; expected CREATE, LOGIN or DELETE")
			}
		}
		t.AuthOperations = append([]string(nil), c.OperationType.Values...)
		t.Providers = append([]string(nil), c.Providers...)
	case TypeDatabase:
		t.Service = c.ServiceName
		if t.Service == "" {
			t.Service = c.ServiceID
		}
		if t.Service == "" {
			bad("config.service_name", "missing data source")
		}
		t.Database, t.Collection = c.Database, c.Collection
		if t.Collection != "" && t.Database == "" {
			bad("config.database", "a collection needs its database")
		}
		if len(c.OperationTypes) == 0 {
			bad("config.operation_types", "at least one operation type is required")
		}
		for i, op := range c.OperationTypes {
			key := "config.operation_types[" + strconv.Itoa(i) + "]"
			cs, ok := changeStreamOps[op]
			switch {
			case !ok:
				bad(key, "unknown operation type "+strconv.Quote(op))
			case t.Collection != "" && !collectionOps[op]:
				bad(key, "operation type "+strconv.Quote(op)+" needs a database- or deployment-level trigger")
			case op == "DROP_DATABASE" && t.Database != "":
				bad(key, "DROP_DATABASE needs a deployment-level trigger")
			default:
				t.OperationTypes = append(t.OperationTypes, cs)
			}
		}
		if d, err := rawDoc(c.Match); err != nil {
			bad("config.match", err.Error())
		} else if len(d) > 0 {
			f, err := mql.CompileFilter(d)
			if err != nil {
				bad("config.match", "match does not compile: "+err.Error())
			}
			t.Match, t.matchDoc = f, d
		}
		if d, err := rawDoc(c.Project); err != nil {
			bad("config.project", err.Error())
		} else if len(d) > 0 {
			p, err := mql.CompileProjection(d)
			switch {
			case err != nil:
				bad("config.project", "project does not compile: "+err.Error())
			case dropsOperationType(p):
				bad("config.project", "project must keep operationType")
			default:
				t.Project = p
			}
		}
		if c.MaximumThroughput && !c.Unordered {
			bad("config.maximum_throughput", "maximum_throughput requires unordered: true")
		}
		t.FullDocument, t.FullDocumentBeforeChange = c.FullDocument, c.FullDocumentBeforeChange
		t.Unordered, t.SkipCatchupEvents = c.Unordered, c.SkipCatchupEvents
		t.TolerateResumeErrors, t.MaximumThroughput = c.TolerateResumeErrors, c.MaximumThroughput
	case TypeScheduled:
		t.Spec = c.Schedule
		t.SkipCatchupEvents = c.SkipCatchupEvents
		if len(strings.Fields(c.Schedule)) != 5 {
			bad("config.schedule", "schedule "+strconv.Quote(c.Schedule)+" must be a five-field CRON expression")
		} else if s, err := cronParser.Parse(c.Schedule); err != nil {
			bad("config.schedule", "schedule "+strconv.Quote(c.Schedule)+": "+err.Error())
		} else {
			// App Services evaluates schedules in UTC, whatever the
			// server's zone.
			if spec, ok := s.(*cron.SpecSchedule); ok {
				spec.Location = time.UTC
			}
			t.Schedule = s
		}
	default:
		bad("type", "unknown trigger type "+strconv.Quote(at.Type)+"; expected DATABASE, AUTHENTICATION or SCHEDULED")
	}
	return t, n == 0
}

// rawDoc decodes a match or project object (Extended JSON).
func rawDoc(raw []byte) (bson.D, error) {
	s := strings.TrimSpace(string(raw))
	if s == "" || s == "null" {
		return nil, nil
	}
	var d bson.D
	if err := bson.UnmarshalExtJSON([]byte(s), false, &d); err != nil {
		return nil, fmt.Errorf("not a JSON object: %v", err)
	}
	return d, nil
}

// dropsOperationType reports whether projecting a change event with p
// would lose operationType, which App Services requires to stay.
func dropsOperationType(p *mql.Projection) bool {
	out, err := p.Apply(bson.D{{Key: "_id", Value: 1}, {Key: "operationType", Value: "insert"}}, -1)
	if err != nil {
		return true
	}
	for _, e := range out {
		if e.Key == "operationType" {
			return false
		}
	}
	return true
}
