package appconfig

import (
	"encoding/json"
	"strconv"
	"strings"
)

// validate checks what a single file cannot: that names are well formed and
// that every reference (functions, data sources, secrets) points at
// something the app defines. Like the rest of the loader it reports all it
// finds.
func (l *loader) validate() {
	a := l.app
	l.resolveIDs()
	fn := func(file, path, what, name string) {
		if name != "" && a.Function(name) == nil {
			l.probs.add(file, path, what+" "+strconv.Quote(name)+" is not defined in functions/")
		}
	}
	for _, key := range sortedKeys(a.AuthProviders) {
		p := a.AuthProviders[key]
		base := ""
		if p.File == "auth/providers.json" {
			base = key
		}
		c := p.Config
		if c == nil {
			continue
		}
		cp := joinPath(base, "config")
		switch p.Type {
		case "local-userpass":
			if c.RunConfirmationFunction && c.ConfirmationFunctionName == "" && c.ConfirmationFunctionID == "" {
				l.probs.add(p.File, joinPath(cp, "confirmationFunctionName"), "runConfirmationFunction is set but no confirmation function is named")
			}
			if c.RunResetFunction && c.ResetFunctionName == "" && c.ResetFunctionID == "" {
				l.probs.add(p.File, joinPath(cp, "resetFunctionName"), "runResetFunction is set but no reset function is named")
			}
			if c.RunConfirmationFunction {
				fn(p.File, joinPath(cp, "confirmationFunctionName"), "confirmation function", c.ConfirmationFunctionName)
			}
			if c.RunResetFunction {
				fn(p.File, joinPath(cp, "resetFunctionName"), "reset function", c.ResetFunctionName)
			}
			if len(c.ConfirmEmailSubject) > 256 {
				l.probs.add(p.File, joinPath(cp, "confirmEmailSubject"), "longer than 256 characters")
			}
			if len(c.ResetPasswordSubject) > 256 {
				l.probs.add(p.File, joinPath(cp, "resetPasswordSubject"), "longer than 256 characters")
			}
		case "custom-function":
			if c.AuthFunctionName == "" && c.AuthFunctionID == "" && !p.Disabled {
				l.probs.add(p.File, joinPath(cp, "authFunctionName"), "missing authentication function")
			}
			fn(p.File, joinPath(cp, "authFunctionName"), "authentication function", c.AuthFunctionName)
		case "custom-token":
			switch c.SigningAlgorithm {
			case "", "HS256", "RS256":
			default:
				l.probs.add(p.File, joinPath(cp, "signingAlgorithm"), "unknown signing algorithm "+strconv.Quote(c.SigningAlgorithm)+"; expected HS256 or RS256")
			}
			if c.UseJWKURI && c.JWKURI == "" {
				l.probs.add(p.File, joinPath(cp, "jwkURI"), "useJWKURI is set but jwkURI is empty")
			}
		}
	}

	if c := a.CustomUserData; c != nil && c.Enabled {
		base := ""
		if c.File != "auth/custom_user_data.json" {
			base = "custom_user_data_config"
		}
		for _, req := range []struct{ key, val string }{
			{"database_name", c.DatabaseName}, {"collection_name", c.CollectionName}, {"user_id_field", c.UserIDField},
		} {
			if req.val == "" {
				l.probs.add(c.File, joinPath(base, req.key), "required when custom user data is enabled")
			}
		}
		if c.MongoServiceName == "" && c.MongoServiceID == "" {
			l.probs.add(c.File, joinPath(base, "mongo_service_name"), "required when custom user data is enabled")
		} else if c.MongoServiceName != "" && a.DataSource(c.MongoServiceName) == nil {
			l.probs.add(c.File, joinPath(base, "mongo_service_name"), "data source "+strconv.Quote(c.MongoServiceName)+" is not defined")
		}
		fn(c.File, joinPath(base, "on_user_creation_function_name"), "user creation function", c.OnUserCreationFunctionName)
	}

	for _, d := range a.DataSources {
		if !validName(d.Name, 64) {
			l.probs.add(d.File, "name", "data source name "+strconv.Quote(d.Name)+" must be 1-64 characters of letters, digits, _ and -")
		}
		if !dataSourceTypes[d.Type] {
			l.probs.add(d.File, "type", "unknown data source type "+strconv.Quote(d.Type)+"; expected mongodb-atlas, mongodb or datalake")
		}
		if d.Type == "datalake" && (len(d.Collections) > 0 || d.DefaultRule != nil) {
			l.probs.add(d.File, "type", "a datalake data source cannot have rules or schemas")
		}
		if c := d.Config; c != nil {
			switch c.ReadPreference {
			case "", "primary", "primaryPreferred", "secondary", "secondaryPreferred", "nearest":
			default:
				l.probs.add(d.File, "config.readPreference", "unknown read preference "+strconv.Quote(c.ReadPreference))
			}
		}
		for _, c := range d.Collections {
			for key, r := range c.Relationships {
				ref := strings.Split(strings.TrimPrefix(r.Ref, "#/relationship/"), "/")
				if len(ref) == 3 && a.DataSource(ref[0]) == nil {
					l.probs.add(c.RelationshipsFile, joinPath(joinPath(relBase(c), key), "ref"), "data source "+strconv.Quote(ref[0])+" is not defined")
				}
			}
		}
	}

	for _, t := range a.Triggers {
		if !validName(t.Name, 64) {
			l.probs.add(t.File, "name", "trigger name "+strconv.Quote(t.Name)+" must be 1-64 characters of letters, digits, _ and -")
		}
		c := t.Config
		if c == nil {
			c = &TriggerConfig{}
		}
		switch t.Type {
		case "DATABASE":
			if c.ServiceName == "" && c.ServiceID == "" {
				l.probs.add(t.File, "config.service_name", "missing data source")
			} else if c.ServiceName != "" && a.DataSource(c.ServiceName) == nil {
				l.probs.add(t.File, "config.service_name", "data source "+strconv.Quote(c.ServiceName)+" is not defined")
			}
			for i, op := range c.OperationTypes {
				if op != strings.ToUpper(op) || op == "" {
					l.probs.add(t.File, "config.operation_types["+strconv.Itoa(i)+"]", "unknown operation type "+strconv.Quote(op))
				}
			}
		case "AUTHENTICATION":
			if len(c.OperationType.Values) == 0 {
				l.probs.add(t.File, "config.operation_type", "missing operation type (CREATE, LOGIN or DELETE)")
			}
			for _, op := range c.OperationType.Values {
				if op != "CREATE" && op != "LOGIN" && op != "DELETE" {
					l.probs.add(t.File, "config.operation_type", "unknown operation type "+strconv.Quote(op)+"; expected CREATE, LOGIN or DELETE")
				}
			}
			for i, p := range c.Providers {
				if !providerTypes[p] {
					l.probs.add(t.File, "config.providers["+strconv.Itoa(i)+"]", "unknown provider type "+strconv.Quote(p))
				}
			}
		case "SCHEDULED":
			if n := len(strings.Fields(c.Schedule)); n != 5 {
				l.probs.add(t.File, "config.schedule", "schedule "+strconv.Quote(c.Schedule)+" must be a five-field CRON expression")
			}
		default:
			l.probs.add(t.File, "type", "unknown trigger type "+strconv.Quote(t.Type)+"; expected DATABASE, AUTHENTICATION or SCHEDULED")
		}
		_, eventBridge := t.EventProcessors["AWS_EVENTBRIDGE"]
		for _, key := range sortedKeys(t.EventProcessors) {
			if key != "FUNCTION" && key != "AWS_EVENTBRIDGE" {
				l.probs.add(t.File, joinPath("event_processors", key), "unknown event processor")
			}
		}
		switch h := t.HandlerFunction(); {
		case h == "" && !eventBridge && t.EventProcessors["FUNCTION"] == nil:
			l.probs.add(t.File, "event_processors", "no handler: expected event_processors.FUNCTION.config.function_name")
		case h != "":
			p := "event_processors.FUNCTION.config.function_name"
			fn(t.File, p, "function", h)
		}
	}

	seenValues := map[string]bool{}
	for _, v := range a.Values {
		seenValues[v.Name] = true
		if !validName(v.Name, 64) {
			l.probs.add(v.File, "name", "value name "+strconv.Quote(v.Name)+" must be 1-64 characters of letters, digits, _ and -")
		}
		if v.FromSecret && kindOf(v.Value) != "string" {
			l.probs.add(v.File, "value", "a secret-backed value must name its secret with a string, got "+describe(v.Value))
		}
	}

	for i, ep := range a.HTTPSEndpoints {
		base := "[" + strconv.Itoa(i) + "]"
		file := a.HTTPSEndpointsFile
		if !strings.HasPrefix(ep.Route, "/") {
			l.probs.add(file, joinPath(base, "route"), "route "+strconv.Quote(ep.Route)+" must start with /")
		}
		switch ep.HTTPMethod {
		case "GET", "POST", "PUT", "PATCH", "DELETE", "*":
		default:
			l.probs.add(file, joinPath(base, "http_method"), "unknown method "+strconv.Quote(ep.HTTPMethod))
		}
		if ep.FunctionName == "" {
			l.probs.add(file, joinPath(base, "function_name"), "missing function")
		}
		fn(file, joinPath(base, "function_name"), "function", ep.FunctionName)
		l.checkValidation(file, base, ep.ValidationMethod, ep.SecretName)
		switch ep.ReturnType {
		case "", "JSON", "EJSON":
		default:
			l.probs.add(file, joinPath(base, "return_type"), "unknown return type "+strconv.Quote(ep.ReturnType)+"; expected JSON or EJSON")
		}
	}
	if c := a.DataAPI; c != nil {
		l.checkValidation(c.File, "", c.ValidationMethod, c.SecretName)
		if c.RunAsUserID != "" && c.RunAsUserIDScriptSource != "" {
			l.probs.add(c.File, "run_as_user_id_script_source", "run_as_user_id and run_as_user_id_script_source are mutually exclusive")
		}
	}

	if g := a.GraphQL; g != nil {
		for _, r := range g.CustomResolvers {
			if r.FieldName == "" {
				l.probs.add(r.File, "field_name", "missing field name")
			}
			if r.OnType == "" {
				l.probs.add(r.File, "on_type", "missing type")
			}
			fn(r.File, "function_name", "function", r.FunctionName)
		}
	}

	if s := a.Sync; s != nil {
		base := ""
		if s.File != "sync/config.json" {
			base = "sync"
		}
		switch s.Type {
		case "", "flexible", "partition":
		default:
			l.probs.add(s.File, joinPath(base, "type"), "unknown sync type "+strconv.Quote(s.Type)+"; expected flexible or partition")
		}
		if s.ServiceName != "" && a.DataSource(s.ServiceName) == nil {
			l.probs.add(s.File, joinPath(base, "service_name"), "data source "+strconv.Quote(s.ServiceName)+" is not defined")
		}
		if len(s.IndexedQueryableFieldsNames) > 1 {
			l.probs.add(s.File, joinPath(base, "indexed_queryable_fields_names"), "at most one indexed queryable field")
		}
		for _, f := range s.IndexedQueryableFieldsNames {
			found := false
			for _, q := range s.QueryableFieldsNames {
				found = found || q == f
			}
			if !found {
				l.probs.add(s.File, joinPath(base, "indexed_queryable_fields_names"), "indexed field "+strconv.Quote(f)+" must also be in queryable_fields_names")
			}
		}
		if s.Type == "partition" && (s.Partition == nil || s.Partition.Key == "") {
			l.probs.add(s.File, joinPath(joinPath(base, "partition"), "key"), "partition sync needs a partition key")
		}
	}

	// A template for an environment that has no file is a problem only if
	// something used it; an unknown active environment file is worth a
	// warning because %%environment.values will be empty.
	if _, ok := a.Environments[a.Root.Environment]; !ok && len(a.Environments) > 0 {
		l.warn(environmentFile(a.Root.Environment), "", "the active environment has no values file")
	}
}

