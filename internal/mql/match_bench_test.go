package mql

import (
	"fmt"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

func benchDoc() bson.D {
	doc := make(bson.D, 0, 20)
	for i := 0; i < 17; i++ {
		doc = append(doc, bson.E{Key: fmt.Sprintf("field%02d", i), Value: int32(i)})
	}
	doc = append(doc,
		bson.E{Key: "status", Value: "active"},
		bson.E{Key: "age", Value: int32(42)},
		bson.E{Key: "score", Value: 97.5},
	)
	return doc
}

// BenchmarkMatchThreePredicates is the store's common case: equality and
// ranges on top-level fields of a 20-field document.
func BenchmarkMatchThreePredicates(b *testing.B) {
	f, err := CompileFilter(bson.D{
		{Key: "status", Value: "active"},
		{Key: "age", Value: bson.D{{Key: "$gte", Value: int32(18)}}},
		{Key: "score", Value: bson.D{{Key: "$lt", Value: int64(100)}}},
	})
	if err != nil {
		b.Fatal(err)
	}
	doc := benchDoc()
	if !f.Match(doc) {
		b.Fatal("benchmark filter should match")
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if !f.Match(doc) {
			b.Fatal("no match")
		}
	}
}

// BenchmarkMatchArrayPath measures a dotted path through an array of
// documents.
func BenchmarkMatchArrayPath(b *testing.B) {
	f, err := CompileFilter(bson.D{{Key: "items.sku", Value: "k9"}})
	if err != nil {
		b.Fatal(err)
	}
	items := bson.A{}
	for i := 0; i < 10; i++ {
		items = append(items, bson.D{{Key: "sku", Value: fmt.Sprintf("k%d", i)}, {Key: "qty", Value: int32(i)}})
	}
	doc := bson.D{{Key: "_id", Value: int32(1)}, {Key: "items", Value: items}}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if !f.Match(doc) {
			b.Fatal("no match")
		}
	}
}
