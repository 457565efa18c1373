package dataaccess

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/appconfig"
	"github.com/atollhq/atoll/internal/expr"
	"github.com/atollhq/atoll/internal/jsonschema"
	"github.com/atollhq/atoll/internal/rules"
	"github.com/atollhq/atoll/internal/store"
)

// snapshot is one compiled config version: immutable once built.
type snapshot struct {
	services    map[string]*service
	order       []string
	values      map[string]any
	environment expr.Environment
}

// service is one data source: its rules and the schemas of its collections.
type service struct {
	name    string
	rules   *rules.Set
	schemas map[string]*jsonschema.Schema // by "<db>.<coll>"
}

// compile builds a snapshot from app. Every rule and schema file is
// compiled here, so a broken one fails the deploy with its file name.
func compile(app *appconfig.App, opts Options) (*snapshot, error) {
	ropts := rules.DefaultOptions()
	if opts.Rules != nil {
		ropts = *opts.Rules
	}
	s := &snapshot{services: map[string]*service{}}
	for _, ds := range app.DataSources {
		svc := &service{name: ds.Name, rules: rules.NewSet(ropts), schemas: map[string]*jsonschema.Schema{}}
		if ds.DefaultRule != nil {
			rs, err := rules.LoadRules(ds.DefaultRule.File, ds.DefaultRule.JSON)
			if err != nil {
				return nil, fmt.Errorf("dataaccess: %w", err)
			}
			svc.rules.Default = rs
		}
		for _, c := range ds.Collections {
			ns := c.Namespace()
			if c.Rules != nil {
				rs, err := rules.LoadRules(c.Rules.File, c.Rules.JSON)
				if err != nil {
					return nil, fmt.Errorf("dataaccess: %w", err)
				}
				svc.rules.Collections[ns] = rs
			}
			if c.Schema != nil && len(c.Schema.JSON) > 0 {
				sc, err := jsonschema.Compile(c.Schema.JSON, opts.Schema)
				if err != nil {
					return nil, fmt.Errorf("dataaccess: %s: %w", c.Schema.File, err)
				}
				svc.schemas[ns] = sc
			}
		}
		if sc := app.Sync; sc != nil && sc.Type == "partition" && sc.ServiceName == ds.Name &&
			sc.Partition != nil && len(sc.Partition.Permissions) > 0 && sc.State != "disabled" {
			// Partition sync permissions govern CRUD on the synced
			// cluster (§3.2 item 4).
			p, err := rules.LoadPartition(sc.File, sc.Partition.Permissions)
			if err != nil {
				return nil, fmt.Errorf("dataaccess: %w", err)
			}
			svc.rules.Partition = &rules.PartitionCRUD{Key: sc.Partition.Key, Permissions: p}
		}
		s.services[ds.Name] = svc
		s.order = append(s.order, ds.Name)
	}
	if err := checkFunctions(app, s); err != nil {
		return nil, err
	}
	s.values = map[string]any{}
	for _, v := range app.Values {
		raw, ok := app.Value(v.Name)
		if !ok {
			continue
		}
		val, err := decodeJSONValue(raw)
		if err != nil {
			return nil, fmt.Errorf("dataaccess: value %q: %w", v.Name, err)
		}
		s.values[v.Name] = val
	}
	s.environment.Tag = app.EnvironmentTag()
	if env := app.ActiveEnvironment(); env != nil {
		s.environment.Values = map[string]any{}
		for k, raw := range env.Values {
			val, err := decodeJSONValue(raw)
			if err != nil {
				return nil, fmt.Errorf("dataaccess: %s: value %q: %w", env.File, k, err)
			}
			s.environment.Values[k] = val
		}
	}
	return s, nil
}

// functionsFile is where the functions manifest lives in an app directory.
const functionsFile = "functions/config.json"

// checkFunctions refuses, at load, %function calls the configuration can
// already tell are wrong: calls to undeclared functions (in rules and
// can_evaluate) and can_evaluate cycles (see rules.CheckFunctions).
func checkFunctions(app *appconfig.App, s *snapshot) error {
	guards := make([]rules.FunctionGuard, len(app.Functions))
	for i, f := range app.Functions {
		guards[i] = rules.FunctionGuard{Name: f.Name, CanEvaluate: f.CanEvaluate}
	}
	var sets []*rules.Ruleset
	for _, name := range s.order {
		sets = append(sets, s.services[name].rules.Rulesets()...)
	}
	if err := rules.CheckFunctions(functionsFile, guards, sets); err != nil {
		return fmt.Errorf("dataaccess: %w", err)
	}
	return nil
}

// Check compiles app's rules and schemas as New does, without a store:
// what `atoll app validate` reports beyond the app directory's format.
func Check(app *appconfig.App, opts Options) error {
	_, err := compile(app, opts)
	return err
}

// decodeJSONValue decodes any JSON value (EJSON) into mql's value shapes.
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

// collection resolves a namespace and binds the caller's view.
func (a *Access) collection(ctx context.Context, req Request, service, db, coll string) (*Collection, error) {
	s := a.snap.Load()
	svc, ok := s.services[service]
	if !ok {
		return nil, newError(CodeServiceNotFound, http.StatusNotFound, ErrServiceNotFound, "service not found: '%s'", service)
	}
	if err := store.ValidateDatabaseName(db); err != nil {
		return nil, newError(CodeInvalidParameter, http.StatusBadRequest, ErrInvalidNamespace, "%s", err.Error())
	}
	if err := store.ValidateCollectionName(db, coll); err != nil {
		return nil, newError(CodeInvalidParameter, http.StatusBadRequest, ErrInvalidNamespace, "%s", err.Error())
	}
	if db == store.SystemDatabase || db == "admin" || db == "local" || db == "config" {
		// Atoll's own state and MongoDB's internal databases are never
		// application data, not even for system callers (§4.7: no
		// commands against admin).
		return nil, newError(CodeInvalidParameter, http.StatusBadRequest, ErrInvalidNamespace, "database %q is reserved", db)
	}
	c := &Collection{a: a, snap: s, svc: svc, req: req, db: db, name: coll, coll: a.st.Database(db).Collection(coll)}
	ns := c.Namespace()
	v, err := svc.rules.View(ctx, ns, req.Caller, c.requestContext())
	if err != nil {
		return nil, AsError(err)
	}
	c.view = v
	if !req.Caller.System {
		c.schema = svc.schemas[ns]
	}
	return c, nil
}

func (c *Collection) requestContext() rules.RequestContext {
	return rules.RequestContext{Values: c.snap.values, Environment: c.snap.environment, HTTP: c.req.HTTP, Functions: c.req.Functions}
}

// sibling opens another namespace of the same service for the same request
// ($lookup, $unionWith).
func (c *Collection) sibling(ctx context.Context, db, coll string) (*Collection, error) {
	s := c.snap
	if err := store.ValidateCollectionName(db, coll); err != nil {
		return nil, newError(CodeInvalidParameter, http.StatusBadRequest, ErrInvalidNamespace, "%s", err.Error())
	}
	out := &Collection{a: c.a, snap: s, svc: c.svc, req: c.req, db: db, name: coll, coll: c.a.st.Database(db).Collection(coll)}
	v, err := c.svc.rules.View(ctx, out.Namespace(), c.req.Caller, c.requestContext())
	if err != nil {
		return nil, AsError(err)
	}
	out.view = v
	if !c.req.Caller.System {
		out.schema = c.svc.schemas[out.Namespace()]
	}
	return out, nil
}
