package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const testApps = "../../internal/appconfig/testdata"

func runApp(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestAppValidateOK(t *testing.T) {
	code, out, errOut := runApp(t, "app", "validate", filepath.Join(testApps, "apps/tasktracker"))
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	for _, want := range []string{`ok: app "tasktracker"`, `app id "tasktracker-qzfxy"`, "realm_config.json layout", "2 functions", "1 trigger,"} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
}

func TestAppValidatePrintsEveryProblem(t *testing.T) {
	dir := filepath.Join(testApps, "invalid/many")
	code, out, errOut := runApp(t, "app", "validate", dir)
	if code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	want, err := os.ReadFile(filepath.Join(testApps, "invalid/many.problems"))
	if err != nil {
		t.Fatal(err)
	}
	if out != string(want) {
		t.Errorf("stdout:\n%s\nwant:\n%s", out, want)
	}
	n := strings.Count(string(want), "\n")
	if !strings.Contains(errOut, dir) || !strings.Contains(errOut, strconv.Itoa(n)+" problems") {
		t.Errorf("stderr = %q, want the directory and %d problems", errOut, n)
	}
}

func TestAppValidateFlagsAfterDirAndSecrets(t *testing.T) {
	secrets := filepath.Join(t.TempDir(), "secrets.json")
	if err := os.WriteFile(secrets, []byte(`{"jwt-secret":"x","jwt-secret-old":"y","secret_password":"z","data-api-secret":"w"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("ATOLL_SECRET_APP_SECRET_TWILIO_AUTH_TOKEN", "token")
	code, out, errOut := runApp(t, "app", "validate", filepath.Join(testApps, "apps/environments"),
		"--environment", "production", "--app-id", "shop-override", "--secrets", secrets)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if strings.Contains(out, "is not supplied") {
		t.Errorf("all secrets were supplied, got:\n%s", out)
	}
	if !strings.Contains(out, `app id "shop-override"`) {
		t.Errorf("--app-id ignored:\n%s", out)
	}
}

func TestAppValidateMissingSecretWarns(t *testing.T) {
	code, out, _ := runApp(t, "app", "validate", filepath.Join(testApps, "apps/stitch"))
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	if !strings.Contains(out, `warning: secret "jwt-public-key" is not supplied (set ATOLL_SECRET_jwt_public_key`) {
		t.Errorf("no missing-secret warning:\n%s", out)
	}
}

func TestAppExport(t *testing.T) {
	out := filepath.Join(t.TempDir(), "export")
	code, stdout, stderr := runApp(t, "app", "export", "--app", filepath.Join(testApps, "apps/stitch"), "--out", out)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "exported app \"test-app\"") {
		t.Errorf("stdout = %q", stdout)
	}
	// The export is the golden export, file for file.
	golden := filepath.Join(testApps, "export/stitch")
	err := filepath.WalkDir(golden, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(golden, p)
		want, _ := os.ReadFile(p)
		got, err := os.ReadFile(filepath.Join(out, rel))
		if err != nil {
			t.Errorf("missing %s: %v", rel, err)
		} else if !bytes.Equal(got, want) {
			t.Errorf("%s differs from the golden export", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The export validates cleanly as a current-layout app.
	code, stdout, _ = runApp(t, "app", "validate", out)
	if code != 0 || !strings.Contains(stdout, "root_config.json layout") {
		t.Errorf("re-validate: exit %d\n%s", code, stdout)
	}
	// A second export into the same, now non-empty, directory is refused.
	code, _, stderr = runApp(t, "app", "export", "--app", filepath.Join(testApps, "apps/stitch"), "--out", out)
	if code != 1 || !strings.Contains(stderr, "not empty") {
		t.Errorf("export into a non-empty dir: exit %d, stderr %q", code, stderr)
	}
}

func TestAppExportInvalid(t *testing.T) {
	out := filepath.Join(t.TempDir(), "export")
	code, stdout, _ := runApp(t, "app", "export", "--app", filepath.Join(testApps, "invalid/collection-folders"), "--out", out)
	if code != 1 || !strings.Contains(stdout, "a collection folder must contain rules.json") {
		t.Errorf("exit %d\n%s", code, stdout)
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("an invalid app was written")
	}
}

func TestAppUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"app"}, 2, "atoll app validate"},
		{[]string{"app", "frobnicate"}, 2, `unknown command "frobnicate"`},
		{[]string{"app", "validate"}, 2, "missing app directory"},
		{[]string{"app", "validate", "a", "b"}, 2, "expected one app directory"},
		{[]string{"app", "export", "--app", "x"}, 2, "--app and --out are required"},
		{[]string{"app", "export", "--app", "x", "--out", "y", "z"}, 2, `unexpected argument "z"`},
		{[]string{"app", "validate", "--nope", "x"}, 2, "flag provided but not defined"},
		{[]string{"app", "validate", "/nonexistent/app/dir"}, 1, "1 problem"},
	} {
		code, _, stderr := runApp(t, tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("%q: exit %d, stderr %q; want exit %d and %q", tc.args, code, stderr, tc.code, tc.want)
		}
	}
	code, stdout, _ := runApp(t, "help")
	if code != 0 || !strings.Contains(stdout, "atoll app ...") {
		t.Errorf("usage lacks the app command:\n%s", stdout)
	}
}

// writeTree writes files (path → content) under a new temporary directory.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for p, c := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestAppValidateRefusesFunctionCycles(t *testing.T) {
	files := map[string]string{
		"root_config.json":                       `{"app_id":"cyc-abcde","name":"cyc"}`,
		"data_sources/mongodb-atlas/config.json": `{"name":"mongodb-atlas","type":"mongodb-atlas","config":{"clusterName":"c"}}`,
		"data_sources/mongodb-atlas/db/notes/rules.json": `{"database":"db","collection":"notes","roles":[{"name":"r",
			"apply_when":{"%%true":{"%function":{"name":"isOwner","arguments":["%%root.owner_id"]}}},"read":true}]}`,
		"functions/config.json": `[{"name":"isOwner","can_evaluate":{"%%true":{"%function":{"name":"isOwner"}}}}]`,
		"functions/isOwner.js":  `exports = function(id){ return id === context.user.id }`,
	}
	code, out, errOut := runApp(t, "app", "validate", writeTree(t, files))
	if code != 1 || !strings.Contains(errOut, "functions/config.json") || !strings.Contains(errOut, "isOwner → isOwner") {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	files["functions/config.json"] = `[{"name":"isOwner","private":true}]`
	if code, out, errOut := runApp(t, "app", "validate", writeTree(t, files)); code != 0 {
		t.Fatalf("acyclic: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
}

// validate compiles function sources as serve does: a syntax error is a
// problem naming the source file and line.
func TestAppValidateRefusesFunctionSyntaxErrors(t *testing.T) {
	files := map[string]string{
		"root_config.json":      `{"app_id":"syn-abcde","name":"syn"}`,
		"functions/config.json": `[{"name":"broken"}]`,
		"functions/broken.js":   "exports = function(a) {\n  return a +;\n};\n",
	}
	code, out, errOut := runApp(t, "app", "validate", writeTree(t, files))
	if code != 1 || !strings.Contains(errOut, "broken.js") || !strings.Contains(errOut, "Line 2") {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	files["functions/broken.js"] = "exports = function(a) {\n  return a + 1;\n};\n"
	if code, out, errOut := runApp(t, "app", "validate", writeTree(t, files)); code != 0 {
		t.Fatalf("fixed: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
}

// validate names what an app configures that Atoll does not serve yet.
func TestAppValidateNotesUnservedFeatures(t *testing.T) {
	code, out, errOut := runApp(t, "app", "validate", testApps+"/apps/everything")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"note: Device Sync is enabled", "note: GraphQL is not served yet", "note: HTTPS endpoints are not served yet (1 enabled)", "note: static hosting", "note: log forwarders"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	code, out, _ = runApp(t, "app", "validate", "../../examples/task-tracker")
	if code != 0 || strings.Contains(out, "note:") {
		t.Errorf("task tracker (sync disabled, nothing unserved): exit %d\n%s", code, out)
	}
}
