package mql_test

import (
	"fmt"

	"github.com/atollhq/atoll/internal/mql"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func ExampleCompileFilter() {
	var filter, doc bson.D
	_ = bson.UnmarshalExtJSON([]byte(`{"status": "A", "items.qty": {"$gt": 5}}`), false, &filter)
	_ = bson.UnmarshalExtJSON([]byte(`{"status": "A", "items": [{"qty": 1}, {"qty": 9}]}`), false, &doc)

	f, err := mql.CompileFilter(filter)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(f.MatchPosition(doc))

	_, err = mql.CompileFilter(bson.D{{Key: "a", Value: bson.D{{Key: "$size", Value: int32(-1)}}}})
	fmt.Println(err)
	// Output:
	// true 1
	// Failed to parse $size. Expected a non-negative number in: $size: -1
}
