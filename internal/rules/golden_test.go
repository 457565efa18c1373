package rules

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

var updateGolden = flag.Bool("update", false, "rewrite golden files")

// Golden files: testdata/golden/*.txt hold sections "-- rules --" (a
// rules.json), "-- caller --" ({id, type, data, custom_data}), optional
// "-- client --" (the client's filter) and "-- want --": the compiled
// pushed-down read filter, write-selector filter and projection. Run with
// -update to rewrite the want sections after a deliberate change.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/golden/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			sec := sections(string(raw))
			s := set(t, sec["rules"])
			var c struct {
				ID         string `bson:"id"`
				Type       string `bson:"type"`
				Data       bson.D `bson:"data"`
				CustomData bson.D `bson:"custom_data"`
			}
			if err := bson.UnmarshalExtJSON([]byte(sec["caller"]), false, &c); err != nil {
				t.Fatalf("caller: %v", err)
			}
			client := bson.D{}
			if strings.TrimSpace(sec["client"]) != "" {
				client = ej(t, sec["client"])
			}
			var got string
			v, err := s.View(context.Background(), "db.c", Caller{ID: c.ID, Type: c.Type, Data: c.Data, CustomData: c.CustomData}, RequestContext{})
			if err != nil {
				got = "error: " + err.Error() + "\n"
			} else {
				got = "read: " + canon(t, v.PushDown(client)) + "\n" +
					"write: " + canon(t, v.PushDownWrite(client)) + "\n" +
					"projection: " + canon(t, v.Projection()) + "\n"
			}
			if *updateGolden {
				i := strings.Index(string(raw), "-- want --")
				if i < 0 {
					i = len(raw)
				}
				out := strings.TrimRight(string(raw[:i]), "\n") + "\n-- want --\n" + got
				if err := os.WriteFile(file, []byte(out), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if want := sec["want"]; got != want {
				t.Errorf("got:\n%swant:\n%s", got, want)
			}
		})
	}
}

func sections(s string) map[string]string {
	out := map[string]string{}
	name := ""
	for _, line := range strings.SplitAfter(s, "\n") {
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, "-- ") && strings.HasSuffix(t, " --") {
			name = strings.TrimSuffix(strings.TrimPrefix(t, "-- "), " --")
			continue
		}
		if name != "" {
			out[name] += line
		}
	}
	return out
}
