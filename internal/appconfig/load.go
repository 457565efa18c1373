package appconfig

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path"
	"strconv"
	"strings"
)

// Options adjust how an app directory is read.
type Options struct {
	// AppID, when set, replaces the app id found in the directory
	// (`atoll serve --app-id`).
	AppID string
	// Environment, when non-nil, replaces the root file's `environment`
	// when choosing the environment file for templates.
	Environment *string
	// Secrets supplies secret values by name (from the environment or a
	// secrets file, never from the app directory).
	Secrets map[string]string
}

// Load reads the app directory dir, whatever its generation. When anything
// is wrong it returns a Problems error listing all of it; the App is still
// returned so callers can show what was understood.
//
// Loading reads only local files, but ctx is checked between the parts of
// the directory so that a caller shutting down is not held up by a huge
// hosting/ folder.
func Load(ctx context.Context, dir string, opts Options) (*App, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, Problems{{File: dir, Reason: err.Error()}}
	}
	if !st.IsDir() {
		return nil, Problems{{File: dir, Reason: "not a directory"}}
	}
	return LoadFS(ctx, os.DirFS(dir), opts)
}

// LoadFS is Load over any file system whose root is the app directory.
func LoadFS(ctx context.Context, fsys fs.FS, opts Options) (*App, error) {
	l := &loader{fsys: fsys, opts: opts, app: &App{}}
	if err := l.load(ctx); err != nil {
		return nil, err
	}
	l.app.Warnings = l.warnings.sorted()
	if l.probs.len() > 0 {
		return l.app, l.probs.sorted()
	}
	return l.app, nil
}

type loader struct {
	fsys     fs.FS
	opts     Options
	app      *App
	probs    problemList
	warnings problemList
	tmpl     templates
}

func (l *loader) warn(file, path, reason string) { l.warnings.add(file, path, reason) }

func (l *loader) exists(name string) bool {
	_, err := fs.Stat(l.fsys, name)
	return err == nil
}

func (l *loader) isDir(name string) bool {
	st, err := fs.Stat(l.fsys, name)
	return err == nil && st.IsDir()
}

// readDir lists a directory, sorted by name; a missing directory is empty.
func (l *loader) readDir(name string) []fs.DirEntry {
	entries, err := fs.ReadDir(l.fsys, name)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			l.probs.add(name, "", err.Error())
		}
		return nil
	}
	return entries
}

// readJSON reads a JSON file, reports a syntax error with its line and
// column, and resolves config templates.
func (l *loader) readJSON(name string) ([]byte, bool) {
	raw, err := fs.ReadFile(l.fsys, name)
	if err != nil {
		l.probs.add(name, "", err.Error())
		return nil, false
	}
	if !json.Valid(raw) {
		var v any
		err := json.Unmarshal(raw, &v)
		reason := "invalid JSON"
		var se *json.SyntaxError
		if errors.As(err, &se) {
			line, col := lineCol(raw, se.Offset)
			reason = "invalid JSON at line " + strconv.Itoa(line) + ", column " + strconv.Itoa(col) + ": " + se.Error()
		} else if err != nil {
			reason = "invalid JSON: " + err.Error()
		}
		l.probs.add(name, "", reason)
		return nil, false
	}
	return l.tmpl.expandFile(raw, name, &l.probs), true
}

