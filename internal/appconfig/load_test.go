package appconfig

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"
)

// app builds an in-memory app directory from path → content.
func app(files map[string]string) fstest.MapFS {
	fsys := fstest.MapFS{}
	for name, content := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(content)}
	}
	return fsys
}

const atlasSource = `{"name":"mongodb-atlas","type":"mongodb-atlas","config":{"clusterName":"Cluster0"}}`

func mustLoad(t *testing.T, fsys fstest.MapFS, opts Options) *App {
	t.Helper()
	a, err := LoadFS(context.Background(), fsys, opts)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	return a
}

func problemsOf(t *testing.T, err error) Problems {
	t.Helper()
	var ps Problems
	if !errors.As(err, &ps) {
		t.Fatalf("err = %v, want Problems", err)
	}
	return ps
}

// W-63: the folder names the namespace; the rules file's own fields are a
// warning, and are corrected.
func TestW63FolderWins(t *testing.T) {
	a := mustLoad(t, app(map[string]string{
		"root_config.json":                                `{"name":"w63"}`,
		"data_sources/mongodb-atlas/config.json":          atlasSource,
		"data_sources/mongodb-atlas/todo/Item/rules.json": `{"database":"todo","collection":"Task","roles":[]}`,
	}), Options{})
	c := a.DataSource("mongodb-atlas").Collection("todo", "Item")
	if c == nil {
		t.Fatal("namespace todo.Item not loaded")
	}
	if got := string(c.Rules.JSON); got != `{"database":"todo","collection":"Item","roles":[]}` {
		t.Errorf("rules = %s", got)
	}
	if len(a.Warnings) != 1 || a.Warnings[0].Path != "collection" || !strings.Contains(a.Warnings[0].Reason, "folder wins") {
		t.Errorf("warnings = %v", a.Warnings)
	}
}

// W-64: schema.json alone is an error; with relationships.json it is a
// namespace with a schema and no roles.
func TestW64SchemaOnly(t *testing.T) {
	files := map[string]string{
		"root_config.json":                                 `{"name":"w64"}`,
		"data_sources/mongodb-atlas/config.json":           atlasSource,
		"data_sources/mongodb-atlas/todo/Item/schema.json": `{"title":"Item"}`,
	}
	_, err := LoadFS(context.Background(), app(files), Options{})
	ps := problemsOf(t, err)
	if len(ps) != 1 || ps[0].File != "data_sources/mongodb-atlas/todo/Item" {
		t.Fatalf("problems = %v", ps)
	}
	files["data_sources/mongodb-atlas/todo/Item/relationships.json"] = `{}`
	a := mustLoad(t, app(files), Options{})
	c := a.DataSource("mongodb-atlas").Collection("todo", "Item")
	if c == nil || c.Rules != nil || c.Schema == nil || c.Schema.File != "data_sources/mongodb-atlas/todo/Item/schema.json" {
		t.Fatalf("collection = %+v", c)
	}
}

// W-65: templates resolve against no-environment.json when the root says
// "", and a template on a boolean field is an error.
func TestW65Templates(t *testing.T) {
	files := map[string]string{
		"root_config.json":                       `{"name":"w65","environment":""}`,
		"environments/no-environment.json":       `{"values":{"clusterName":"dev","flag":"true"}}`,
		"environments/production.json":           `{"values":{"clusterName":"prod"}}`,
		"data_sources/mongodb-atlas/config.json": `{"name":"mongodb-atlas","type":"mongodb-atlas","config":{"clusterName":"%(%%environment.values.clusterName)"}}`,
	}
	a := mustLoad(t, app(files), Options{})
	if got := a.DataSource("mongodb-atlas").Config.ClusterName; got != "dev" {
		t.Errorf("clusterName = %q, want dev", got)
	}
	prod := "production"
	a = mustLoad(t, app(files), Options{Environment: &prod})
	if got := a.DataSource("mongodb-atlas").Config.ClusterName; got != "prod" || a.EnvironmentTag() != "production" {
		t.Errorf("with --environment production: clusterName = %q, tag %q", got, a.EnvironmentTag())
	}
	files["data_sources/mongodb-atlas/config.json"] = `{"name":"mongodb-atlas","type":"mongodb-atlas","config":{"wireProtocolEnabled":"%(%%environment.values.flag)"}}`
	ps := problemsOf(t, func() error { _, err := LoadFS(context.Background(), app(files), Options{}); return err }())
	if len(ps) != 1 || ps[0].Path != "config.wireProtocolEnabled" || !strings.Contains(ps[0].Reason, "expected a boolean") {
		t.Errorf("problems = %v", ps)
	}
}

