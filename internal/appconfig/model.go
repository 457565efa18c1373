package appconfig

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
)

// Generation says which App Services tool wrote a directory. Atoll reads all
// of them into the same App and always writes the current one.
type Generation int

// The generations, oldest first, named after their root file.
const (
	GenerationUnknown Generation = iota
	GenerationStitch             // stitch.json, config_version 20180301
	GenerationRealmV1            // config.json, config_version 20200603
	GenerationRealmV2            // realm_config.json, config_version 20210101
	GenerationCurrent            // root_config.json (App Services CLI)
)

// RootFile is the root marker file of the generation.
func (g Generation) RootFile() string {
	switch g {
	case GenerationStitch:
		return "stitch.json"
	case GenerationRealmV1:
		return "config.json"
	case GenerationRealmV2:
		return "realm_config.json"
	case GenerationCurrent:
		return "root_config.json"
	}
	return ""
}

// String names the generation by its root file.
func (g Generation) String() string {
	if f := g.RootFile(); f != "" {
		return f
	}
	return "unknown"
}

// App is one App Services app: the whole directory in typed form. It is the
// source of truth from which the server builds its services; every layout is
// translated into it and it is written back in the current layout.
type App struct {
	// Generation is the layout the app was read from.
	Generation Generation
	// AppID is the client app id: the --app-id override, else `app_id` from
	// the root file or .mdb/app_meta.json, else the name.
	AppID string

	Root RootConfig
	// Meta is .mdb/app_meta.json, nil when absent.
	Meta *AppMeta

	AuthProviders  map[string]*AuthProvider
	CustomUserData *CustomUserData
	DataSources    []*DataSource
	Functions      []*Function
	// FunctionFiles are the other files under functions/ (package.json,
	// its lock file), by path below functions/, kept byte for byte.
	FunctionFiles map[string][]byte
	Triggers      []*Trigger
	Values        []*Value
	// Environments is keyed by tag, with "" for no-environment.json.
	Environments   map[string]*Environment
	GraphQL        *GraphQL
	HTTPSEndpoints []*HTTPSEndpoint
	// HTTPSEndpointsFile is where the endpoint list came from (empty when
	// the app has none).
	HTTPSEndpointsFile string
	DataAPI            *DataAPIConfig
	Sync               *SyncConfig
	Hosting            *Hosting
	LogForwarders      []*RawFile
	// LegacyServices are third-party services of old layouts (HTTP, Twilio,
	// AWS, ...) kept byte for byte; Atoll does not run them.
	LegacyServices []*LegacyService
	// SecretNames lists the secrets the app declares (v1 secrets.json) or
	// refers to; never their values.
	SecretNames []string

	// Secrets holds secret values supplied from outside the directory
	// (Options.Secrets). Write never writes them.
	Secrets map[string]string
	// Warnings are problems that do not stop the app from loading.
	Warnings Problems
}

// Name is the app's name from the root file.
func (a *App) Name() string { return a.Root.Name }

// EnvironmentTag is the active environment: "" or one of development,
// testing, qa, production.
func (a *App) EnvironmentTag() string { return a.Root.Environment }

// ActiveEnvironment returns the values of the active environment, or nil.
func (a *App) ActiveEnvironment() *Environment { return a.Environments[a.Root.Environment] }

// Function returns the function named name, or nil.
func (a *App) Function(name string) *Function {
	for _, f := range a.Functions {
		if f.Name == name {
			return f
		}
	}
	return nil
}

// DataSource returns the data source named name, or nil.
func (a *App) DataSource(name string) *DataSource {
	for _, d := range a.DataSources {
		if d.Name == name {
			return d
		}
	}
	return nil
}

// Value returns the named value as raw JSON. For a secret-backed value it
// is the secret's value as a JSON string. It reports false when the value
// or its secret is unknown.
func (a *App) Value(name string) (json.RawMessage, bool) {
	for _, v := range a.Values {
		if v.Name != name {
			continue
		}
		if !v.FromSecret {
			return v.Value, true
		}
		secret, ok := a.Secrets[v.SecretName()]
		if !ok {
			return nil, false
		}
		b, _ := json.Marshal(secret)
		return b, true
	}
	return nil, false
}

// ErrNoSecret is returned for a secret that no secret source supplied.
var ErrNoSecret = errors.New("appconfig: secret not supplied")