func lineCol(b []byte, off int64) (int, int) {
	if off > int64(len(b)) {
		off = int64(len(b))
	}
	line, col := 1, 1
	for _, c := range b[:off] {
		if c == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return line, col
}

// decodeFile reads name into v. It reports whether the file was JSON at
// all: an object with a mistyped key is still loaded (without that key), so
// the checks that follow can report the file's other problems too.
func (l *loader) decodeFile(name string, v any) bool {
	raw, ok := l.readJSON(name)
	if !ok {
		return false
	}
	decoder{file: name, probs: &l.probs}.decode(raw, "", v)
	return true
}

func (l *loader) load(ctx context.Context) error {
	gen := GenerationUnknown
	for _, g := range []Generation{GenerationCurrent, GenerationRealmV2, GenerationRealmV1, GenerationStitch} {
		if l.exists(g.RootFile()) {
			gen = g
			break
		}
	}
	l.app.Generation = gen
	for g := gen - 1; g > GenerationUnknown; g-- {
		if l.exists(g.RootFile()) {
			l.warn(g.RootFile(), "", "ignored: "+gen.RootFile()+" is newer and wins")
		}
	}
	if gen == GenerationUnknown {
		l.probs.add("", "", "not an App Services app directory: no root_config.json, realm_config.json, config.json or stitch.json")
		return nil
	}
	steps := []func(){
		l.loadEnvironments,
		func() { l.loadRoot(gen.RootFile()) },
		l.loadMeta,
		l.loadAuth,
		l.loadDataSources,
		func() { l.loadServices("services") },
		l.loadFunctions,
		l.loadTriggers,
		l.loadValues,
		l.loadGraphQL,
		l.loadEndpoints,
		l.loadSync,
		l.convertLegacySyncPermissions,
		l.loadHosting,
		l.loadLogForwarders,
		l.checkUnknownEntries,
		l.validate,
		l.collectSecrets,
	}
	for _, step := range steps {
		if err := ctx.Err(); err != nil {
			return err
		}
		step()
	}
	return nil
}

// knownTop lists the entries of an app directory that some generation
// defines; anything else is reported and not carried into an export.
var knownTop = map[string]bool{
	"root_config.json": true, "realm_config.json": true, "config.json": true, "stitch.json": true,
	".mdb": true, "auth": true, "auth_providers": true, "data_sources": true, "services": true,
	"environments": true, "functions": true, "graphql": true, "hosting": true,
	"https_endpoints": true, "http_endpoints": true, "log_forwarders": true, "sync": true,
	"triggers": true, "values": true, "secrets.json": true,
	// Not app config, but commonly committed next to it.
	"README.md": true, ".gitignore": true, ".git": true,
	// An example app's client, as Atoll's examples/*/demo/ keep it.
	"demo": true,
}

func (l *loader) checkUnknownEntries() {
	for _, e := range l.readDir(".") {
		if !knownTop[e.Name()] {
			l.warn(e.Name(), "", "not part of an App Services app directory; ignored")
		}
	}
}

func (l *loader) loadEnvironments() {
	l.app.Environments = map[string]*Environment{}
	for _, e := range l.readDir("environments") {
		name := path.Join("environments", e.Name())
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".json") {
			l.warn(name, "", "not an environment file; ignored")
			continue
		}
		tag := strings.TrimSuffix(e.Name(), ".json")
		if tag == "no-environment" {
			tag = ""
		}
		env := &Environment{File: name}
		// Environment files are read before templates are set up, and may
		// not use them.
		raw, err := fs.ReadFile(l.fsys, name)
		if err != nil {
			l.probs.add(name, "", err.Error())
			continue
		}
		if !json.Valid(raw) {
			l.readJSON(name) // reports the syntax error
			continue
		}
		decoder{file: name, probs: &l.probs}.decode(raw, "", env)
		l.app.Environments[tag] = env
	}
}

// environmentFile names the file holding the values of a tag.
func environmentFile(tag string) string {
	if tag == "" {
		return "environments/no-environment.json"
	}
	return "environments/" + tag + ".json"
}

var environmentTags = map[string]bool{"": true, "development": true, "testing": true, "qa": true, "production": true}

func (l *loader) loadRoot(name string) {
	raw, err := fs.ReadFile(l.fsys, name)
	if err != nil {
		l.probs.add(name, "", err.Error())
		return
	}
	// The environment decides how templates resolve, including those in
	// the root file itself, so it is read first.
	var peek struct {
		Environment string `json:"environment"`
	}
	_ = json.Unmarshal(raw, &peek)
	tag := peek.Environment
	if l.opts.Environment != nil {
		tag = *l.opts.Environment
	}
	l.tmpl = templates{tag: tag, envFile: environmentFile(tag)}
	if env := l.app.Environments[tag]; env != nil {
		l.tmpl.values = env.Values
	}
	root := &l.app.Root
	if !l.decodeFile(name, root) {
		return
	}
	if l.opts.Environment != nil {
		root.Environment = *l.opts.Environment
	}
	if !environmentTags[root.Environment] {
		l.probs.add(name, "environment", "unknown environment "+strconv.Quote(root.Environment)+"; expected \"\", development, testing, qa or production")
	}
	if root.Name == "" {
		l.probs.add(name, "name", "missing app name")
	} else if !validName(root.Name, 32) {
		l.probs.add(name, "name", "app name "+strconv.Quote(root.Name)+" must be 1-32 characters of letters, digits, _ and -")
	}
	if l.app.Generation <= GenerationRealmV1 {
		l.liftV1Root(name)
	}
}