// W-66: a v1 rules file with an embedded schema and a #/stitch/ ref.
func TestW66V1Rules(t *testing.T) {
	a := mustLoad(t, app(map[string]string{
		"config.json":                        `{"app_id":"todo-abcde","name":"todo","config_version":20200603}`,
		"services/mongodb-atlas/config.json": `{"name":"mongodb-atlas","type":"mongodb-atlas","config":{"clusterName":"Cluster0"}}`,
		"services/mongodb-atlas/rules/todo.Task.json": `{"database":"todo","collection":"Task","roles":[{"name":"r"}],"filters":[],
			"schema":{"title":"Task","properties":{"owner":{"bsonType":"objectId"}}},
			"relationships":{"owner":{"ref":"#/stitch/mongodb-atlas/todo/User","foreign_key":"_id","is_list":false}}}`,
	}), Options{})
	if a.Generation != GenerationRealmV1 || a.AppID != "todo-abcde" {
		t.Errorf("generation %v, app id %q", a.Generation, a.AppID)
	}
	c := a.DataSource("mongodb-atlas").Collection("todo", "Task")
	if c == nil || c.Schema == nil || c.Relationships["owner"] == nil {
		t.Fatalf("collection = %+v", c)
	}
	if got := c.Relationships["owner"].Ref; got != "#/relationship/mongodb-atlas/todo/User" {
		t.Errorf("ref = %q", got)
	}
	if strings.Contains(string(c.Rules.JSON), "schema") || strings.Contains(string(c.Rules.JSON), "relationships") {
		t.Errorf("rules still embed the schema: %s", c.Rules.JSON)
	}
}

func TestGenerationPrecedenceAndAppID(t *testing.T) {
	files := map[string]string{
		"root_config.json":   `{"name":"current"}`,
		"realm_config.json":  `{"name":"v2","app_id":"v2-id"}`,
		"stitch.json":        `{"name":"stitch"}`,
		".mdb/app_meta.json": `{"app_id":"meta-id","group_id":"g"}`,
	}
	a := mustLoad(t, app(files), Options{})
	if a.Generation != GenerationCurrent || a.Name() != "current" || a.AppID != "meta-id" {
		t.Errorf("generation %v, name %q, app id %q", a.Generation, a.Name(), a.AppID)
	}
	if len(a.Warnings) != 2 || a.Warnings[0].File != "realm_config.json" || a.Warnings[1].File != "stitch.json" {
		t.Errorf("warnings = %v", a.Warnings)
	}
	a = mustLoad(t, app(files), Options{AppID: "override"})
	if a.AppID != "override" {
		t.Errorf("override: app id %q", a.AppID)
	}
	delete(files, ".mdb/app_meta.json")
	a = mustLoad(t, app(files), Options{})
	if a.AppID != "current" {
		t.Errorf("no id anywhere: app id %q, want the name", a.AppID)
	}
	delete(files, "root_config.json")
	a = mustLoad(t, app(files), Options{})
	if a.Generation != GenerationRealmV2 || a.AppID != "v2-id" {
		t.Errorf("v2: generation %v, app id %q", a.Generation, a.AppID)
	}
}

