package mql

import (
	"context"
	"sync"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

var fuzzDocs = []bson.D{
	{{Key: "_id", Value: int32(1)}, {Key: "a", Value: bson.A{int32(1), bson.D{{Key: "b", Value: "x"}}}}, {Key: "k", Value: "p"}},
	{{Key: "_id", Value: int32(2)}, {Key: "a", Value: nil}, {Key: "k", Value: 2.5}},
	{{Key: "_id", Value: int32(3)}},
}

// FuzzPipeline checks that compiling and running any pipeline over a few
// documents returns output or an error and never panics.
func FuzzPipeline(f *testing.F) {
	for _, s := range []string{
		`[{"$unwind": {"path": "$a", "includeArrayIndex": "i", "preserveNullAndEmptyArrays": true}}]`,
		`[{"$group": {"_id": "$k", "n": {"$sum": 1}, "p": {"$push": "$$ROOT"}}}]`,
		`[{"$project": {"a.b": 1, "c": {"$concat": ["$k", "!"]}}}]`,
		`[{"$addFields": {"a.c": "$_id"}}, {"$unset": ["a.b"]}]`,
		`[{"$facet": {"x": [{"$count": "n"}], "y": [{"$sample": {"size": 2}}]}}]`,
		`[{"$lookup": {"from": "c", "localField": "a.b", "foreignField": "k", "as": "j"}}]`,
		`[{"$replaceWith": {"$mergeObjects": ["$$ROOT", {"z": 1}]}}, {"$skip": 1}, {"$limit": 1}]`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, stagesJSON string) {
		var d bson.D
		if bson.UnmarshalExtJSON([]byte(`{"p":`+stagesJSON+`}`), false, &d) != nil {
			return
		}
		arr, ok := d[0].Value.(bson.A)
		if !ok {
			return
		}
		stages := make([]bson.D, 0, len(arr))
		for _, s := range arr {
			sd, ok := s.(bson.D)
			if !ok {
				return
			}
			stages = append(stages, sd)
		}
		p, err := CompilePipeline(stages)
		if err != nil {
			return
		}
		_, _ = p.Run(context.Background(), sliceSeq(fuzzDocs), testEnv(map[string][]bson.D{"c": fuzzDocs}))
	})
}

// TestPipelineConcurrent runs one compiled pipeline from several
// goroutines (meaningful under -race).
func TestPipelineConcurrent(t *testing.T) {
	p := mustPipeline(t, `[{"$unwind": "$a"}, {"$group": {"_id": "$a", "n": {"$sum": 1}}}, {"$lookup": {"from": "c", "localField": "_id", "foreignField": "_id", "as": "j"}}, {"$facet": {"c": [{"$count": "n"}]}}]`)
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 50; j++ {
				out, err := p.Run(context.Background(), sliceSeq(fuzzDocs), testEnv(map[string][]bson.D{"c": fuzzDocs}))
				if err != nil || len(out) != 1 {
					t.Errorf("run: %v %v", out, err)
					return
				}
			}
		}()
	}
	wg.Wait()
}
