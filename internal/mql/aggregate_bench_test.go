package mql

import (
	"context"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

func benchDocs(n int) []bson.D {
	docs := make([]bson.D, n)
	for i := range docs {
		docs[i] = bson.D{
			{Key: "_id", Value: int32(i)},
			{Key: "k", Value: int32(i % 100)},
			{Key: "v", Value: float64(i) * 1.5},
			{Key: "tags", Value: bson.A{"a", "b", "c"}},
		}
	}
	return docs
}

// BenchmarkPipelineGroup: $addFields + $group with four accumulators over
// 10,000 documents.
func BenchmarkPipelineGroup(b *testing.B) {
	docs := benchDocs(10000)
	p, err := CompilePipeline([]bson.D{
		{{Key: "$addFields", Value: bson.D{{Key: "w", Value: bson.D{{Key: "$multiply", Value: bson.A{"$v", int32(2)}}}}}}},
		{{Key: "$group", Value: bson.D{
			{Key: "_id", Value: "$k"},
			{Key: "n", Value: bson.D{{Key: "$sum", Value: int32(1)}}},
			{Key: "s", Value: bson.D{{Key: "$sum", Value: "$w"}}},
			{Key: "a", Value: bson.D{{Key: "$avg", Value: "$v"}}},
			{Key: "m", Value: bson.D{{Key: "$max", Value: "$v"}}},
		}}},
	})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := p.Run(context.Background(), sliceSeq(docs), nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPipelineUnwindProject: $unwind + $project over 10,000 documents.
func BenchmarkPipelineUnwindProject(b *testing.B) {
	docs := benchDocs(10000)
	p, err := CompilePipeline([]bson.D{
		{{Key: "$unwind", Value: "$tags"}},
		{{Key: "$project", Value: bson.D{{Key: "tags", Value: int32(1)}, {Key: "x", Value: bson.D{{Key: "$concat", Value: bson.A{"$tags", "-"}}}}}}},
	})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := p.Run(context.Background(), sliceSeq(docs), nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkExpressionEval: one arithmetic/conditional expression.
func BenchmarkExpressionEval(b *testing.B) {
	e, err := CompileExpression(bson.D{{Key: "$cond", Value: bson.A{
		bson.D{{Key: "$gt", Value: bson.A{"$v", int32(10)}}},
		bson.D{{Key: "$add", Value: bson.A{"$v", "$k", int32(1)}}},
		bson.D{{Key: "$multiply", Value: bson.A{"$v", 0.5}}},
	}}})
	if err != nil {
		b.Fatal(err)
	}
	doc := benchDocs(20)[19]
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := e.Eval(doc, nil); err != nil {
			b.Fatal(err)
		}
	}
}
