package dataaccess

import (
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/mql"
)

// FindOne reads the store in growing batches (1, 16, 256, 1,024): a
// readable match behind hundreds of withheld ones is still found, in
// order. Skip counts the documents the store matched, withheld or not,
// as it did when FindOne read every match at once.
func TestFindOneReadsPastWithheldBatches(t *testing.T) {
	f := newFixture(t)
	// vault's ghost role reads nothing, but the roles' pushed-down filter
	// cannot exclude its documents (an earlier role's apply_when is not
	// negated), so the store returns them and the decider withholds them.
	const ghosts = 300
	for i := 0; i < ghosts; i++ {
		f.seed("vault", d("_id", int32(i), "kind", "ghost"))
	}
	f.seed("vault", d("_id", int32(1000), "kind", "plain", "n", "first"), d("_id", int32(1001), "kind", "plain", "n", "second"))
	for i := 0; i < ghosts; i++ {
		f.seed("vault", d("_id", int32(2000+i), "kind", "ghost"))
	}
	c := f.coll(f.bob, "vault")
	cases := []struct {
		name string
		opts FindOptions
		want any // n of the expected document, or nil
	}{
		{"first", FindOptions{}, "first"},
		{"sorted descending", FindOptions{Sort: d("_id", -1)}, "second"},
		{"skip counts store documents", FindOptions{Skip: ghosts + 1}, "second"},
		{"skip past the readable", FindOptions{Skip: ghosts + 2}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := c.FindOne(f.ctx, d("kind", d("$in", bson.A{"ghost", "plain"})), tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if tc.want == nil {
				if got != nil {
					t.Fatalf("got %v, want none", got)
				}
				return
			}
			if got == nil {
				t.Fatalf("got none, want %v", tc.want)
			}
			if n := mql.Get(got, "n"); n != tc.want {
				t.Fatalf("got %v, want n=%v", got, tc.want)
			}
		})
	}
	// Only ghosts match: every batch is read and nothing is returned.
	got, err := c.FindOne(f.ctx, d("kind", "ghost"), FindOptions{})
	if err != nil || got != nil {
		t.Fatalf("ghosts only: %v %v", got, err)
	}
}
