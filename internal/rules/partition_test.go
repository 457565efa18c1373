package rules

import (
	"context"
	"testing"
)

// §3.2 item 4 and the W-31 exception: in a partition-sync app the partition
// permissions govern CRUD, and the collection roles are ignored.
func TestPartitionCRUD(t *testing.T) {
	ctx := context.Background()
	// The realm-java style role that grants no read or write.
	s := roles(t, `[{"name":"r","apply_when":{},"insert":true,"delete":true,"additional_fields":{}}]`)

	// Seed 002: empty read and write rules let everyone do everything.
	open, err := LoadPartition("sync/config.json", []byte(`{"read":{},"write":{}}`))
	if err != nil {
		t.Fatal(err)
	}
	s.Partition = &PartitionCRUD{Key: "_partition", Permissions: open}
	v := view(t, s, user("u1"))
	d := ej(t, `{"_id":1,"_partition":"project=abc","name":"task"}`)
	if got, _ := readAs(t, v, d); got != canon(t, d) {
		t.Fatalf("read %s", got)
	}
	wantErr(t, "insert", v.CheckInsert(ctx, d), nil)
	wantErr(t, "update", update(t, v, d, `{"$set":{"name":"x"}}`), nil)
	wantErr(t, "delete", v.CheckDelete(ctx, d), nil)
	if got := canon(t, v.PushDown(ej(t, `{"a":1}`))); got != `{"a":1}` {
		t.Errorf("pushed down %s", got)
	}
	// Namespaces without rules are governed too.
	if _, err := s.View(ctx, "db.other", user("u1"), RequestContext{}); err != nil {
		t.Errorf("other namespace: %v", err)
	}

	// W-56 per document: the partition is the document's partition key.
	own, err := LoadPartition("sync/config.json", []byte(`{"read":{"%%partition":"%%user.id"},"write":{"%%partition":"%%user.id"}}`))
	if err != nil {
		t.Fatal(err)
	}
	s.Partition = &PartitionCRUD{Key: "_partition", Permissions: own}
	v = view(t, s, user("u1"))
	mine, theirs, none := ej(t, `{"_id":1,"_partition":"u1"}`), ej(t, `{"_id":2,"_partition":"u2"}`), ej(t, `{"_id":3}`)
	if got, _ := readAs(t, v, mine); got == "null" {
		t.Error("own partition withheld")
	}
	for _, d := range []string{canon(t, theirs), canon(t, none)} {
		if got, _ := readAs(t, v, ej(t, d)); got != "null" {
			t.Errorf("%s readable", d)
		}
	}
	wantErr(t, "insert theirs", v.CheckInsert(ctx, theirs), ErrInsertNotPermitted)
	wantErr(t, "update theirs", update(t, v, theirs, `{"$set":{"x":1}}`), ErrNotVisible)
	wantErr(t, "move to theirs", update(t, v, mine, `{"$set":{"_partition":"u2"}}`), ErrUpdateNotPermitted)
	wantErr(t, "delete mine", v.CheckDelete(ctx, mine), nil)
	if ex := Explain(ctx, v, theirs); ex.Level != Withhold || ex.Role != "partition permissions" {
		t.Errorf("%+v", ex)
	}
	if !v.CanWrite(ctx, mine) || v.CanWrite(ctx, theirs) {
		t.Error("CanWrite")
	}
}
