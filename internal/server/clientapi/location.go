package clientapi

import (
	"encoding/json"
	"net/http"
	"strings"
)

// location answers GET /api/client/v2.0/app/{appId}/location. realm-web
// prefixes every later URL with `hostname` by string concatenation, so it
// carries scheme and port and never ends with "/".
func (a *API) location(w http.ResponseWriter, r *http.Request) {
	if !a.checkApp(w, r) {
		return
	}
	host := a.publicURL
	if host == "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		host = scheme + "://" + r.Host
	}
	host = strings.TrimRight(host, "/")
	ws := "ws" + strings.TrimPrefix(host, "http")
	writeJSON(w, http.StatusOK, locationResponse{
		DeploymentModel: a.deploymentModel,
		Location:        a.region,
		Hostname:        host,
		WSHostname:      ws,
	})
}

type locationResponse struct {
	DeploymentModel string `json:"deployment_model"`
	Location        string `json:"location"`
	Hostname        string `json:"hostname"`
	WSHostname      string `json:"ws_hostname"`
}

// writeJSON sends a plain JSON body (auth responses are plain JSON: API key
// ids must reach realm-web as strings, not ObjectIds).
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		writeInternal(w)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// writeNoContent answers 204 with no body and no Content-Type: realm-web
// treats a JSON content type with an empty body as an error.
func writeNoContent(w http.ResponseWriter) {
	w.WriteHeader(http.StatusNoContent)
}
