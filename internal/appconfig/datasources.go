package appconfig

import (
	"encoding/json"
	"errors"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/atollhq/atoll/internal/jsonschema"
)

// dataSourceTypes are the service types that are MongoDB data sources.
var dataSourceTypes = map[string]bool{"mongodb-atlas": true, "mongodb": true, "datalake": true}

func (l *loader) loadDataSources() {
	for _, e := range l.readDir("data_sources") {
		dir := path.Join("data_sources", e.Name())
		if !e.IsDir() {
			l.warn(dir, "", "not a data source folder; ignored")
			continue
		}
		ds := &DataSource{File: path.Join(dir, "config.json")}
		if !l.exists(ds.File) {
			l.probs.add(ds.File, "", "missing data source config")
			continue
		}
		if !l.decodeFile(ds.File, ds) {
			continue
		}
		if ds.Name != e.Name() {
			l.probs.add(ds.File, "name", "data source name "+strconv.Quote(ds.Name)+" does not match its folder "+strconv.Quote(e.Name()))
		}
		l.liftDataSourceSync(ds)
		if name := path.Join(dir, "default_rule.json"); l.exists(name) {
			ds.DefaultRule = l.readRules(name, "", "")
		}
		for _, db := range l.readDir(dir) {
			if !db.IsDir() {
				if n := db.Name(); n != "config.json" && n != "default_rule.json" {
					l.warn(path.Join(dir, n), "", "unexpected file in a data source folder; ignored")
				}
				continue
			}
			dbDir := path.Join(dir, db.Name())
			for _, coll := range l.readDir(dbDir) {
				if !coll.IsDir() {
					l.warn(path.Join(dbDir, coll.Name()), "", "unexpected file in a database folder; ignored")
					continue
				}
				if c := l.loadCollection(path.Join(dbDir, coll.Name()), db.Name(), coll.Name()); c != nil {
					ds.Collections = append(ds.Collections, c)
				}
			}
		}
		l.addDataSource(ds)
	}
}

func (l *loader) addDataSource(ds *DataSource) {
	if l.app.DataSource(ds.Name) != nil {
		l.probs.add(ds.File, "name", "data source "+strconv.Quote(ds.Name)+" is defined twice")
		return
	}
	sortCollections(ds)
	l.app.DataSources = append(l.app.DataSources, ds)
}

func sortCollections(ds *DataSource) {
	sort.SliceStable(ds.Collections, func(i, j int) bool {
		a, b := ds.Collections[i], ds.Collections[j]
		if a.Database != b.Database {
			return a.Database < b.Database
		}
		return a.Collection < b.Collection
	})
}

// liftDataSourceSync moves sync settings that 20200603 exports kept inside
// the data source config to the app's sync config, unless sync/config.json
// exists (which then wins and is read later).
func (l *loader) liftDataSourceSync(ds *DataSource) {
	if ds.Config == nil || l.exists("sync/config.json") {
		return
	}
	for _, key := range []string{"sync", "flexible_sync"} {
		raw, ok := ds.Config.Extra[key]
		if !ok {
			continue
		}
		sc := &SyncConfig{File: ds.File}
		if !(decoder{file: ds.File, probs: &l.probs}).decode(raw, "config."+key, sc) {
			continue
		}
		if sc.Type == "" {
			sc.Type = map[string]string{"sync": "partition", "flexible_sync": "flexible"}[key]
		}
		if sc.ServiceName == "" {
			sc.ServiceName = ds.Name
		}
		if l.app.Sync != nil {
			sc.DevelopmentModeEnabled = sc.DevelopmentModeEnabled || l.app.Sync.DevelopmentModeEnabled
		}
		l.app.Sync = sc
		ds.Config.remove(key)
		return
	}
}

// readRules reads a rules.json or default_rule.json: kept raw, checked to
// be an object whose roles and filters are arrays of named objects.
func (l *loader) readRules(name, db, coll string) *RawFile {
	raw, ok := l.readJSON(name)
	if !ok {
		return nil
	}
	return &RawFile{File: name, JSON: l.checkRules(name, "", raw, db, coll)}
}

