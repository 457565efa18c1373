package clientapi

import (
	"context"
	"net/http"

	"github.com/atollhq/atoll/internal/auth"
	"github.com/atollhq/atoll/internal/server/apierror"
)

// User API keys, /api/client/v2.0/auth/api_keys[/{id}[/enable|/disable]]
// (client-protocol §2.11). Every route takes the REFRESH token; `_id` and
// `key` are plain strings, and a key's value is shown only by create.

// apiKeySession verifies the refresh token and checks the api-key provider
// is enabled (keys of a disabled provider cannot log in, so managing them
// is refused too).
func (a *API) apiKeySession(w http.ResponseWriter, r *http.Request) (*auth.Session, bool) {
	sess, _, e := a.refreshSessionOf(r)
	if e != nil {
		apierror.Write(w, e)
		return nil, false
	}
	if !a.providerEnabled(auth.ProviderAPIKey) {
		apierror.Write(w, providerNotFound(auth.ProviderAPIKey))
		return nil, false
	}
	return sess, true
}

// createAPIKey: {name} → 201 {_id, key, name, disabled}.
func (a *API) createAPIKey(w http.ResponseWriter, r *http.Request) {
	sess, ok := a.apiKeySession(w, r)
	if !ok {
		return
	}
	body, e := a.readBody(w, r, false)
	if e != nil {
		apierror.Write(w, e)
		return
	}
	name, e := stringField(body, "name")
	if e != nil {
		apierror.Write(w, e)
		return
	}
	key, err := a.auth.CreateUserAPIKey(r.Context(), sess, name)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, apiKeyResponse{ID: key.ID, Key: key.Key, Name: key.Name, Disabled: key.Disabled})
}

// listAPIKeys → 200 [{_id, name, disabled}] ([] when there are none).
func (a *API) listAPIKeys(w http.ResponseWriter, r *http.Request) {
	sess, ok := a.apiKeySession(w, r)
	if !ok {
		return
	}
	keys, err := a.auth.UserAPIKeys(r.Context(), sess)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := make([]apiKeyResponse, 0, len(keys))
	for _, k := range keys {
		out = append(out, apiKeyResponse{ID: k.ID, Name: k.Name, Disabled: k.Disabled})
	}
	writeJSON(w, http.StatusOK, out)
}

// getAPIKey → 200 {_id, name, disabled}, exactly (never the key).
func (a *API) getAPIKey(w http.ResponseWriter, r *http.Request) {
	sess, ok := a.apiKeySession(w, r)
	if !ok {
		return
	}
	k, err := a.auth.UserAPIKey(r.Context(), sess, r.PathValue("id"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, apiKeyResponse{ID: k.ID, Name: k.Name, Disabled: k.Disabled})
}

// enableAPIKey → 204.
func (a *API) enableAPIKey(w http.ResponseWriter, r *http.Request) {
	a.apiKeyAction(w, r, a.auth.EnableUserAPIKey)
}

// disableAPIKey → 204; sessions opened with the key end.
func (a *API) disableAPIKey(w http.ResponseWriter, r *http.Request) {
	a.apiKeyAction(w, r, a.auth.DisableUserAPIKey)
}

// deleteAPIKey → 204; 403 for the key backing the caller's own session.
func (a *API) deleteAPIKey(w http.ResponseWriter, r *http.Request) {
	a.apiKeyAction(w, r, a.auth.DeleteUserAPIKey)
}

func (a *API) apiKeyAction(w http.ResponseWriter, r *http.Request,
	act func(ctx context.Context, sess *auth.Session, id string) error) {
	sess, ok := a.apiKeySession(w, r)
	if !ok {
		return
	}
	if e := a.drainEmpty(w, r); e != nil {
		apierror.Write(w, e)
		return
	}
	if err := act(r.Context(), sess, r.PathValue("id")); err != nil {
		a.fail(w, r, err)
		return
	}
	writeNoContent(w)
}

// apiKeyResponse is a key as the client API shows it; Key only on create.
type apiKeyResponse struct {
	ID       string `json:"_id"`
	Key      string `json:"key,omitempty"`
	Name     string `json:"name"`
	Disabled bool   `json:"disabled"`
}