// liftV1Root moves the settings v1 and Stitch root files carried inline to
// where the current layout keeps them.
func (l *loader) liftV1Root(name string) {
	root := &l.app.Root
	d := decoder{file: name, probs: &l.probs}
	if raw, ok := root.Extra["security"]; ok {
		var sec struct {
			AllowedRequestOrigins []string `json:"allowed_request_origins"`
			Object
		}
		if d.decode(raw, "security", &sec) {
			root.AllowedRequestOrigins = sec.AllowedRequestOrigins
			if len(sec.Extra) == 0 {
				root.remove("security")
			}
		}
	}
	if raw, ok := root.Extra["custom_user_data_config"]; ok {
		cud := &CustomUserData{File: name}
		if d.decode(raw, "custom_user_data_config", cud) {
			l.app.CustomUserData = cud
			root.remove("custom_user_data_config")
		}
	}
	if raw, ok := root.Extra["hosting"]; ok {
		l.app.Hosting = &Hosting{Config: &RawFile{File: name, JSON: compact(raw)}}
		root.remove("hosting")
	}
	if raw, ok := root.Extra["sync"]; ok {
		sc := &SyncConfig{File: name}
		if d.decode(raw, "sync", sc) {
			l.app.Sync = sc
			root.remove("sync")
		}
	}
}

func (l *loader) loadMeta() {
	const name = ".mdb/app_meta.json"
	if l.exists(name) {
		meta := &AppMeta{}
		if l.decodeFile(name, meta) {
			l.app.Meta = meta
		}
	}
	switch {
	case l.opts.AppID != "":
		l.app.AppID = l.opts.AppID
	case l.app.Root.AppID != "":
		l.app.AppID = l.app.Root.AppID
	case l.app.Meta != nil && l.app.Meta.AppID != "":
		l.app.AppID = l.app.Meta.AppID
	default:
		l.app.AppID = l.app.Root.Name
	}
}

func (l *loader) loadAuth() {
	l.app.AuthProviders = map[string]*AuthProvider{}
	if name := "auth/providers.json"; l.exists(name) {
		providers := map[string]*AuthProvider{}
		if l.decodeFile(name, &providers) {
			for _, key := range sortedKeys(providers) {
				p := providers[key]
				if p == nil {
					l.probs.add(name, key, "expected an object, got null")
					continue
				}
				p.File = name
				if p.Name != key {
					l.probs.add(name, joinPath(key, "name"), "provider name "+strconv.Quote(p.Name)+" does not match its key "+strconv.Quote(key))
				}
				l.addProvider(p, name, key)
			}
		}
	}
	for _, e := range l.readDir("auth_providers") {
		name := path.Join("auth_providers", e.Name())
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".json") {
			l.warn(name, "", "not a provider file; ignored")
			continue
		}
		p := &AuthProvider{File: name}
		if l.decodeFile(name, p) {
			l.addProvider(p, name, "")
		}
	}
	if name := "auth/custom_user_data.json"; l.exists(name) {
		cud := &CustomUserData{File: name}
		if l.decodeFile(name, cud) {
			l.app.CustomUserData = cud
		}
	}
}

var providerTypes = map[string]bool{
	"anon-user": true, "local-userpass": true, "api-key": true, "custom-token": true,
	"custom-function": true, "oauth2-google": true, "oauth2-facebook": true, "oauth2-apple": true,
}

func (l *loader) addProvider(p *AuthProvider, file, key string) {
	if !providerTypes[p.Type] {
		l.probs.add(file, joinPath(key, "type"), "unknown provider type "+strconv.Quote(p.Type))
	} else if p.Name != p.Type {
		l.probs.add(file, joinPath(key, "name"), "provider name "+strconv.Quote(p.Name)+" must equal its type "+strconv.Quote(p.Type))
	}
	if _, dup := l.app.AuthProviders[p.Name]; dup {
		l.probs.add(file, joinPath(key, "name"), "provider "+strconv.Quote(p.Name)+" is defined twice")
		return
	}
	l.app.AuthProviders[p.Name] = p
}

