package dataaccess

import (
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/mql"
)

func TestSimplify(t *testing.T) {
	own := d("owner_id", "u1")
	cases := []struct{ in, want bson.D }{
		{d("$and", bson.A{d(), d("$or", bson.A{own, own})}), own},
		{d("$and", bson.A{own, d("$or", bson.A{own, own})}), own},
		{d("$and", bson.A{d("a", 1), d("$or", bson.A{own, d("b", 2)})}), d("a", 1, "$or", bson.A{own, d("b", 2)})},
		{d("$and", bson.A{d("owner_id", "x"), own}), d("owner_id", "x", "$and", bson.A{own})},
		{d("$or", bson.A{d(), own}), d()},
		{d("$nor", bson.A{own}), d("$nor", bson.A{own})},
		{d("$and", bson.A{d("$or", bson.A{d("a", 1), d("b", 1)}), d("$or", bson.A{d("c", 1), d("d", 1)})}),
			d("$or", bson.A{d("a", 1), d("b", 1)}, "$and", bson.A{d("$or", bson.A{d("c", 1), d("d", 1)})})},
	}
	docs := []bson.D{own, d("owner_id", "x"), d("a", 1), d("b", 2, "owner_id", "u1"), d("a", 1, "c", 1), d("b", 1, "d", 1), d()}
	for _, c := range cases {
		got := simplify(norm(c.in))
		if ejson(t, got) != ejson(t, norm(c.want)) {
			t.Errorf("simplify(%s) = %s, want %s", ejson(t, c.in), ejson(t, got), ejson(t, c.want))
		}
		// Same meaning on every probe document.
		fi, err1 := mql.CompileFilter(norm(c.in))
		fo, err2 := mql.CompileFilter(got)
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		for _, doc := range docs {
			if fi.Match(norm(doc)) != fo.Match(norm(doc)) {
				t.Errorf("%s and %s disagree on %s", ejson(t, c.in), ejson(t, got), ejson(t, doc))
			}
		}
	}
}