func TestSecretsNeverFromDirectory(t *testing.T) {
	files := map[string]string{
		"root_config.json":     `{"name":"s"}`,
		"values/token.json":    `{"name":"token","value":"twilio-token","from_secret":true}`,
		"values/greeting.json": `{"name":"greeting","value":"hi","from_secret":false}`,
		// A v1 secrets file with values in it: the names count, the
		// values never do.
		"secrets.json": `{"twilio-token":"from-the-directory"}`,
	}
	a := mustLoad(t, app(files), Options{})
	if _, ok := a.Value("token"); ok {
		t.Error("secret-backed value resolved without a secret source")
	}
	if got := a.MissingSecrets(); len(got) != 1 || got[0] != "twilio-token" {
		t.Errorf("missing secrets = %v", got)
	}
	if _, err := a.Secret("twilio-token"); !errors.Is(err, ErrNoSecret) {
		t.Errorf("Secret err = %v", err)
	}
	env := SecretsFromEnv([]string{"ATOLL_SECRET_twilio_token=from-env", "PATH=/bin", "ATOLL_SECRET_=x"})
	a = mustLoad(t, app(files), Options{Secrets: env})
	if v, ok := a.Value("token"); !ok || string(v) != `"from-env"` {
		t.Errorf("token = %s, %v", v, ok)
	}
	if v, _ := a.Value("greeting"); string(v) != `"hi"` {
		t.Errorf("greeting = %s", v)
	}
	out, err := a.Files()
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range out {
		if strings.Contains(string(b), "from-env") || strings.Contains(string(b), "from-the-directory") {
			t.Errorf("%s contains a secret value", name)
		}
	}
}

// A custom-token signing key may be a plain value (a public key needs no
// secret): auth reads it from the values, so it is not a missing secret.
func TestSigningKeyFromValue(t *testing.T) {
	files := map[string]string{
		"root_config.json": `{"name":"s"}`,
		"auth/providers.json": `{"custom-token":{"name":"custom-token","type":"custom-token",
			"config":{"signingAlgorithm":"RS256"},"secret_config":{"signingKeys":["pubKey","otherKey"]}}}`,
		"values/pubKey.json": `{"name":"pubKey","value":"-----BEGIN PUBLIC KEY-----","from_secret":false}`,
	}
	a := mustLoad(t, app(files), Options{})
	if got := a.MissingSecrets(); len(got) != 1 || got[0] != "otherKey" {
		t.Errorf("missing secrets = %v, want [otherKey]", got)
	}
	// A secret-backed value of that name needs its own secret instead.
	files["values/pubKey.json"] = `{"name":"pubKey","value":"pub-secret","from_secret":true}`
	a = mustLoad(t, app(files), Options{})
	if got := a.MissingSecrets(); len(got) != 2 || got[0] != "otherKey" || got[1] != "pub-secret" {
		t.Errorf("missing secrets = %v, want [otherKey pub-secret]", got)
	}
}

func TestUnknownKeysSurvive(t *testing.T) {
	a := mustLoad(t, app(map[string]string{
		"root_config.json":      `{"name":"u","zeta":1,"alpha":{"b":[1,2]}}`,
		"triggers/t.json":       `{"name":"t","type":"SCHEDULED","config":{"schedule":"* * * * *","newKnob":"x"},"function_name":"f","extra":true}`,
		"functions/config.json": `[{"name":"f","private":false,"future":{"a":1}}]`,
		"functions/f.js":        `exports = () => 1;`,
	}), Options{})
	files, err := a.Files()
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string][]string{
		"root_config.json":      {`"zeta": 1`, `"alpha": {`},
		"triggers/t.json":       {`"newKnob": "x"`, `"extra": true`, `"function_name": "f"`},
		"functions/config.json": {`"future": {`},
	} {
		for _, w := range want {
			if !strings.Contains(string(files[name]), w) {
				t.Errorf("%s lacks %s:\n%s", name, w, files[name])
			}
		}
	}
	// The legacy top-level handler moved into event_processors.
	if strings.Contains(string(files["triggers/t.json"]), "\n    \"function_name\"") {
		t.Errorf("function_name stayed at the top level:\n%s", files["triggers/t.json"])
	}
	if a.Triggers[0].HandlerFunction() != "f" || a.Triggers[0].FunctionName != "" {
		t.Errorf("handler = %q, top-level = %q", a.Triggers[0].HandlerFunction(), a.Triggers[0].FunctionName)
	}
}

func TestStringList(t *testing.T) {
	for _, in := range []string{`"LOGIN"`, `["LOGIN","CREATE"]`, `[]`} {
		var s StringList
		if err := json.Unmarshal([]byte(in), &s); err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		out, _ := json.Marshal(s)
		if string(out) != in {
			t.Errorf("%s round-trips to %s", in, out)
		}
	}
	var s StringList
	if err := json.Unmarshal([]byte(`5`), &s); err == nil {
		t.Error("a number was accepted")
	}
}

