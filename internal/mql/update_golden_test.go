package mql

import (
	"bufio"
	"os"
	"path/filepath"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// runUpdGolden runs the cases of a JSON-lines golden file under
// testdata/update. Each line is a canonical Extended JSON document:
//
//	{name, doc, update, arrayFilters?, position?, insert?,
//	 result | error: <code> | modified: false}
//
// modified: false means the update must leave doc as it is.
func runUpdGolden(t *testing.T, file string) {
	f, err := os.Open(filepath.Join("testdata", "update", file))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		c := updEJ(t, sc.Text())
		name, _ := Get(c, "name").(string)
		t.Run(name, func(t *testing.T) {
			doc, _ := Get(c, "doc").(bson.D)
			update, _ := Get(c, "update").(bson.D)
			var opts UpdateOptions
			if fs, ok := Get(c, "arrayFilters").(bson.A); ok {
				for _, f := range fs {
					opts.ArrayFilters = append(opts.ArrayFilters, f.(bson.D))
				}
			}
			apply := ApplyOptions{Position: -1}
			if p, ok := Get(c, "position").(int32); ok {
				apply.Position = int(p)
			}
			apply.Insert, _ = Get(c, "insert").(bool)
			var got bson.D
			var mod bool
			u, err := CompileUpdate(update, opts)
			if err == nil {
				got, mod, err = u.Apply(doc, apply)
			}
			code, _ := Get(c, "error").(int32)
			want := ""
			if r, ok := Get(c, "result").(bson.D); ok {
				want = updShow(r)
			}
			unchanged := Get(c, "modified") == false
			if code == 0 && want == "" && !unchanged {
				t.Fatalf("line %d: no expectation", line)
			}
			checkUpdResult(t, got, mod, err, int(code), want, unchanged, doc)
		})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
}

func TestUpdateGolden(t *testing.T) { runUpdGolden(t, "operators.jsonl") }