func (l *loader) loadFunctions() {
	const manifest = "functions/config.json"
	seen := map[string]bool{}
	add := func(f *Function, file, p string) {
		l.checkFunction(f, file, p)
		if f.Name == "" {
			l.probs.add(file, joinPath(p, "name"), "missing function name")
			return
		}
		if seen[f.Name] {
			l.probs.add(file, joinPath(p, "name"), "function "+strconv.Quote(f.Name)+" is defined twice")
			return
		}
		seen[f.Name] = true
		l.app.Functions = append(l.app.Functions, f)
	}
	if l.exists(manifest) {
		var list []*Function
		if l.decodeFile(manifest, &list) {
			for i, f := range list {
				p := "[" + strconv.Itoa(i) + "]"
				if f == nil {
					l.probs.add(manifest, p, "expected an object, got null")
					continue
				}
				src := "functions/" + f.Name + ".js"
				if f.Name != "" && !validFunctionName(f.Name) {
					l.probs.add(manifest, joinPath(p, "name"), "function name "+strconv.Quote(f.Name)+" must be path segments of letters, digits, _ and -")
				} else if b, err := fs.ReadFile(l.fsys, src); err == nil {
					f.Source, f.SourceFile = string(b), src
				} else if f.Name != "" {
					l.probs.add(manifest, joinPath(p, "name"), "no source file "+src)
				}
				add(f, manifest, p)
			}
		}
		// Sources without a manifest entry are added with defaults, as the
		// App Services import does.
		_ = fs.WalkDir(l.fsys, "functions", func(p string, e fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			if e.IsDir() && e.Name() == "node_modules" {
				l.warn(p, "", "node_modules is not loaded; dependencies are not supported yet")
				return fs.SkipDir
			}
			if e.IsDir() || !strings.HasSuffix(p, ".js") {
				if !e.IsDir() && p != manifest {
					// package.json and the like: dependencies Atoll does
					// not install yet, carried through an export.
					b, err := fs.ReadFile(l.fsys, p)
					if err != nil {
						l.probs.add(p, "", err.Error())
						return nil
					}
					if l.app.FunctionFiles == nil {
						l.app.FunctionFiles = map[string][]byte{}
					}
					l.app.FunctionFiles[strings.TrimPrefix(p, "functions/")] = b
				}
				return nil
			}
			name := strings.TrimSuffix(strings.TrimPrefix(p, "functions/"), ".js")
			if seen[name] {
				return nil
			}
			b, err := fs.ReadFile(l.fsys, p)
			if err != nil {
				l.probs.add(p, "", err.Error())
				return nil
			}
			l.warn(p, "", "function "+strconv.Quote(name)+" is not in functions/config.json; added with defaults")
			add(&Function{Name: name, Source: string(b), SourceFile: p}, p, "")
			return nil
		})
		return
	}
	// v1 and Stitch: functions/<name>/config.json + source.js.
	for _, e := range l.readDir("functions") {
		dir := path.Join("functions", e.Name())
		if !e.IsDir() {
			l.warn(dir, "", "not a function folder; ignored")
			continue
		}
		f := &Function{}
		cfg := path.Join(dir, "config.json")
		if !l.exists(cfg) {
			l.probs.add(cfg, "", "missing function config")
			continue
		}
		if !l.decodeFile(cfg, f) {
			continue
		}
		src := path.Join(dir, "source.js")
		if b, err := fs.ReadFile(l.fsys, src); err == nil {
			f.Source, f.SourceFile = string(b), src
		} else {
			l.probs.add(src, "", "missing function source")
		}
		if f.Name != e.Name() {
			l.probs.add(cfg, "name", "function name "+strconv.Quote(f.Name)+" does not match its folder "+strconv.Quote(e.Name()))
		}
		add(f, cfg, "")
	}
}

func (l *loader) loadTriggers() {
	seen := map[string]bool{}
	for _, e := range l.readDir("triggers") {
		name := path.Join("triggers", e.Name())
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".json") {
			l.warn(name, "", "not a trigger file; ignored")
			continue
		}
		t := &Trigger{File: name}
		if !l.decodeFile(name, t) {
			continue
		}
		// The legacy top-level handler becomes an event processor, the
		// one form the rest of Atoll reads.
		if (t.FunctionName != "" || t.FunctionID != "") && len(t.EventProcessors) == 0 {
			t.EventProcessors = map[string]*EventProcessor{"FUNCTION": {Config: &ProcessorConfig{FunctionName: t.FunctionName, FunctionID: t.FunctionID}}}
			t.FunctionName, t.FunctionID = "", ""
			t.forget("function_name")
			t.forget("function_id")
		}
		if seen[t.Name] {
			l.probs.add(name, "name", "trigger "+strconv.Quote(t.Name)+" is defined twice")
			continue
		}
		seen[t.Name] = true
		l.app.Triggers = append(l.app.Triggers, t)
	}
}

