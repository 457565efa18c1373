// Package clientapi serves the client HTTP API that the unmodified
// realm-web SDK (and other App Services SDKs) speak: location, login and
// linking per auth provider, profile, session refresh and logout, user
// deletion, the email/password helper routes, user API keys, function
// calls, the MongoDB service of each data source and watch() streams, under
// /api/client/v2.0 (client-protocol.md §1–§7 and §10).
//
// Handlers only translate HTTP to internal/auth, internal/dataaccess and
// FunctionCaller calls and back: request bodies are decoded as Extended
// JSON, auth responses are plain JSON, function and service results are
// canonical Extended JSON, watch streams are server-sent events, and every
// error is written in the App Services envelope by internal/server/apierror.
// One file per endpoint family.
package clientapi

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/atollhq/atoll/internal/appconfig"
	"github.com/atollhq/atoll/internal/auth"
	"github.com/atollhq/atoll/internal/dataaccess"
	"github.com/atollhq/atoll/internal/expr"
	"github.com/atollhq/atoll/internal/server/apierror"
)

// Config is what the client API needs.
type Config struct {
	// App is the loaded app; its app id must match the {appId} path
	// segment, its providers decide which logins exist, its
	// allowed_request_origins drive CORS.
	App *appconfig.App
	// Auth is the app's auth service.
	Auth *auth.Service
	// Logger receives request failures (never tokens or passwords).
	Logger *slog.Logger
	// PublicURL, when set, is the `hostname` the location endpoint returns
	// (scheme://host[:port], no trailing slash); otherwise it is derived
	// from the request's Host.
	PublicURL string
	// MaxBodyBytes bounds request bodies; 0 means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// Data serves the MongoDB service calls (`functions/call` with a
	// `service`) and watch streams; nil answers ServiceNotFound.
	Data *dataaccess.Access
	// Functions runs app functions (`functions/call` without a
	// `service`); nil answers FunctionNotFound for every name.
	Functions FunctionCaller
	// RuleFunctions, when set, gives the rules of a data request the
	// functions `%function` calls, for the request's caller (as
	// context.user) and %%request; nil leaves %function failing.
	RuleFunctions func(caller dataaccess.Caller, req *expr.Request) expr.FunctionCaller
	// Done, when closed, ends every open watch stream, so a server
	// shutdown does not wait for clients that never hang up.
	Done <-chan struct{}
	// WatchHeartbeat is how often idle watch streams get a comment line;
	// 0 means DefaultWatchHeartbeat.
	WatchHeartbeat time.Duration
}

// API is the client API of one app.
type API struct {
	app             *appconfig.App
	auth            *auth.Service
	log             *slog.Logger
	publicURL       string
	maxBody         int64
	origins         origins
	deploymentModel string
	region          string
	data            *dataaccess.Access
	functions       FunctionCaller
	ruleFunctions   func(dataaccess.Caller, *expr.Request) expr.FunctionCaller
	done            <-chan struct{}
	watchHeartbeat  time.Duration
}