// checkRules returns the rules compacted, with `database` and `collection`
// set to the folder names when they disagree: the folder wins, and an
// export should not carry the contradiction forward.
func (l *loader) checkRules(name, base string, raw []byte, db, coll string) json.RawMessage {
	var rule struct {
		Database   *string           `json:"database"`
		Collection *string           `json:"collection"`
		Roles      []json.RawMessage `json:"roles"`
		Filters    []json.RawMessage `json:"filters"`
		Object
	}
	d := decoder{file: name, probs: &l.probs}
	if kindOf(raw) != "object" {
		l.probs.add(name, base, "rules must be an object, got "+describe(raw))
		return compact(raw)
	}
	d.decode(raw, base, &rule)
	if len(rule.keys) == 0 {
		l.probs.add(name, base, "rules must not be an empty object")
		return compact(raw)
	}
	// Stitch's 2017 rules (read/write/valid per field, other_fields) came
	// before roles; their meaning cannot be carried over safely, so they
	// are refused rather than half-enforced.
	if rule.Roles == nil {
		for _, k := range []string{"other_fields", "valid", "read", "write"} {
			if _, ok := rule.Extra[k]; ok {
				l.probs.add(name, joinPath(base, k), "Stitch-era field rules (read/write/valid, other_fields) are not supported; rewrite them as roles")
				return compact(raw)
			}
		}
	}
	fix := map[string]json.RawMessage{}
	if db != "" && rule.Database != nil && *rule.Database != db {
		l.warn(name, joinPath(base, "database"), "says "+strconv.Quote(*rule.Database)+" but the folder says "+strconv.Quote(db)+"; the folder wins")
		fix["database"], _ = json.Marshal(db)
	}
	if coll != "" && rule.Collection != nil && *rule.Collection != coll {
		l.warn(name, joinPath(base, "collection"), "says "+strconv.Quote(*rule.Collection)+" but the folder says "+strconv.Quote(coll)+"; the folder wins")
		fix["collection"], _ = json.Marshal(coll)
	}
	for kind, list := range map[string][]json.RawMessage{"roles": rule.Roles, "filters": rule.Filters} {
		seen := map[string]bool{}
		for i, item := range list {
			p := joinPath(base, kind) + "[" + strconv.Itoa(i) + "]"
			var named struct {
				Name string `json:"name"`
				Object
			}
			if !d.decode(item, p, &named) {
				continue
			}
			if named.Name == "" {
				l.probs.add(name, joinPath(p, "name"), "missing name")
			} else if seen[named.Name] {
				l.probs.add(name, joinPath(p, "name"), strings.TrimSuffix(kind, "s")+" name "+strconv.Quote(named.Name)+" is used twice")
			}
			seen[named.Name] = true
		}
	}
	if len(fix) > 0 {
		return rewriteObject(raw, fix, nil)
	}
	return compact(raw)
}

func (l *loader) loadCollection(dir, db, coll string) *Collection {
	c := &Collection{Database: db, Collection: coll}
	rules, schema, rels := path.Join(dir, "rules.json"), path.Join(dir, "schema.json"), path.Join(dir, "relationships.json")
	hasRules, hasSchema, hasRels := l.exists(rules), l.exists(schema), l.exists(rels)
	if !hasRules && !(hasSchema && hasRels) {
		l.probs.add(dir, "", "a collection folder must contain rules.json, or both schema.json and relationships.json")
	}
	for _, e := range l.readDir(dir) {
		switch e.Name() {
		case "rules.json", "schema.json", "relationships.json":
		default:
			l.warn(path.Join(dir, e.Name()), "", "unexpected entry in a collection folder; ignored")
		}
	}
	if hasRules {
		c.Rules = l.readRules(rules, db, coll)
	}
	if hasSchema {
		c.Schema = l.readSchema(schema, "", nil)
	}
	if hasRels {
		c.RelationshipsFile = rels
		raw, ok := l.readJSON(rels)
		if ok {
			c.Relationships = l.decodeRelationships(rels, "", raw)
		}
	}
	return c
}

// readSchema checks that a schema is a JSON object; raw may be given when
// the schema is embedded in another file.
func (l *loader) readSchema(name, base string, raw []byte) *RawFile {
	if raw == nil {
		var ok bool
		if raw, ok = l.readJSON(name); !ok {
			return nil
		}
	}
	if k := kindOf(raw); k != "object" {
		l.probs.add(name, base, "a schema must be an object, got "+describe(raw))
		return nil
	}
	// Compiling here reports a schema the data-access layer could not
	// enforce (unknown keyword, bad bound, unknown bsonType) at load time,
	// with its path, instead of failing writes later.
	if _, err := jsonschema.Compile(raw, jsonschema.Options{}); err != nil {
		var se *jsonschema.SchemaError
		if errors.As(err, &se) {
			at := base
			if se.Path != "" {
				for _, seg := range strings.Split(se.Path, ".") {
					at = joinPath(at, seg)
				}
			}
			l.probs.add(name, at, se.Reason)
		} else {
			l.probs.add(name, base, err.Error())
		}
	}
	return &RawFile{File: name, JSON: compact(raw)}
}