// Secret returns the value of the named secret.
func (a *App) Secret(name string) (string, error) {
	if v, ok := a.Secrets[name]; ok {
		return v, nil
	}
	return "", fmt.Errorf("%w: %q", ErrNoSecret, name)
}

// MissingSecrets lists the referenced secrets that were not supplied.
func (a *App) MissingSecrets() []string {
	var out []string
	for _, n := range a.SecretNames {
		if _, ok := a.Secrets[n]; !ok {
			out = append(out, n)
		}
	}
	return out
}

// RootConfig is root_config.json, or the root file of an older generation.
type RootConfig struct {
	Name                  string   `json:"name"`
	AppID                 string   `json:"app_id,omitempty"`
	ConfigVersion         int64    `json:"config_version,omitempty"`
	Location              string   `json:"location,omitempty"`
	DeploymentModel       string   `json:"deployment_model,omitempty"`
	ProviderRegion        string   `json:"provider_region,omitempty"`
	Environment           string   `json:"environment,omitempty"`
	AllowedRequestOrigins []string `json:"allowed_request_origins,omitempty"`
	Object
}

// AppMeta is .mdb/app_meta.json, written by the CLIs to remember which
// cloud app a directory belongs to.
type AppMeta struct {
	GroupID       string `json:"group_id,omitempty"`
	AppID         string `json:"app_id,omitempty"`
	ConfigVersion int64  `json:"config_version,omitempty"`
	Object
}

// AuthProvider is one entry of auth/providers.json.
type AuthProvider struct {
	Name           string                `json:"name"`
	Type           string                `json:"type"`
	Disabled       bool                  `json:"disabled"`
	Config         *ProviderConfig       `json:"config,omitempty"`
	SecretConfig   map[string]StringList `json:"secret_config,omitempty"`
	MetadataFields []*MetadataField      `json:"metadata_fields,omitempty"`
	RedirectURIs   []string              `json:"redirect_uris,omitempty"`
	DomainRestrict []string              `json:"domain_restrictions,omitempty"`
	File           string                `json:"-"`
	Object
}

// ProviderConfig holds the `config` keys of every provider type Atoll knows;
// each provider uses its own subset.
type ProviderConfig struct {
	// local-userpass
	AutoConfirm              bool   `json:"autoConfirm,omitempty"`
	ConfirmEmailSubject      string `json:"confirmEmailSubject,omitempty"`
	EmailConfirmationURL     string `json:"emailConfirmationUrl,omitempty"`
	RunConfirmationFunction  bool   `json:"runConfirmationFunction,omitempty"`
	ConfirmationFunctionName string `json:"confirmationFunctionName,omitempty"`
	ConfirmationFunctionID   string `json:"confirmationFunctionId,omitempty"`
	ResetPasswordSubject     string `json:"resetPasswordSubject,omitempty"`
	ResetPasswordURL         string `json:"resetPasswordUrl,omitempty"`
	RunResetFunction         bool   `json:"runResetFunction,omitempty"`
	ResetFunctionName        string `json:"resetFunctionName,omitempty"`
	ResetFunctionID          string `json:"resetFunctionId,omitempty"`
	// custom-token
	Audience           StringList `json:"audience,omitempty"`
	RequireAnyAudience bool       `json:"requireAnyAudience,omitempty"`
	SigningAlgorithm   string     `json:"signingAlgorithm,omitempty"`
	UseJWKURI          bool       `json:"useJWKURI,omitempty"`
	JWKURI             string     `json:"jwkURI,omitempty"`
	// custom-function
	AuthFunctionName string `json:"authFunctionName,omitempty"`
	AuthFunctionID   string `json:"authFunctionId,omitempty"`
	// oauth2-*
	ClientID string `json:"clientId,omitempty"`
	OpenID   bool   `json:"openId,omitempty"`
	Object
}

// MetadataField maps a path in provider data (a JWT claim) into user data.
type MetadataField struct {
	Required  bool   `json:"required"`
	Name      string `json:"name"`
	FieldName string `json:"field_name,omitempty"`
	Object
}

// CustomUserData is auth/custom_user_data.json (custom_user_data_config in
// v1 root files).
type CustomUserData struct {
	Enabled                    bool   `json:"enabled"`
	MongoServiceName           string `json:"mongo_service_name,omitempty"`
	MongoServiceID             string `json:"mongo_service_id,omitempty"`
	DatabaseName               string `json:"database_name,omitempty"`
	CollectionName             string `json:"collection_name,omitempty"`
	UserIDField                string `json:"user_id_field,omitempty"`
	OnUserCreationFunctionName string `json:"on_user_creation_function_name,omitempty"`
	OnUserCreationFunctionID   string `json:"on_user_creation_function_id,omitempty"`
	File                       string `json:"-"`
	Object
}

