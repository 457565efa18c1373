package rules

import (
	"context"
	"errors"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/mql"
)

// ej parses relaxed Extended JSON into a document, failing the test on error.
func ej(t testing.TB, s string) bson.D {
	t.Helper()
	var d bson.D
	if err := bson.UnmarshalExtJSON([]byte(s), false, &d); err != nil {
		t.Fatalf("bad test JSON %s: %v", s, err)
	}
	return d
}

// set builds a Set with one namespace "db.c" from a rules.json text.
func set(t testing.TB, rulesJSON string) *Set {
	t.Helper()
	s := NewSet(DefaultOptions())
	if rulesJSON != "" {
		rs, err := LoadRules("db/c/rules.json", []byte(rulesJSON))
		if err != nil {
			t.Fatalf("load: %v", err)
		}
		s.Collections["db.c"] = rs
	}
	return s
}

// roles builds a Set from a JSON array of roles.
func roles(t testing.TB, rolesJSON string) *Set {
	t.Helper()
	return set(t, `{"roles":`+rolesJSON+`}`)
}

func user(id string) Caller { return Caller{ID: id, Type: "normal"} }

func view(t testing.TB, s *Set, c Caller) *View {
	t.Helper()
	v, err := s.View(context.Background(), "db.c", c, RequestContext{})
	if err != nil {
		t.Fatalf("view: %v", err)
	}
	return v
}

func canon(t testing.TB, d bson.D) string {
	t.Helper()
	if d == nil {
		return "null"
	}
	b, err := bson.MarshalExtJSON(d, false, false)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func wantErr(t *testing.T, what string, got, want error) {
	t.Helper()
	if want == nil {
		if got != nil {
			t.Errorf("%s: got %v, want success", what, got)
		}
		return
	}
	if !errors.Is(got, want) {
		t.Errorf("%s: got %v, want %v", what, got, want)
	}
}

// readAs returns what the caller sees of doc, as JSON ("null" when withheld),
// and the role name.
func readAs(t testing.TB, v *View, doc bson.D) (string, string) {
	t.Helper()
	out, d := v.Read(context.Background(), doc)
	return canon(t, out), v.RoleName(d)
}

// update applies an update document to pre and checks it.
func update(t testing.TB, v *View, pre bson.D, upd string) error {
	t.Helper()
	post := applyUpdate(t, pre, ej(t, upd))
	return v.CheckUpdate(context.Background(), pre, post)
}

func applyUpdate(t testing.TB, pre, upd bson.D) bson.D {
	t.Helper()
	u, err := mql.CompileUpdate(upd, mql.UpdateOptions{})
	if err != nil {
		t.Fatalf("update %v: %v", upd, err)
	}
	post, _, err := u.Apply(mql.DeepCopy(pre).(bson.D), mql.ApplyOptions{Position: -1})
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	return post
}

// upsertDoc builds the document an upsert with no match would insert.
func upsertDoc(filter, upd bson.D) (bson.D, error) {
	seed, err := mql.UpsertSeed(filter)
	if err != nil {
		return nil, err
	}
	u, err := mql.CompileUpdate(upd, mql.UpdateOptions{})
	if err != nil {
		return nil, err
	}
	out, _, err := u.Apply(seed, mql.ApplyOptions{Position: -1, Insert: true})
	return out, err
}