func (l *loader) decodeRelationships(name, base string, raw []byte) map[string]*Relationship {
	rels := map[string]*Relationship{}
	if kindOf(raw) != "object" {
		l.probs.add(name, base, "relationships must be an object, got "+describe(raw))
		return nil
	}
	decoder{file: name, probs: &l.probs}.decode(raw, base, &rels)
	for _, key := range sortedKeys(rels) {
		r := rels[key]
		if r == nil {
			l.probs.add(name, joinPath(base, key), "expected an object, got null")
			delete(rels, key)
			continue
		}
		// Stitch-era files point at "#/stitch/..."; the rest of Atoll sees
		// one spelling.
		if rest, ok := strings.CutPrefix(r.Ref, "#/stitch/"); ok {
			r.Ref = "#/relationship/" + rest
		}
		if !strings.HasPrefix(r.Ref, "#/relationship/") || strings.Count(r.Ref, "/") != 4 {
			l.probs.add(name, joinPath(joinPath(base, key), "ref"), "ref "+strconv.Quote(r.Ref)+" must look like #/relationship/<data source>/<database>/<collection>")
		}
		if r.ForeignKey == "" {
			l.probs.add(name, joinPath(joinPath(base, key), "foreign_key"), "missing foreign_key")
		}
		if key == "_id" {
			l.probs.add(name, joinPath(base, key), "the source field of a relationship cannot be _id")
		}
	}
	return rels
}

// loadServices reads the services/ folder of v1 and Stitch layouts: MongoDB
// services become data sources; anything else is kept as a legacy service.
func (l *loader) loadServices(root string) {
	for _, e := range l.readDir(root) {
		dir := path.Join(root, e.Name())
		if !e.IsDir() {
			l.warn(dir, "", "not a service folder; ignored")
			continue
		}
		cfg := path.Join(dir, "config.json")
		var peek struct {
			Type string `json:"type"`
		}
		raw, err := fs.ReadFile(l.fsys, cfg)
		if err == nil {
			_ = json.Unmarshal(raw, &peek)
		}
		if !dataSourceTypes[peek.Type] {
			l.loadLegacyService(dir, e.Name())
			continue
		}
		ds := &DataSource{File: cfg}
		if !l.decodeFile(cfg, ds) {
			continue
		}
		l.liftDataSourceSync(ds)
		if name := path.Join(dir, "default_rule.json"); l.exists(name) {
			ds.DefaultRule = l.readRules(name, "", "")
		}
		for _, r := range l.readDir(path.Join(dir, "rules")) {
			name := path.Join(dir, "rules", r.Name())
			if r.IsDir() || !strings.HasSuffix(r.Name(), ".json") {
				l.warn(name, "", "not a rules file; ignored")
				continue
			}
			if c := l.loadV1Rule(name, strings.TrimSuffix(r.Name(), ".json")); c != nil {
				ds.Collections = append(ds.Collections, c)
			}
		}
		l.addDataSource(ds)
	}
}

// loadV1Rule splits a v1 rules file, which embeds the schema and the
// relationships, into the current collection shape. The namespace comes
// from the file name, as the current layout takes it from the folders.
func (l *loader) loadV1Rule(name, ns string) *Collection {
	db, coll, ok := strings.Cut(ns, ".")
	if !ok || db == "" || coll == "" {
		l.probs.add(name, "", "a v1 rules file must be named <database>.<collection>.json")
		return nil
	}
	raw, okRead := l.readJSON(name)
	if !okRead {
		return nil
	}
	d := decoder{file: name, probs: &l.probs}
	pairs, okPairs := d.pairs(raw, "")
	if !okPairs {
		return nil
	}
	c := &Collection{Database: db, Collection: coll}
	drop := map[string]bool{}
	for _, p := range pairs {
		switch p.key {
		case "schema":
			drop[p.key] = true
			if string(compact(p.value)) != "{}" {
				c.Schema = l.readSchema(name, "schema", p.value)
			}
		case "relationships":
			drop[p.key] = true
			if string(compact(p.value)) != "{}" {
				c.Relationships = l.decodeRelationships(name, "relationships", p.value)
				c.RelationshipsFile = name
			}
		}
	}
	if len(pairs) == len(drop) {
		l.probs.add(name, "", "rules must not be an empty object")
		return c
	}
	c.Rules = &RawFile{File: name, JSON: l.checkRules(name, "", rewriteObject(raw, nil, drop), db, coll)}
	return c
}

func (l *loader) loadLegacyService(dir, name string) {
	svc := &LegacyService{Name: name, Dir: dir, Files: map[string][]byte{}}
	_ = fs.WalkDir(l.fsys, dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			l.probs.add(p, "", err.Error())
			return nil
		}
		if e.IsDir() {
			return nil
		}
		b, err := fs.ReadFile(l.fsys, p)
		if err != nil {
			l.probs.add(p, "", err.Error())
			return nil
		}
		if strings.HasSuffix(p, ".json") && !json.Valid(b) {
			l.readJSON(p) // reports where
		}
		svc.Files[strings.TrimPrefix(p, dir+"/")] = b
		return nil
	})
	l.warn(dir, "", "legacy third-party service "+strconv.Quote(name)+" is kept in exports but not run by Atoll")
	l.app.LegacyServices = append(l.app.LegacyServices, svc)
}