// DataSource is data_sources/<name>/config.json (services/<name>/config.json
// in v1 layouts) with the rules of its collections.
type DataSource struct {
	Name         string                `json:"name"`
	Type         string                `json:"type"`
	Config       *DataSourceConfig     `json:"config,omitempty"`
	SecretConfig map[string]StringList `json:"secret_config,omitempty"`
	Version      int                   `json:"version,omitempty"`
	File         string                `json:"-"`
	// DefaultRule is default_rule.json, kept raw for the rules engine.
	DefaultRule *RawFile `json:"-"`
	// Collections are sorted by database, then collection.
	Collections []*Collection `json:"-"`
	Object
}

// Collection returns the rules of db.coll, or nil.
func (d *DataSource) Collection(db, coll string) *Collection {
	for _, c := range d.Collections {
		if c.Database == db && c.Collection == coll {
			return c
		}
	}
	return nil
}

// DataSourceConfig is the `config` object of a data source.
type DataSourceConfig struct {
	ClusterName         string `json:"clusterName,omitempty"`
	ReadPreference      string `json:"readPreference,omitempty"`
	WireProtocolEnabled bool   `json:"wireProtocolEnabled,omitempty"`
	URI                 string `json:"uri,omitempty"`
	DataLakeName        string `json:"dataLakeName,omitempty"`
	Object
}

// Collection is the rule set of one namespace. The folder path names it;
// rules and schema stay raw JSON because the rules engine and the schema
// validator parse them with their own error reporting.
type Collection struct {
	Database   string
	Collection string
	// Rules is rules.json, nil when the folder has none.
	Rules *RawFile
	// Schema is schema.json, nil when absent.
	Schema *RawFile
	// Relationships is relationships.json keyed by source field path.
	Relationships     map[string]*Relationship
	RelationshipsFile string
}

// Namespace is "<database>.<collection>".
func (c *Collection) Namespace() string { return c.Database + "." + c.Collection }

// Relationship is one entry of relationships.json.
type Relationship struct {
	Ref        string `json:"ref"`
	SourceKey  string `json:"source_key,omitempty"`
	ForeignKey string `json:"foreign_key"`
	IsList     bool   `json:"is_list"`
	Object
}

// RawFile is a JSON document kept as written, with the file it came from
// (relative to the app directory) so later parsers can report locations.
type RawFile struct {
	File string
	JSON json.RawMessage
}

// Function is one functions/config.json entry with its source.
type Function struct {
	Name                    string          `json:"name"`
	Private                 bool            `json:"private"`
	CanEvaluate             json.RawMessage `json:"can_evaluate,omitempty"`
	DisableArgLogs          bool            `json:"disable_arg_logs,omitempty"`
	RunAsSystem             bool            `json:"run_as_system,omitempty"`
	RunAsUserID             string          `json:"run_as_user_id,omitempty"`
	RunAsUserIDScriptSource string          `json:"run_as_user_id_script_source,omitempty"`
	// Source is the JavaScript source, byte for byte.
	Source string `json:"-"`
	// SourceFile is the .js file the source came from.
	SourceFile string `json:"-"`
	Object
}

// Trigger is triggers/<name>.json.
type Trigger struct {
	Name            string                     `json:"name"`
	Type            string                     `json:"type"`
	Disabled        bool                       `json:"disabled"`
	Config          *TriggerConfig             `json:"config,omitempty"`
	EventProcessors map[string]*EventProcessor `json:"event_processors,omitempty"`
	// FunctionName and FunctionID are the legacy top-level handler; Load
	// moves a top-level function_name into event_processors.
	FunctionName string          `json:"function_name,omitempty"`
	FunctionID   string          `json:"function_id,omitempty"`
	ErrorHandler json.RawMessage `json:"error_handler,omitempty"`
	File         string          `json:"-"`
	Object
}

// HandlerFunction is the name of the function the trigger calls, or "" for
// a non-function processor (AWS EventBridge).
func (t *Trigger) HandlerFunction() string {
	if p := t.EventProcessors["FUNCTION"]; p != nil && p.Config != nil {
		return p.Config.FunctionName
	}
	return t.FunctionName
}

