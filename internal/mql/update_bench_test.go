package mql

import (
	"fmt"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

func BenchmarkUpdateThreeOperators(b *testing.B) {
	doc := bson.D{{Key: "_id", Value: bson.NewObjectID()}}
	for i := 0; i < 17; i++ {
		doc = append(doc, bson.E{Key: fmt.Sprintf("field%02d", i), Value: fmt.Sprintf("value %d", i)})
	}
	doc = append(doc, bson.E{Key: "n", Value: int32(1)}, bson.E{Key: "tags", Value: bson.A{"a", "b"}})
	u, err := CompileUpdate(bson.D{
		{Key: "$set", Value: bson.D{{Key: "a", Value: int32(1)}}},
		{Key: "$inc", Value: bson.D{{Key: "n", Value: int32(1)}}},
		{Key: "$push", Value: bson.D{{Key: "tags", Value: "x"}}},
	}, UpdateOptions{})
	if err != nil {
		b.Fatal(err)
	}
	opts := ApplyOptions{Position: -1}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, _, err := u.Apply(doc, opts); err != nil {
			b.Fatal(err)
		}
	}
}
