package clientapi

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/atollhq/atoll/internal/server/apierror"
)

// origins decides which browser origins may call the client API, from the
// app's `allowed_request_origins`:
//   - unset or empty: every origin (App Services' behaviour for an app
//     without the setting);
//   - set: only the listed origins; a request carrying any other Origin is
//     refused (preflight and actual request alike).
//
// Requests without an Origin header (Node, curl, server-side code) are not
// cross-origin browser requests and are not affected.
type origins struct {
	any     bool
	allowed map[string]bool
}

func newOrigins(list []string) origins {
	o := origins{any: len(list) == 0, allowed: map[string]bool{}}
	for _, s := range list {
		if n, ok := normalizeOrigin(s); ok {
			o.allowed[n] = true
		}
	}
	return o
}

// normalizeOrigin lower-cases scheme and host and drops a default port, so
// `https://x:443` in the config matches the `https://x` browsers send.
func normalizeOrigin(s string) (string, bool) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || u.Scheme == "" || u.Host == "" {
		return "", false
	}
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	if strings.Contains(host, ":") { // IPv6 literal
		host = "[" + host + "]"
	}
	port := u.Port()
	if (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
		port = ""
	}
	if port != "" {
		host += ":" + port
	}
	return scheme + "://" + host, true
}

func (o origins) allows(origin string) bool {
	if o.any {
		return true
	}
	n, ok := normalizeOrigin(origin)
	return ok && o.allowed[n]
}

const (
	corsAllowMethods = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
	corsAllowHeaders = "Authorization, Content-Type, Accept, X-Requested-With"
	corsMaxAge       = "600"
)

// cors wraps a client API handler: it adds the CORS response headers for
// allowed origins and refuses disallowed ones before the handler runs.
func (a *API) cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin != "" {
			if !a.origins.allows(origin) {
				apierror.Write(w, apierror.New(http.StatusForbidden, apierror.CodeDomainNotAllowed,
					"request origin is not allowed for this app"))
				return
			}
			h := w.Header()
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Allow-Credentials", "true")
			h.Set("Access-Control-Expose-Headers", "X-Baas-Location")
			h.Add("Vary", "Origin")
		}
		next.ServeHTTP(w, r)
	})
}

// preflight answers CORS preflight requests for every client API path.
// Allowed origins get the methods and headers realm-web uses; others get
// 403 with no CORS headers, which the browser reports as a CORS failure.
func (a *API) preflight(w http.ResponseWriter, r *http.Request) {
	origin := r.Header.Get("Origin")
	if origin == "" || !a.origins.allows(origin) {
		apierror.Write(w, apierror.New(http.StatusForbidden, apierror.CodeDomainNotAllowed,
			"request origin is not allowed for this app"))
		return
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Allow-Credentials", "true")
	h.Set("Access-Control-Allow-Methods", corsAllowMethods)
	h.Set("Access-Control-Allow-Headers", corsAllowHeaders)
	h.Set("Access-Control-Max-Age", corsMaxAge)
	h.Add("Vary", "Origin")
	h.Add("Vary", "Access-Control-Request-Method")
	h.Add("Vary", "Access-Control-Request-Headers")
	w.WriteHeader(http.StatusNoContent)
}