func relBase(c *Collection) string {
	if strings.HasSuffix(c.RelationshipsFile, "relationships.json") {
		return ""
	}
	return "relationships"
}

func (l *loader) checkValidation(file, base, method, secret string) {
	switch method {
	case "", "NO_VALIDATION":
	case "SECRET_AS_QUERY_PARAM", "VERIFY_PAYLOAD":
		if secret == "" {
			l.probs.add(file, joinPath(base, "secret_name"), method+" needs a secret_name")
		}
	default:
		l.probs.add(file, joinPath(base, "validation_method"), "unknown validation method "+strconv.Quote(method)+"; expected NO_VALIDATION, SECRET_AS_QUERY_PARAM or VERIFY_PAYLOAD")
	}
}

// resolveIDs fills in names where old exports refer to a data source or a
// function only by the `id` it had in the cloud (custom user data's
// mongo_service_id, a trigger's service_id or function_id), so the rest of
// Atoll deals in names only. The ids stay in the files.
func (l *loader) resolveIDs() {
	a := l.app
	idOf := func(o *Object) string {
		var id string
		if raw, ok := o.Extra["id"]; ok {
			_ = json.Unmarshal(raw, &id)
		}
		return id
	}
	sources, functions := map[string]string{}, map[string]string{}
	for _, d := range a.DataSources {
		if id := idOf(&d.Object); id != "" {
			sources[id] = d.Name
		}
	}
	for _, f := range a.Functions {
		if id := idOf(&f.Object); id != "" {
			functions[id] = f.Name
		}
	}
	if c := a.CustomUserData; c != nil && c.MongoServiceName == "" && sources[c.MongoServiceID] != "" {
		c.MongoServiceName = sources[c.MongoServiceID]
	}
	if c := a.CustomUserData; c != nil && c.OnUserCreationFunctionName == "" && functions[c.OnUserCreationFunctionID] != "" {
		c.OnUserCreationFunctionName = functions[c.OnUserCreationFunctionID]
	}
	for _, t := range a.Triggers {
		if c := t.Config; c != nil && c.ServiceName == "" && sources[c.ServiceID] != "" {
			c.ServiceName = sources[c.ServiceID]
		}
		if p := t.EventProcessors["FUNCTION"]; p != nil && p.Config != nil && p.Config.FunctionName == "" && functions[p.Config.FunctionID] != "" {
			p.Config.FunctionName = functions[p.Config.FunctionID]
		}
	}
	for _, p := range a.AuthProviders {
		if c := p.Config; c != nil {
			for _, ref := range []struct {
				name *string
				id   string
			}{
				{&c.ConfirmationFunctionName, c.ConfirmationFunctionID},
				{&c.ResetFunctionName, c.ResetFunctionID},
				{&c.AuthFunctionName, c.AuthFunctionID},
			} {
				if *ref.name == "" && functions[ref.id] != "" {
					*ref.name = functions[ref.id]
				}
			}
		}
	}
}