// New builds the client API.
func New(cfg Config) (*API, error) {
	if cfg.App == nil || cfg.Auth == nil {
		return nil, errors.New("clientapi: App and Auth are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	a := &API{
		app:             cfg.App,
		auth:            cfg.Auth,
		log:             cfg.Logger,
		publicURL:       strings.TrimRight(cfg.PublicURL, "/"),
		maxBody:         cfg.MaxBodyBytes,
		origins:         newOrigins(cfg.App.Root.AllowedRequestOrigins),
		deploymentModel: cfg.App.Root.DeploymentModel,
		region:          cfg.App.Root.Location,
		data:            cfg.Data,
		functions:       cfg.Functions,
		ruleFunctions:   cfg.RuleFunctions,
		done:            cfg.Done,
		watchHeartbeat:  cfg.WatchHeartbeat,
	}
	if a.watchHeartbeat <= 0 {
		a.watchHeartbeat = DefaultWatchHeartbeat
	}
	if a.functions == nil {
		a.functions = noFunctions{}
	}
	if a.deploymentModel == "" {
		a.deploymentModel = "GLOBAL"
	}
	if a.region == "" {
		a.region = "US-VA"
	}
	return a, nil
}

// Mux is where routes are registered (*http.ServeMux, *server.Server).
type Mux interface {
	Handle(pattern string, h http.Handler)
}

// Prefix is the root of the client API.
const Prefix = "/api/client/v2.0"

// Register mounts every client API route on mux.
func (a *API) Register(mux Mux) {
	app := Prefix + "/app/{appId}"
	user := Prefix + "/auth"
	routes := []struct {
		pattern string
		h       http.HandlerFunc
	}{
		{"GET " + app + "/location", a.location},
		{"POST " + app + "/auth/providers/{provider}/login", a.login},

		{"POST " + app + "/auth/providers/local-userpass/register", a.register()},
		{"POST " + app + "/auth/providers/local-userpass/confirm", a.confirm()},
		{"POST " + app + "/auth/providers/local-userpass/confirm/send", a.resendConfirmation()},
		{"POST " + app + "/auth/providers/local-userpass/confirm/call", a.retryConfirmation()},
		{"POST " + app + "/auth/providers/local-userpass/reset", a.resetPassword()},
		{"POST " + app + "/auth/providers/local-userpass/reset/send", a.sendPasswordReset()},
		{"POST " + app + "/auth/providers/local-userpass/reset/call", a.callResetFunction},

		{"POST " + app + "/functions/call", a.callFunction},
		{"GET " + app + "/functions/call", a.callFunctionStreaming},

		{"GET " + user + "/profile", a.profile},
		{"POST " + user + "/session", a.refreshSession},
		{"DELETE " + user + "/session", a.logout},
		{"DELETE " + user + "/delete", a.deleteUser},

		{"POST " + user + "/api_keys", a.createAPIKey},
		{"GET " + user + "/api_keys", a.listAPIKeys},
		{"GET " + user + "/api_keys/{id}", a.getAPIKey},
		{"DELETE " + user + "/api_keys/{id}", a.deleteAPIKey},
		{"PUT " + user + "/api_keys/{id}/enable", a.enableAPIKey},
		{"PUT " + user + "/api_keys/{id}/disable", a.disableAPIKey},
	}
	for _, rt := range routes {
		mux.Handle(rt.pattern, a.cors(rt.h))
	}
	// Preflight for every client path; unknown client paths answer in the
	// App Services envelope instead of the mux's plain-text 404/405.
	mux.Handle("OPTIONS "+Prefix+"/", http.HandlerFunc(a.preflight))
	mux.Handle(Prefix+"/", a.cors(http.HandlerFunc(notFound)))
}

// notFound answers client API paths that match no route.
func notFound(w http.ResponseWriter, r *http.Request) {
	apierror.Write(w, apierror.New(http.StatusNotFound, apierror.CodeNotFound,
		"no such client API route"))
}

// checkApp answers 404 unless {appId} names the loaded app.
func (a *API) checkApp(w http.ResponseWriter, r *http.Request) bool {
	id := r.PathValue("appId")
	if id == a.app.AppID {
		return true
	}
	apierror.Write(w, apierror.New(http.StatusNotFound, apierror.CodeAppNotFound,
		fmt.Sprintf("cannot find app using Client App ID '%s'", truncate(id, 64))))
	return false
}

// truncate bounds how much of client input an error message echoes.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// bearer returns the token of an `Authorization: Bearer` header.
func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	const p = "bearer "
	if len(h) <= len(p) || !strings.EqualFold(h[:len(p)], p) {
		return "", false
	}
	tok := strings.TrimSpace(h[len(p):])
	return tok, tok != ""
}

// errMissingAuth is the answer to a request without a bearer token. It is
// not InvalidSession, so realm-web does not start a refresh loop over it.
var errMissingAuth = apierror.New(http.StatusUnauthorized, "MissingAuthReq", "must authenticate first")

// accessCaller verifies the access token of a request.
func (a *API) accessCaller(r *http.Request) (*auth.Caller, *apierror.Error) {
	tok, ok := bearer(r)
	if !ok {
		return nil, errMissingAuth
	}
	c, err := a.auth.VerifyAccessToken(r.Context(), tok)
	if err != nil {
		return nil, a.authError(r, err)
	}
	return c, nil
}

// refreshSession verifies the refresh token of a request.
func (a *API) refreshSessionOf(r *http.Request) (*auth.Session, string, *apierror.Error) {
	tok, ok := bearer(r)
	if !ok {
		return nil, "", errMissingAuth
	}
	s, err := a.auth.VerifyRefreshToken(r.Context(), tok)
	if err != nil {
		return nil, "", a.authError(r, err)
	}
	return s, tok, nil
}

// authError maps an error from internal/auth to the envelope. Unexpected
// errors are logged and answered as a bare 500.
func (a *API) authError(r *http.Request, err error) *apierror.Error {
	var ae *auth.Error
	if errors.As(err, &ae) {
		if ae.Code == auth.CodeInternal {
			a.log.Error("client API: auth failure", "route", r.Pattern, "error", err.Error())
			return apierror.Internal
		}
		return apierror.New(ae.Code.HTTPStatus(), string(ae.Code), ae.Message)
	}
	if e, ok := apierror.As(err); ok {
		return e
	}
	a.log.Error("client API: request failed", "route", r.Pattern, "error", err.Error())
	return apierror.Internal
}

// fail writes err (from auth or an *apierror.Error).
func (a *API) fail(w http.ResponseWriter, r *http.Request, err error) {
	apierror.Write(w, a.authError(r, err))
}

func writeInternal(w http.ResponseWriter) { apierror.Write(w, apierror.Internal) }

// clientIP is the peer address, the key of the auth rate limits.
// Forwarded headers are not trusted: a proxy in front of Atoll would make
// every client share its address, which fails safe (stricter limits).
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// providerEnabled reports whether the app has an enabled provider with this
// name. It is checked before any body is read or storage touched.
func (a *API) providerEnabled(name string) bool {
	p, ok := a.app.AuthProviders[name]
	return ok && p != nil && !p.Disabled
}

func providerNotFound(name string) *apierror.Error {
	return apierror.New(http.StatusNotFound, apierror.CodeAuthProviderNotFound,
		fmt.Sprintf("authentication via '%s' is unsupported", truncate(name, 64)))
}
