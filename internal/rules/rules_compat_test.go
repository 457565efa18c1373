package rules

// Tests for docs/compat.md entries of the rules package that no other test
// held on its own.

import (
	"context"
	"errors"
	"testing"
)

// Sync cannot post-filter, so a role whose document filters cannot be
// compiled exactly gets an empty read view rather than a wider one.
func TestCompatSyncInexactFilterReadsNothing(t *testing.T) {
	ctx := context.Background()
	s := roles(t, `[{"name":"own","apply_when":{},"document_filters":{"read":{"owner_id":"%%root.kind"},"write":{"kind":"%%root.owner_id"}},"read":true,"write":true}]`)
	s.Collections["db.Item"] = s.Collections["db.c"]
	sv, err := s.SyncView(ctx, "db.Item", user("u1"), RequestContext{}, []string{"owner_id", "kind"})
	if err != nil {
		t.Fatal(err)
	}
	if got := canon(t, sv.ReadFilter()); got != `{"_id":{"$exists":false}}` {
		t.Fatalf("read filter %s, want one that matches nothing", got)
	}
}

// Under a field rule that has only nested rules, reads apply the nested
// rules to each embedded document of an array, while writes of arrays there
// are denied (the nested rules name fields of one document, not of many).
func TestCompatArraysUnderNestedOnlyFieldRules(t *testing.T) {
	ctx := context.Background()
	v := view(t, roles(t, `[{"name":"r","fields":{"a":{"fields":{"b":{"read":true,"write":true}}}}}]`), user("u"))
	out, _ := v.Read(ctx, ej(t, `{"_id":1,"a":[{"b":1,"c":2},{"b":3,"d":4}]}`))
	if got := canon(t, out); got != `{"a":[{"b":1},{"b":3}]}` {
		t.Errorf("read %s", got)
	}
	if err := v.CheckInsert(ctx, ej(t, `{"a":{"b":1}}`)); err != nil {
		t.Errorf("insert of an embedded document: %v", err)
	}
	if err := v.CheckInsert(ctx, ej(t, `{"a":[{"b":1}]}`)); !errors.Is(err, ErrInsertNotPermitted) {
		t.Errorf("insert of an array: %v", err)
	}
	if err := v.CheckUpdate(ctx, ej(t, `{"_id":1,"a":{"b":1}}`), ej(t, `{"_id":1,"a":{"b":2}}`)); err != nil {
		t.Errorf("update of an embedded document: %v", err)
	}
	if err := v.CheckUpdate(ctx, ej(t, `{"_id":1,"a":[{"b":1}]}`), ej(t, `{"_id":1,"a":[{"b":2}]}`)); !errors.Is(err, ErrUpdateNotPermitted) {
		t.Errorf("update of an array: %v", err)
	}
}

// Outside sync, a document_filters key that is missing counts as true: a
// role with only a read filter may still write (its write permission
// decides), and with only a write filter reads everything its read allows.
func TestCompatMissingDocumentFilterKeyIsTrue(t *testing.T) {
	ctx := context.Background()
	onlyRead := view(t, roles(t, `[{"name":"r","apply_when":{},"document_filters":{"read":{"owner":"%%user.id"}},"read":true,"write":true}]`), user("u1"))
	if err := onlyRead.CheckInsert(ctx, ej(t, `{"owner":"someone-else"}`)); err != nil {
		t.Errorf("insert with no write filter: %v", err)
	}
	onlyWrite := view(t, roles(t, `[{"name":"r","apply_when":{},"document_filters":{"write":{"owner":"%%user.id"}},"read":true,"write":true}]`), user("u1"))
	if out, _ := onlyWrite.Read(ctx, ej(t, `{"_id":1,"owner":"someone-else"}`)); out == nil {
		t.Error("read with no read filter was withheld")
	}
	if err := onlyWrite.CheckInsert(ctx, ej(t, `{"owner":"someone-else"}`)); !errors.Is(err, ErrInsertNotPermitted) {
		t.Errorf("insert outside the write filter: %v", err)
	}
}