// TriggerConfig holds the `config` keys of all trigger types.
type TriggerConfig struct {
	// DATABASE
	ServiceName              string          `json:"service_name,omitempty"`
	ServiceID                string          `json:"service_id,omitempty"`
	Database                 string          `json:"database,omitempty"`
	Collection               string          `json:"collection,omitempty"`
	OperationTypes           []string        `json:"operation_types,omitempty"`
	Match                    json.RawMessage `json:"match,omitempty"`
	Project                  json.RawMessage `json:"project,omitempty"`
	FullDocument             bool            `json:"full_document,omitempty"`
	FullDocumentBeforeChange bool            `json:"full_document_before_change,omitempty"`
	TolerateResumeErrors     bool            `json:"tolerate_resume_errors,omitempty"`
	Unordered                bool            `json:"unordered,omitempty"`
	MaximumThroughput        bool            `json:"maximum_throughput,omitempty"`
	// AUTHENTICATION; operation_type is a string in exports, an array in
	// one docs page.
	OperationType StringList `json:"operation_type,omitempty"`
	Providers     []string   `json:"providers,omitempty"`
	// SCHEDULED
	Schedule string `json:"schedule,omitempty"`
	// DATABASE and SCHEDULED
	SkipCatchupEvents bool `json:"skip_catchup_events,omitempty"`
	Object
}

// EventProcessor is one entry of a trigger's event_processors.
type EventProcessor struct {
	Config *ProcessorConfig `json:"config,omitempty"`
	Object
}

// ProcessorConfig holds the keys of FUNCTION and AWS_EVENTBRIDGE processors.
type ProcessorConfig struct {
	FunctionName        string `json:"function_name,omitempty"`
	FunctionID          string `json:"function_id,omitempty"`
	AccountID           string `json:"account_id,omitempty"`
	Region              string `json:"region,omitempty"`
	ExtendedJSONEnabled bool   `json:"extended_json_enabled,omitempty"`
	Object
}

// Value is values/<name>.json.
type Value struct {
	Name       string          `json:"name"`
	Value      json.RawMessage `json:"value"`
	FromSecret bool            `json:"from_secret"`
	File       string          `json:"-"`
	Object
}

// SecretName is the secret a secret-backed value exposes ("" otherwise).
func (v *Value) SecretName() string {
	if !v.FromSecret {
		return ""
	}
	var s string
	_ = json.Unmarshal(v.Value, &s)
	return s
}

// Environment is environments/<tag>.json.
type Environment struct {
	Values map[string]json.RawMessage `json:"values"`
	File   string                     `json:"-"`
	Object
}

// GraphQL is the graphql/ directory.
type GraphQL struct {
	Config             *GraphQLConfig             `json:"-"`
	ValidationSettings *GraphQLValidationSettings `json:"-"`
	CustomResolvers    []*CustomResolver          `json:"-"`
}

// GraphQLConfig is graphql/config.json.
type GraphQLConfig struct {
	UseNaturalPluralization    bool `json:"use_natural_pluralization"`
	DisableSchemaIntrospection bool `json:"disable_schema_introspection"`
	Object
}

// GraphQLValidationSettings is graphql/validation_settings.json.
type GraphQLValidationSettings struct {
	ReadValidationAction  string `json:"read_validation_action,omitempty"`
	ReadValidationLevel   string `json:"read_validation_level,omitempty"`
	WriteValidationAction string `json:"write_validation_action,omitempty"`
	WriteValidationLevel  string `json:"write_validation_level,omitempty"`
	Object
}

// CustomResolver is graphql/custom_resolvers/<name>.json.
type CustomResolver struct {
	OnType            string          `json:"on_type"`
	FieldName         string          `json:"field_name"`
	FunctionName      string          `json:"function_name"`
	InputType         json.RawMessage `json:"input_type,omitempty"`
	InputTypeFormat   string          `json:"input_type_format,omitempty"`
	PayloadType       json.RawMessage `json:"payload_type,omitempty"`
	PayloadTypeFormat string          `json:"payload_type_format,omitempty"`
	File              string          `json:"-"`
	Object
}