func (l *loader) loadValues() {
	seen := map[string]bool{}
	for _, e := range l.readDir("values") {
		name := path.Join("values", e.Name())
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".json") {
			l.warn(name, "", "not a value file; ignored")
			continue
		}
		v := &Value{File: name}
		if !l.decodeFile(name, v) {
			continue
		}
		if seen[v.Name] {
			l.probs.add(name, "name", "value "+strconv.Quote(v.Name)+" is defined twice")
			continue
		}
		seen[v.Name] = true
		l.app.Values = append(l.app.Values, v)
	}
	// v1 secrets.json holds secret names only; whatever values it might
	// hold are not read.
	if name := "secrets.json"; l.exists(name) {
		raw, ok := l.readJSON(name)
		if !ok {
			return
		}
		var names []string
		var list []json.RawMessage
		var obj map[string]json.RawMessage
		switch {
		case json.Unmarshal(raw, &list) == nil:
			for _, item := range list {
				var s string
				var named struct {
					Name string `json:"name"`
				}
				if json.Unmarshal(item, &s) == nil {
					names = append(names, s)
				} else if json.Unmarshal(item, &named) == nil && named.Name != "" {
					names = append(names, named.Name)
				}
			}
		case json.Unmarshal(raw, &obj) == nil:
			names = sortedKeys(obj)
		default:
			l.probs.add(name, "", "expected a list of secret names")
		}
		l.app.SecretNames = append(l.app.SecretNames, names...)
	}
}

func (l *loader) loadGraphQL() {
	if !l.isDir("graphql") {
		return
	}
	g := &GraphQL{}
	if name := "graphql/config.json"; l.exists(name) {
		c := &GraphQLConfig{}
		if l.decodeFile(name, c) {
			g.Config = c
		}
	}
	if name := "graphql/validation_settings.json"; l.exists(name) {
		v := &GraphQLValidationSettings{}
		if l.decodeFile(name, v) {
			g.ValidationSettings = v
		}
	}
	for _, e := range l.readDir("graphql/custom_resolvers") {
		name := path.Join("graphql/custom_resolvers", e.Name())
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".json") {
			l.warn(name, "", "not a resolver file; ignored")
			continue
		}
		r := &CustomResolver{File: name}
		if l.decodeFile(name, r) {
			g.CustomResolvers = append(g.CustomResolvers, r)
		}
	}
	l.app.GraphQL = g
}

func (l *loader) loadEndpoints() {
	dir := "https_endpoints"
	if !l.isDir(dir) {
		dir = "http_endpoints"
	} else {
		for _, f := range []string{"config.json", "data_api_config.json"} {
			if name := path.Join("http_endpoints", f); l.exists(name) {
				l.warn(name, "", "ignored: https_endpoints/ (the current name) is also present and wins")
			}
		}
	}
	if name := path.Join(dir, "config.json"); l.exists(name) {
		var list []*HTTPSEndpoint
		if l.decodeFile(name, &list) {
			for i, ep := range list {
				if ep == nil {
					l.probs.add(name, "["+strconv.Itoa(i)+"]", "expected an object, got null")
					continue
				}
				l.app.HTTPSEndpoints = append(l.app.HTTPSEndpoints, ep)
			}
			l.app.HTTPSEndpointsFile = name
		}
	}
	if name := path.Join(dir, "data_api_config.json"); l.exists(name) {
		c := &DataAPIConfig{File: name}
		if l.decodeFile(name, c) {
			// A misspelling found in docs snippets.
			if raw, ok := c.Extra["verification_method"]; ok && c.ValidationMethod == "" {
				_ = json.Unmarshal(raw, &c.ValidationMethod)
				c.remove("verification_method")
			}
			l.app.DataAPI = c
		}
	}
	// realm-cli v2 kept legacy HTTP services beside the endpoint files.
	for _, d := range []string{"http_endpoints", "https_endpoints"} {
		for _, e := range l.readDir(d) {
			if e.IsDir() {
				l.loadLegacyService(path.Join(d, e.Name()), e.Name())
			} else if n := e.Name(); n != "config.json" && n != "data_api_config.json" {
				l.warn(path.Join(d, n), "", "unexpected file; ignored")
			}
		}
	}
}

func (l *loader) loadSync() {
	const name = "sync/config.json"
	if !l.exists(name) {
		return
	}
	sc := &SyncConfig{File: name}
	if l.decodeFile(name, sc) {
		l.app.Sync = sc
	}
}

