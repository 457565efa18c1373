package rules

import (
	"context"
	"errors"
	"testing"
)

// TestWriteCandidatesAreReadable: a stored document is a candidate for
// an update or a delete exactly when the read decision returns it (§4.5
// pre-image rule); one the caller cannot see is ErrNotVisible (skipped as
// not matching), whatever `delete` or the field writes say, and a
// document shown in part stays a candidate.
func TestWriteCandidatesAreReadable(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name, roles, doc string
		visible          bool
	}{
		{"W-31 with delete true", `[{"name":"r","apply_when":{},"insert":true,"delete":true}]`, `{"_id":1,"x":1}`, false},
		{"read false, delete true", `[{"name":"r","apply_when":{},"read":false,"delete":true}]`, `{"_id":1,"x":1}`, false},
		{"document-dependent read false", `[{"name":"r","apply_when":{},"read":{"open":true},"delete":true}]`, `{"_id":1,"open":false}`, false},
		{"document-dependent read true", `[{"name":"r","apply_when":{},"read":{"open":true},"delete":true}]`, `{"_id":1,"open":true}`, true},
		{"document-dependent write false, no read", `[{"name":"r","apply_when":{},"write":{"owner":"%%user.id"},"delete":true}]`, `{"_id":1,"owner":"v"}`, false},
		{"document-dependent write true, no read", `[{"name":"r","apply_when":{},"write":{"owner":"%%user.id"},"delete":true}]`, `{"_id":1,"owner":"u"}`, true},
		{"field rules showing nothing", `[{"name":"r","apply_when":{},"delete":true,"fields":{"label":{"read":true,"write":true}}}]`, `{"_id":1,"x":1}`, false},
		{"field rules showing a field", `[{"name":"r","apply_when":{},"delete":true,"fields":{"label":{"read":true,"write":true}}}]`, `{"_id":1,"x":1,"label":"l"}`, true},
		{"write-only field", `[{"name":"r","apply_when":{},"delete":true,"fields":{"label":{"write":true}}}]`, `{"_id":1,"label":"l"}`, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := view(t, roles(t, c.roles), user("u"))
			doc := ej(t, c.doc)
			if got := v.Decide(ctx, doc).Level != Withhold; got != c.visible {
				t.Fatalf("read decision returns the document: %v, want %v", got, c.visible)
			}
			tg, err := v.CheckUpdateDoc(ej(t, `{"$set":{"label":"m"}}`), nil)
			if err != nil {
				t.Fatal(err)
			}
			del := v.CheckDelete(ctx, doc)
			before := v.CheckUpdateBefore(ctx, doc, tg)
			upd := update(t, v, doc, `{"$set":{"label":"m"}}`)
			if !c.visible {
				wantErr(t, "delete", del, ErrNotVisible)
				wantErr(t, "update before", before, ErrNotVisible)
				wantErr(t, "update", upd, ErrNotVisible)
				return
			}
			// A visible document is decided by its role: delete is true
			// in every case, so the delete goes through.
			wantErr(t, "delete", del, nil)
			if errors.Is(before, ErrNotVisible) || errors.Is(upd, ErrNotVisible) {
				t.Fatalf("visible document skipped: %v %v", before, upd)
			}
		})
	}
}
