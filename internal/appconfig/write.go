package appconfig

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// Write writes the app to dir in the current (App Services CLI) layout,
// whatever layout it was read from. dir must not exist or be empty: files
// left over from an earlier export would be read back as part of the app.
// Secret values are never written.
func (a *App) Write(ctx context.Context, dir string) error {
	files, err := a.Files()
	if err != nil {
		return err
	}
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return fmt.Errorf("appconfig: %s is not empty", dir)
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	for _, name := range sortedKeys(files) {
		if err := ctx.Err(); err != nil {
			return err
		}
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, files[name], 0o644); err != nil {
			return err
		}
	}
	return nil
}

// Files renders the app in the current layout as a map from slash-separated
// path to content, which is what Write puts on disk; it lets callers diff
// an app against a directory without writing one.
func (a *App) Files() (map[string][]byte, error) {
	w := &writer{files: map[string][]byte{}}
	a.render(w)
	if w.err != nil {
		return nil, w.err
	}
	return w.files, nil
}

type writer struct {
	files map[string][]byte
	err   error
}

// safe rejects names that would escape their folder once used as a path.
func (w *writer) safe(name string) bool {
	for _, seg := range strings.Split(name, "/") {
		if seg == "" || seg == "." || seg == ".." || strings.ContainsAny(seg, `\:`) {
			if w.err == nil {
				w.err = fmt.Errorf("appconfig: %q cannot be used as a file name", name)
			}
			return false
		}
	}
	return true
}

func (w *writer) json(name string, v any) {
	if w.err != nil {
		return
	}
	b, err := encodeJSON(v)
	if err != nil {
		w.err = fmt.Errorf("appconfig: writing %s: %w", name, err)
		return
	}
	w.put(name, b)
}

func (w *writer) put(name string, b []byte) {
	if _, dup := w.files[name]; dup && w.err == nil {
		w.err = fmt.Errorf("appconfig: two parts of the app would be written to %s", name)
	}
	w.files[name] = b
}

func (w *writer) raw(name string, r *RawFile) {
	if r != nil {
		w.json(name, r.JSON)
	}
}

func (a *App) render(w *writer) {
	root := a.Root
	// The current root file has neither an app id nor a config version;
	// the id lives in .mdb/app_meta.json as the App Services CLI keeps it.
	root.AppID, root.ConfigVersion = "", 0
	root.forget("app_id")
	root.forget("config_version")
	w.json("root_config.json", &root)

	if a.AppID != "" || a.Meta != nil {
		meta := AppMeta{}
		if a.Meta != nil {
			meta = *a.Meta
		}
		meta.AppID = a.AppID
		w.json(".mdb/app_meta.json", &meta)
	}

	if len(a.AuthProviders) > 0 {
		w.json("auth/providers.json", a.AuthProviders)
	}
	if a.CustomUserData != nil {
		w.json("auth/custom_user_data.json", a.CustomUserData)
	}

	for _, d := range a.DataSources {
		if !w.safe(d.Name) {
			continue
		}
		dir := "data_sources/" + d.Name
		w.json(dir+"/config.json", d)
		w.raw(dir+"/default_rule.json", d.DefaultRule)
		for _, c := range d.Collections {
			if !w.safe(c.Database) || !w.safe(c.Collection) {
				continue
			}
			cdir := dir + "/" + c.Database + "/" + c.Collection
			w.raw(cdir+"/rules.json", c.Rules)
			w.raw(cdir+"/schema.json", c.Schema)
			if c.Relationships != nil || (c.Rules == nil && c.Schema != nil) {
				rels := c.Relationships
				if rels == nil {
					rels = map[string]*Relationship{}
				}
				w.json(cdir+"/relationships.json", rels)
			}
		}
	}

	for _, tag := range sortedKeys(a.Environments) {
		name := tag
		if name == "" {
			name = "no-environment"
		}
		if w.safe(name) {
			w.json("environments/"+name+".json", a.Environments[tag])
		}
	}

	if len(a.Functions) > 0 {
		w.json("functions/config.json", a.Functions)
		for _, f := range a.Functions {
			if w.safe(f.Name) {
				w.put("functions/"+f.Name+".js", []byte(f.Source))
			}
		}
	}

	for _, name := range sortedKeys(a.FunctionFiles) {
		if w.safe(name) {
			w.put("functions/"+name, a.FunctionFiles[name])
		}
	}

	for _, t := range a.Triggers {
		if w.safe(t.Name) {
			w.json("triggers/"+t.Name+".json", t)
		}
	}
	for _, v := range a.Values {
		if w.safe(v.Name) {
			w.json("values/"+v.Name+".json", v)
		}
	}

	if g := a.GraphQL; g != nil {
		if g.Config != nil {
			w.json("graphql/config.json", g.Config)
		}
		if g.ValidationSettings != nil {
			w.json("graphql/validation_settings.json", g.ValidationSettings)
		}
		for _, r := range g.CustomResolvers {
			base := r.OnType + "_" + r.FieldName + ".json"
			if strings.HasPrefix(r.File, "graphql/custom_resolvers/") {
				base = path.Base(r.File)
			}
			if w.safe(base) {
				w.json("graphql/custom_resolvers/"+base, r)
			}
		}
	}

	if a.HTTPSEndpointsFile != "" || len(a.HTTPSEndpoints) > 0 {
		eps := a.HTTPSEndpoints
		if eps == nil {
			eps = []*HTTPSEndpoint{}
		}
		w.json("https_endpoints/config.json", eps)
	}
	if a.DataAPI != nil {
		w.json("https_endpoints/data_api_config.json", a.DataAPI)
	}

	if a.Sync != nil {
		w.json("sync/config.json", a.Sync)
	}

	if h := a.Hosting; h != nil {
		w.raw("hosting/config.json", h.Config)
		w.raw("hosting/metadata.json", h.Metadata)
		for _, name := range sortedKeys(h.Files) {
			if w.safe(name) {
				w.put("hosting/files/"+name, h.Files[name])
			}
		}
	}

	for _, f := range a.LogForwarders {
		if base := path.Base(f.File); w.safe(base) {
			w.raw("log_forwarders/"+base, f)
		}
	}

	for _, s := range a.LegacyServices {
		if !w.safe(s.Dir) {
			continue
		}
		for _, name := range sortedKeys(s.Files) {
			if w.safe(name) {
				w.put(s.Dir+"/"+name, s.Files[name])
			}
		}
	}
}