func (l *loader) loadHosting() {
	if !l.isDir("hosting") {
		return
	}
	h := l.app.Hosting
	if h == nil {
		h = &Hosting{}
	}
	for _, f := range []struct {
		name string
		dst  **RawFile
	}{{"hosting/config.json", &h.Config}, {"hosting/metadata.json", &h.Metadata}} {
		if l.exists(f.name) {
			if raw, ok := l.readJSON(f.name); ok {
				*f.dst = &RawFile{File: f.name, JSON: compact(raw)}
			}
		}
	}
	_ = fs.WalkDir(l.fsys, "hosting/files", func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return nil
		}
		b, err := fs.ReadFile(l.fsys, p)
		if err != nil {
			l.probs.add(p, "", err.Error())
			return nil
		}
		if h.Files == nil {
			h.Files = map[string][]byte{}
		}
		h.Files[strings.TrimPrefix(p, "hosting/files/")] = b
		return nil
	})
	l.app.Hosting = h
}

func (l *loader) loadLogForwarders() {
	for _, e := range l.readDir("log_forwarders") {
		name := path.Join("log_forwarders", e.Name())
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".json") {
			l.warn(name, "", "not a log forwarder file; ignored")
			continue
		}
		if raw, ok := l.readJSON(name); ok {
			if kindOf(raw) != "object" {
				l.probs.add(name, "", "expected an object, got "+describe(raw))
				continue
			}
			l.app.LogForwarders = append(l.app.LogForwarders, &RawFile{File: name, JSON: compact(raw)})
		}
	}
}

// collectSecrets lists every secret the app refers to and takes the values
// the caller supplied.
func (l *loader) collectSecrets() {
	set := map[string]bool{}
	for _, n := range l.app.SecretNames {
		set[n] = true
	}
	for _, v := range l.app.Values {
		if v.FromSecret {
			set[v.SecretName()] = true
		}
	}
	values := map[string]bool{}
	for _, v := range l.app.Values {
		values[v.Name] = true
	}
	for _, p := range l.app.AuthProviders {
		for _, s := range p.SecretConfig {
			for _, n := range s.Values {
				// Auth falls back to a value of the same name (a public
				// signing key needs no secret); a secret-backed value's
				// own secret is listed above.
				if !values[n] {
					set[n] = true
				}
			}
		}
	}
	for _, d := range l.app.DataSources {
		for _, s := range d.SecretConfig {
			for _, n := range s.Values {
				set[n] = true
			}
		}
	}
	for _, ep := range l.app.HTTPSEndpoints {
		if ep.SecretName != "" {
			set[ep.SecretName] = true
		}
	}
	if l.app.DataAPI != nil && l.app.DataAPI.SecretName != "" {
		set[l.app.DataAPI.SecretName] = true
	}
	delete(set, "")
	l.app.SecretNames = sortedKeys(set)
	// Supplied secrets are all kept (functions may read any); a name with
	// '-' also matches the '_' spelling environment variables need.
	if len(l.opts.Secrets) > 0 {
		l.app.Secrets = make(map[string]string, len(l.opts.Secrets))
		for k, v := range l.opts.Secrets {
			l.app.Secrets[k] = v
		}
		for _, n := range l.app.SecretNames {
			if _, ok := l.app.Secrets[n]; !ok {
				if v, ok := l.opts.Secrets[strings.ReplaceAll(n, "-", "_")]; ok {
					l.app.Secrets[n] = v
				}
			}
		}
	}
}

func (l *loader) checkFunction(f *Function, file, base string) {
	if f.RunAsUserID != "" && f.RunAsUserIDScriptSource != "" {
		l.probs.add(file, joinPath(base, "run_as_user_id_script_source"), "run_as_user_id and run_as_user_id_script_source are mutually exclusive")
	}
	if k := kindOf(f.CanEvaluate); k != "nothing" && k != "object" && k != "boolean" {
		l.probs.add(file, joinPath(base, "can_evaluate"), "expected an expression (an object or a boolean), got "+describe(f.CanEvaluate))
	}
}

// validName checks the App Services naming rule shared by apps, data
// sources, triggers and values: letters, digits, _ and -.
func validName(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for _, r := range s {
		if !(r == '_' || r == '-' || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z') || ('0' <= r && r <= '9')) {
			return false
		}
	}
	return true
}

// validFunctionName allows folder-style names such as "utils/add" but no
// path tricks.
func validFunctionName(s string) bool {
	for _, seg := range strings.Split(s, "/") {
		if !validName(seg, 256) || seg == "." || seg == ".." {
			return false
		}
	}
	return true
}
