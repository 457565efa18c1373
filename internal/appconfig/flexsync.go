package appconfig

import (
	"bytes"
	"encoding/json"
	"strconv"
)

// convertLegacySyncPermissions turns the flexible-sync permissions of
// 2022 (sync `permissions: {rules, defaultRoles}`, camelCase roles with
// read/write expressions) into the unified rules of 2023, as App Services
// did on import: defaultRoles become the data source's default rule, each
// collection's roles its rules.json, `applyWhen` becomes `apply_when`, the
// old read/write expressions become document_filters (a missing one is
// false) and the role grants everything else. The 2022 semantics fell back
// to the default roles when none of a collection's roles applied, so those
// are appended after each collection's own roles. Export then writes the
// unified form.
func (l *loader) convertLegacySyncPermissions() {
	s := l.app.Sync
	if s == nil || s.Type == "partition" || len(s.Permissions) == 0 || kindOf(s.Permissions) != "object" {
		return
	}
	base := ""
	if s.File != "sync/config.json" {
		base = "sync"
	}
	file := s.File
	var perms struct {
		Rules        map[string][]json.RawMessage `json:"rules"`
		DefaultRoles []json.RawMessage            `json:"defaultRoles"`
		Object
	}
	before := l.probs.len()
	decoder{file: file, probs: &l.probs}.decode(s.Permissions, joinPath(base, "permissions"), &perms)
	if l.probs.len() > before {
		return
	}
	if len(perms.Extra) > 0 {
		l.probs.add(file, joinPath(base, "permissions"), "unknown keys in legacy sync permissions; expected rules and defaultRoles")
		return
	}
	ds := l.app.DataSource(s.ServiceName)
	if ds == nil || s.DatabaseName == "" {
		l.probs.add(file, joinPath(base, "permissions"), "legacy sync permissions need service_name and database_name to say where the converted rules go")
		return
	}
	convert := func(roles []json.RawMessage, path string) []json.RawMessage {
		out := make([]json.RawMessage, 0, len(roles))
		for i, r := range roles {
			if c := l.convertLegacyRole(r, file, path+"["+strconv.Itoa(i)+"]"); c != nil {
				out = append(out, c)
			}
		}
		return out
	}
	// All or nothing: rules already written in the unified form win, and
	// then the legacy block is left as it is, with a warning.
	if len(perms.DefaultRoles) > 0 && ds.DefaultRule != nil {
		l.warn(file, joinPath(base, "permissions"), "legacy sync permissions not converted: "+ds.DefaultRule.File+" already exists")
		return
	}
	for _, coll := range sortedKeys(perms.Rules) {
		if c := ds.Collection(s.DatabaseName, coll); c != nil && c.Rules != nil {
			l.warn(file, joinPath(base, "permissions"), "legacy sync permissions not converted: "+c.Rules.File+" already exists")
			return
		}
	}
	defaults := convert(perms.DefaultRoles, joinPath(joinPath(base, "permissions"), "defaultRoles"))
	if len(perms.DefaultRoles) > 0 {
		ds.DefaultRule = &RawFile{File: file, JSON: rulesJSON("", "", defaults)}
	}
	for _, coll := range sortedKeys(perms.Rules) {
		p := joinPath(joinPath(joinPath(base, "permissions"), "rules"), coll)
		roles := append(convert(perms.Rules[coll], p), defaults...)
		rules := &RawFile{File: file, JSON: rulesJSON(s.DatabaseName, coll, roles)}
		if c := ds.Collection(s.DatabaseName, coll); c != nil {
			c.Rules = rules
			continue
		}
		ds.Collections = append(ds.Collections, &Collection{Database: s.DatabaseName, Collection: coll, Rules: rules})
	}
	sortCollections(ds)
	s.Permissions = nil
	s.forget("permissions")
}

// convertLegacyRole converts one 2022 flexible-sync role.
func (l *loader) convertLegacyRole(raw json.RawMessage, file, path string) json.RawMessage {
	d := decoder{file: file, probs: &l.probs}
	pairs, ok := d.pairs(raw, path)
	if !ok {
		return nil
	}
	fields := map[string]json.RawMessage{}
	var extra []pair
	for _, p := range pairs {
		switch p.key {
		case "name", "applyWhen", "read", "write":
			fields[p.key] = compact(p.value)
		default:
			extra = append(extra, p)
		}
	}
	if kindOf(fields["name"]) != "string" {
		l.probs.add(file, joinPath(path, "name"), "missing role name")
		return nil
	}
	orFalse := func(v json.RawMessage) json.RawMessage {
		if len(v) == 0 {
			return json.RawMessage("false")
		}
		return v
	}
	applyWhen := fields["applyWhen"]
	if len(applyWhen) == 0 {
		applyWhen = json.RawMessage("{}")
	}
	var b bytes.Buffer
	b.WriteString(`{"name":`)
	b.Write(fields["name"])
	b.WriteString(`,"apply_when":`)
	b.Write(applyWhen)
	b.WriteString(`,"document_filters":{"read":`)
	b.Write(orFalse(fields["read"]))
	b.WriteString(`,"write":`)
	b.Write(orFalse(fields["write"]))
	b.WriteString(`},"read":true,"write":true,"insert":true,"delete":true,"search":true`)
	for _, p := range extra {
		b.WriteByte(',')
		writeString(&b, p.key)
		b.WriteByte(':')
		b.Write(compact(p.value))
	}
	b.WriteByte('}')
	return b.Bytes()
}

// rulesJSON builds a rules.json (or default_rule.json when db is "").
func rulesJSON(db, coll string, roles []json.RawMessage) json.RawMessage {
	var b bytes.Buffer
	b.WriteByte('{')
	if db != "" {
		b.WriteString(`"database":`)
		writeString(&b, db)
		b.WriteString(`,"collection":`)
		writeString(&b, coll)
		b.WriteByte(',')
	}
	b.WriteString(`"roles":[`)
	for i, r := range roles {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(r)
	}
	b.WriteString(`],"filters":[]}`)
	return b.Bytes()
}