func TestProblemString(t *testing.T) {
	ps := Problems{
		{File: "a.json", Path: "x[0].y", Reason: "bad"},
		{File: "b.json", Reason: "worse"},
		{Reason: "no file"},
	}
	if got, want := ps.Error(), "a.json: x[0].y: bad\nb.json: worse\nno file"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := joinPath("roles[0]", "weird.key"); got != `roles[0]["weird.key"]` {
		t.Errorf("joinPath = %s", got)
	}
}

func TestWriteRefusesUnsafeNames(t *testing.T) {
	a := &App{Root: RootConfig{Name: "x"}, Triggers: []*Trigger{{Name: "../../evil"}}}
	if _, err := a.Files(); err == nil {
		t.Error("a trigger named ../../evil was written")
	}
}

// FuzzLoad feeds arbitrary bytes as each kind of file; loading must never
// panic, and whatever loads without problems must write and load again.
func FuzzLoad(f *testing.F) {
	f.Add("functions/config.json", []byte(`[{"name":"f","private":true}]`))
	f.Add("auth/providers.json", []byte(`{"anon-user":{"name":"anon-user","type":"anon-user"}}`))
	f.Add("triggers/t.json", []byte(`{"name":"t","type":"AUTHENTICATION","config":{"operation_type":["LOGIN"]},"function_name":"f"}`))
	f.Add("data_sources/mongodb-atlas/db/c/rules.json", []byte(`{"roles":[{"name":"a"}],"filters":[]}`))
	f.Add("data_sources/mongodb-atlas/db/c/relationships.json", []byte(`{"x":{"ref":"#/stitch/mongodb-atlas/db/d","foreign_key":"_id"}}`))
	f.Add("root_config.json", []byte(`{"name":"x","environment":"qa","allowed_request_origins":["%(%%environment.values.o)"]}`))
	f.Add("sync/config.json", []byte(`{"type":"partition","partition":{"key":"_p","type":"string"}}`))
	f.Add("values/v.json", []byte(`{"name":"v","value":"%(%%environment.values.a.b)","from_secret":false}`))
	f.Add("services/mongodb-atlas/rules/db.c.json", []byte(`{"roles":[],"schema":{},"relationships":{}}`))
	f.Fuzz(func(t *testing.T, name string, content []byte) {
		// Only names a real directory can hold: MapFS invents odd trees for
		// paths such as "a//b".
		if !strings.HasSuffix(name, ".json") || !fs.ValidPath(name) {
			return
		}
		fsys := app(map[string]string{
			"root_config.json":                       `{"name":"fuzz","environment":"qa"}`,
			"environments/qa.json":                   `{"values":{"o":"http://x","a":{"b":"c"}}}`,
			"data_sources/mongodb-atlas/config.json": atlasSource,
			"functions/config.json":                  `[{"name":"f"}]`,
			"functions/f.js":                         `exports = () => 1;`,
		})
		fsys[name] = &fstest.MapFile{Data: content}
		a, err := LoadFS(context.Background(), fsys, Options{})
		if err != nil {
			return
		}
		files, err := a.Files()
		if err != nil {
			return
		}
		again := fstest.MapFS{}
		for n, b := range files {
			again[n] = &fstest.MapFile{Data: b}
		}
		b, err := LoadFS(context.Background(), again, Options{})
		if err != nil {
			t.Fatalf("export of a valid app does not load: %v", err)
		}
		files2, err := b.Files()
		if err != nil {
			t.Fatal(err)
		}
		for n := range files {
			if string(files[n]) != string(files2[n]) {
				t.Fatalf("%s changed on the second write:\n%s\n---\n%s", n, files[n], files2[n])
			}
		}
	})
}