// HTTPSEndpoint is one entry of https_endpoints/config.json.
type HTTPSEndpoint struct {
	Route               string `json:"route"`
	HTTPMethod          string `json:"http_method"`
	FunctionName        string `json:"function_name"`
	ValidationMethod    string `json:"validation_method,omitempty"`
	SecretName          string `json:"secret_name,omitempty"`
	RespondResult       bool   `json:"respond_result"`
	FetchCustomUserData bool   `json:"fetch_custom_user_data"`
	CreateUserOnAuth    bool   `json:"create_user_on_auth"`
	Disabled            bool   `json:"disabled"`
	ReturnType          string `json:"return_type,omitempty"`
	Object
}

// DataAPIConfig is https_endpoints/data_api_config.json.
type DataAPIConfig struct {
	Disabled                bool            `json:"disabled"`
	Versions                []string        `json:"versions,omitempty"`
	ReturnType              string          `json:"return_type,omitempty"`
	CreateUserOnAuth        bool            `json:"create_user_on_auth,omitempty"`
	RunAsSystem             bool            `json:"run_as_system,omitempty"`
	RunAsUserID             string          `json:"run_as_user_id,omitempty"`
	RunAsUserIDScriptSource string          `json:"run_as_user_id_script_source,omitempty"`
	ValidationMethod        string          `json:"validation_method,omitempty"`
	SecretName              string          `json:"secret_name,omitempty"`
	CanEvaluate             json.RawMessage `json:"can_evaluate,omitempty"`
	FetchCustomUserData     bool            `json:"fetch_custom_user_data,omitempty"`
	LogFunctionArguments    bool            `json:"log_function_arguments,omitempty"`
	File                    string          `json:"-"`
	Object
}

// SyncConfig is sync/config.json. Legacy flexible-sync permissions stay
// raw in Permissions for the rules engine to convert.
type SyncConfig struct {
	Type                           string              `json:"type,omitempty"`
	State                          string              `json:"state,omitempty"`
	DevelopmentModeEnabled         bool                `json:"development_mode_enabled"`
	ServiceName                    string              `json:"service_name,omitempty"`
	DatabaseName                   string              `json:"database_name,omitempty"`
	ClientMaxOfflineDays           int                 `json:"client_max_offline_days,omitempty"`
	IsRecoveryModeDisabled         bool                `json:"is_recovery_mode_disabled,omitempty"`
	QueryableFieldsNames           []string            `json:"queryable_fields_names,omitempty"`
	IndexedQueryableFieldsNames    []string            `json:"indexed_queryable_fields_names,omitempty"`
	CollectionQueryableFieldsNames map[string][]string `json:"collection_queryable_fields_names,omitempty"`
	AsymmetricTables               []string            `json:"asymmetric_tables,omitempty"`
	LastDisabled                   int64               `json:"last_disabled,omitempty"`
	Partition                      *SyncPartition      `json:"partition,omitempty"`
	Permissions                    json.RawMessage     `json:"permissions,omitempty"`
	File                           string              `json:"-"`
	Object
}

// SyncPartition is the partition-based sync settings.
type SyncPartition struct {
	Key         string          `json:"key"`
	Type        string          `json:"type"`
	Required    bool            `json:"required"`
	Permissions json.RawMessage `json:"permissions,omitempty"`
	Object
}

// Hosting is the hosting/ directory, kept raw: static hosting is deprecated
// upstream and Atoll only carries it through an export.
type Hosting struct {
	Config   *RawFile
	Metadata *RawFile
	// Files maps paths under hosting/files/ to their bytes.
	Files map[string][]byte
}

// LegacyService is a third-party service directory of an old layout,
// services/<name>/ or http_endpoints/<name>/, kept file by file.
type LegacyService struct {
	Name string
	// Dir is where it was read, e.g. "services/twilio".
	Dir string
	// Files maps paths relative to Dir to their bytes.
	Files map[string][]byte
}

// StringList is a list of strings that may be written as a single string;
// it remembers which, so a round trip does not change the file's shape.
type StringList struct {
	Values []string
	Single bool
}

// UnmarshalJSON accepts a string or an array of strings.
func (s *StringList) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*s = StringList{Values: []string{one}, Single: true}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return fmt.Errorf("expected a string or an array of strings, got %s", describe(b))
	}
	*s = StringList{Values: many}
	return nil
}

// MarshalJSON writes the shape that was read.
func (s StringList) MarshalJSON() ([]byte, error) {
	if s.Single && len(s.Values) == 1 {
		return json.Marshal(s.Values[0])
	}
	if s.Values == nil {
		return []byte("null"), nil
	}
	return json.Marshal(s.Values)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
