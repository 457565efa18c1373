package clientapi_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/store"
)

// ownerFiles is bench.items under an owner rule with a schema.
var ownerFiles = map[string]string{
	"data_sources/mongodb-atlas/bench/items/rules.json": `{"database":"bench","collection":"items","roles":[
		{"name":"owner","apply_when":{"owner_id":"%%user.id"},"insert":true,"delete":true,"read":true,"write":true}]}`,
	"data_sources/mongodb-atlas/bench/items/schema.json": `{"title":"Item","required":["_id","owner_id","n","title"],
		"properties":{"_id":{"bsonType":"objectId"},"owner_id":{"bsonType":"string"},"n":{"bsonType":"long"},"title":{"bsonType":"string"}}}`,
}

// BenchmarkAtlasFind is one find of 20 documents under the owner rule
// (indexed) out of 10,000, through the whole HTTP handler chain in
// process: the per-request server cost without network or a second
// process (bench/clientapi measures those).
func BenchmarkAtlasFind(b *testing.B) {
	e := newEnv(b, envOptions{quiet: true, files: ownerFiles})
	u := e.emailUser("owner@example.com", "password123")
	ctx := context.Background()
	coll := e.st.Database("bench").Collection("items")
	if _, err := coll.CreateIndex(ctx, store.IndexModel{Keys: bson.D{{Key: "owner_id", Value: int32(1)}}}); err != nil {
		b.Fatal(err)
	}
	docs := make([]bson.D, 0, 10000)
	for i := 0; i < 10000; i++ {
		owner := fmt.Sprintf("nobody-%d", i/20)
		if i < 20 {
			owner = u.UserID
		}
		docs = append(docs, bson.D{{Key: "_id", Value: bson.NewObjectID()}, {Key: "owner_id", Value: owner}, {Key: "n", Value: int64(i)}, {Key: "title", Value: "t"}})
	}
	if _, err := coll.InsertMany(ctx, docs, store.InsertManyOptions{}); err != nil {
		b.Fatal(err)
	}
	body := `{"name":"find","service":"mongodb-atlas","arguments":[{"database":"bench","collection":"items","query":{"owner_id":"` + u.UserID + `"},"limit":{"$numberInt":"20"}}]}`
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest("POST", appPath+"/functions/call", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+u.Access)
			rec := httptest.NewRecorder()
			e.handler.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK || strings.Count(rec.Body.String(), `"owner_id"`) != 20 {
				b.Fatalf("find: %d %.200s", rec.Code, rec.Body)
			}
		}
	})
}
