package appconfig

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// testOptions are the options each test app is loaded with; the
// environments app gets secrets the way `atoll serve` passes them.
var testOptions = map[string]Options{
	"environments": {Secrets: map[string]string{
		"jwt-secret":                   "0123456789abcdef0123456789abcdef",
		"APP_SECRET_TWILIO_AUTH_TOKEN": "twilio-token",
		"secret_password":              "Super5ecr3tPa55w0rd",
	}},
}

func appNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	if len(names) == 0 {
		t.Fatalf("no apps under %s", dir)
	}
	return names
}

// readTree reads every file under dir into a map keyed by slash path.
func readTree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = b
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	return out
}

func warningsText(ps Problems) []byte {
	var b bytes.Buffer
	for _, p := range ps {
		b.WriteString(p.String())
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// checkGolden compares got with the golden file, or rewrites it with -update.
func checkGolden(t *testing.T, file string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file:\n--- got\n%s\n--- want\n%s", file, got, want)
	}
}

// TestExportGolden loads each app under testdata/apps and compares what it
// writes with testdata/export/<app>/, and its warnings with
// testdata/export/<app>.warnings.
func TestExportGolden(t *testing.T) {
	for _, name := range appNames(t, "testdata/apps") {
		t.Run(name, func(t *testing.T) {
			app, err := Load(context.Background(), filepath.Join("testdata/apps", name), testOptions[name])
			if err != nil {
				t.Fatalf("load: %v", err)
			}
			got, err := app.Files()
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata/export", name)
			checkGolden(t, golden+".warnings", warningsText(app.Warnings))
			if *update {
				if err := os.RemoveAll(golden); err != nil {
					t.Fatal(err)
				}
				if err := app.Write(context.Background(), golden); err != nil {
					t.Fatal(err)
				}
				return
			}
			want := readTree(t, golden)
			for f, b := range got {
				if w, ok := want[f]; !ok {
					t.Errorf("wrote %s, which the golden export does not have:\n%s", f, b)
				} else if !bytes.Equal(b, w) {
					t.Errorf("%s differs from the golden export:\n--- got\n%s\n--- want\n%s", f, b, w)
				}
			}
			for f := range want {
				if _, ok := got[f]; !ok {
					t.Errorf("did not write %s", f)
				}
			}
		})
	}
}

// TestRoundTrip checks that load → write → load gives the same model, and
// that writing it again gives the same files.
func TestRoundTrip(t *testing.T) {
	for _, name := range appNames(t, "testdata/apps") {
		t.Run(name, func(t *testing.T) {
			first, err := Load(context.Background(), filepath.Join("testdata/apps", name), testOptions[name])
			if err != nil {
				t.Fatalf("load: %v", err)
			}
			dir := filepath.Join(t.TempDir(), "out")
			if err := first.Write(context.Background(), dir); err != nil {
				t.Fatal(err)
			}
			second, err := Load(context.Background(), dir, testOptions[name])
			if err != nil {
				t.Fatalf("reload: %v", err)
			}
			if second.Generation != GenerationCurrent {
				t.Errorf("reloaded generation = %v, want root_config.json", second.Generation)
			}
			if first.AppID != second.AppID {
				t.Errorf("app id changed: %q → %q", first.AppID, second.AppID)
			}
			// An export may only keep warnings the original had (such as
			// legacy sync permissions left unconverted); it adds none.
			had := map[string]bool{}
			for _, w := range first.Warnings {
				had[w.String()] = true
			}
			for _, w := range second.Warnings {
				if !had[w.String()] {
					t.Errorf("new warning after a round trip: %s", w)
				}
			}
			normalize(first)
			normalize(second)
			if !reflect.DeepEqual(first, second) {
				t.Errorf("normalized model changed through a round trip")
				diffModels(t, first, second)
			}
			f1, _ := first.Files()
			f2, _ := second.Files()
			if !reflect.DeepEqual(f1, f2) {
				t.Errorf("writing the reloaded app gives different files")
			}
		})
	}
}

// normalize clears what legitimately differs between an app and its export
// read back: where things were read from, key order, warnings and the root
// file's version fields.
func normalize(a *App) {
	a.Generation = 0
	a.Warnings = nil
	a.Meta = nil
	a.Root.AppID, a.Root.ConfigVersion = "", 0
	clearLocations(reflect.ValueOf(a), true)
}

// clearLocations clears the remembered key order everywhere, and with
// files set the fields that say which file something came from.
func clearLocations(v reflect.Value, files bool) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			clearLocations(v.Elem(), files)
		}
	case reflect.Struct:
		if v.Type() == objectType {
			v.Addr().Interface().(*Object).keys = nil
			return
		}
		for i := 0; i < v.NumField(); i++ {
			f := v.Type().Field(i)
			if !f.IsExported() && !f.Anonymous {
				continue
			}
			switch f.Name {
			case "File", "SourceFile", "RelationshipsFile", "HTTPSEndpointsFile":
				if files {
					v.Field(i).SetString("")
				}
				continue
			}
			clearLocations(v.Field(i), files)
		}
	case reflect.Slice:
		if v.Type() == rawType {
			return
		}
		for i := 0; i < v.Len(); i++ {
			clearLocations(v.Index(i), files)
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			e := v.MapIndex(k)
			if e.Kind() == reflect.Pointer {
				clearLocations(e, files)
			}
		}
	}
}

// diffModels names the top-level App fields that differ, to keep a failure
// readable.
func diffModels(t *testing.T, a, b *App) {
	t.Helper()
	va, vb := reflect.ValueOf(a).Elem(), reflect.ValueOf(b).Elem()
	for i := 0; i < va.NumField(); i++ {
		if !reflect.DeepEqual(va.Field(i).Interface(), vb.Field(i).Interface()) {
			t.Errorf("  field %s differs:\n  %#v\n  %#v", va.Type().Field(i).Name, va.Field(i).Interface(), vb.Field(i).Interface())
		}
	}
}

// TestInvalidGolden loads each broken app under testdata/invalid and
// compares the full problem list with testdata/invalid/<app>.problems.
func TestInvalidGolden(t *testing.T) {
	for _, name := range appNames(t, "testdata/invalid") {
		t.Run(name, func(t *testing.T) {
			_, err := Load(context.Background(), filepath.Join("testdata/invalid", name), Options{})
			var probs Problems
			if !errors.As(err, &probs) {
				t.Fatalf("Load returned %v, want Problems", err)
			}
			checkGolden(t, filepath.Join("testdata/invalid", name+".problems"), []byte(probs.Error()+"\n"))
		})
	}
}

func TestLoadNotAnApp(t *testing.T) {
	_, err := Load(context.Background(), t.TempDir(), Options{})
	if err == nil || !strings.Contains(err.Error(), "not an App Services app directory") {
		t.Fatalf("err = %v", err)
	}
	_, err = Load(context.Background(), filepath.Join(t.TempDir(), "missing"), Options{})
	if err == nil {
		t.Fatal("loading a missing directory succeeded")
	}
}