// Old exports sometimes name a data source or a function only by its cloud
// id; Load resolves those to names.
func TestResolveIDs(t *testing.T) {
	a := mustLoad(t, app(map[string]string{
		"stitch.json":                        `{"name":"ids","custom_user_data_config":{"enabled":true,"mongo_service_id":"s1","database_name":"d","collection_name":"c","user_id_field":"u"}}`,
		"services/mongodb-atlas/config.json": `{"id":"s1","name":"mongodb-atlas","type":"mongodb-atlas","config":{"clusterName":"C"}}`,
		"functions/f/config.json":            `{"id":"f1","name":"f"}`,
		"functions/f/source.js":              `exports = () => 1;`,
		"triggers/t.json":                    `{"name":"t","type":"DATABASE","function_id":"f1","config":{"service_id":"s1","database":"d","collection":"c","operation_types":["INSERT"]}}`,
	}), Options{})
	if got := a.CustomUserData.MongoServiceName; got != "mongodb-atlas" {
		t.Errorf("custom user data service = %q", got)
	}
	tr := a.Triggers[0]
	if tr.HandlerFunction() != "f" || tr.Config.ServiceName != "mongodb-atlas" {
		t.Errorf("trigger handler %q, service %q", tr.HandlerFunction(), tr.Config.ServiceName)
	}
}

func TestLegacySyncPermissionsProblems(t *testing.T) {
	files := map[string]string{
		"root_config.json":                       `{"name":"flx"}`,
		"data_sources/mongodb-atlas/config.json": atlasSource,
		"sync/config.json":                       `{"type":"flexible","service_name":"mongodb-atlas","permissions":{"rules":{"Item":[{"applyWhen":{}}]},"defaultRoles":[]}}`,
	}
	_, err := LoadFS(context.Background(), app(files), Options{})
	ps := problemsOf(t, err)
	if len(ps) != 1 || ps[0].Path != "permissions" || !strings.Contains(ps[0].Reason, "database_name") {
		t.Errorf("problems = %v", ps)
	}
	files["sync/config.json"] = `{"type":"flexible","service_name":"mongodb-atlas","database_name":"db","permissions":{"rules":{"Item":[{"applyWhen":{}}]},"defaultRoles":[{"name":"d","read":true}]}}`
	_, err = LoadFS(context.Background(), app(files), Options{})
	ps = problemsOf(t, err)
	if len(ps) != 1 || ps[0].Path != "permissions.rules.Item[0].name" {
		t.Errorf("problems = %v", ps)
	}
	files["sync/config.json"] = `{"type":"flexible","service_name":"mongodb-atlas","database_name":"db","permissions":{"defaultRoles":[{"name":"d","read":true}]}}`
	a := mustLoad(t, app(files), Options{})
	want := `{"roles":[{"name":"d","apply_when":{},"document_filters":{"read":true,"write":false},"read":true,"write":true,"insert":true,"delete":true,"search":true}],"filters":[]}`
	if got := string(a.DataSource("mongodb-atlas").DefaultRule.JSON); got != want {
		t.Errorf("default rule = %s\nwant %s", got, want)
	}
	if a.Sync.Permissions != nil {
		t.Errorf("legacy permissions kept after conversion: %s", a.Sync.Permissions)
	}
}

func TestLoadHonoursContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Load(ctx, "testdata/apps/everything", Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	a, err := Load(context.Background(), "testdata/apps/everything", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Write(ctx, t.TempDir()); !errors.Is(err, context.Canceled) {
		t.Errorf("Write err = %v, want context.Canceled", err)
	}
}

func TestEndpointsDirectoryNames(t *testing.T) {
	ep := `[{"route":"/a","http_method":"GET","function_name":"f"}]`
	files := map[string]string{
		"realm_config.json":          `{"name":"eps","app_id":"eps-abcde","config_version":20210101}`,
		"functions/config.json":      `[{"name":"f"}]`,
		"functions/f.js":             `exports = () => 1;`,
		"http_endpoints/config.json": ep,
	}
	a := mustLoad(t, app(files), Options{})
	if len(a.HTTPSEndpoints) != 1 || a.HTTPSEndpointsFile != "http_endpoints/config.json" {
		t.Fatalf("endpoints %v from %q", a.HTTPSEndpoints, a.HTTPSEndpointsFile)
	}
	out, err := a.Files()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := out["https_endpoints/config.json"]; !ok {
		t.Error("export did not use https_endpoints/")
	}
	files["https_endpoints/config.json"] = `[]`
	a = mustLoad(t, app(files), Options{})
	if len(a.HTTPSEndpoints) != 0 || len(a.Warnings) != 1 || a.Warnings[0].File != "http_endpoints/config.json" {
		t.Errorf("endpoints %v, warnings %v", a.HTTPSEndpoints, a.Warnings)
	}
}
