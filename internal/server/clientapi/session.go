package clientapi

import (
	"net/http"

	"github.com/atollhq/atoll/internal/server/apierror"
)

// refreshSession answers POST /api/client/v2.0/auth/session: a new access
// token for the bearer refresh token, minted from current custom user data
// (this is realm-web's refreshCustomData, client-protocol §2.5 and §7).
// A bad refresh token is 401 InvalidSession, on which realm-web logs the
// user out.
func (a *API) refreshSession(w http.ResponseWriter, r *http.Request) {
	tok, ok := bearer(r)
	if !ok {
		apierror.Write(w, errMissingAuth)
		return
	}
	if e := a.drainEmpty(w, r); e != nil {
		apierror.Write(w, e)
		return
	}
	access, err := a.auth.RefreshAccessToken(r.Context(), tok)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, struct {
		AccessToken string `json:"access_token"`
	}{access})
}

// logout answers DELETE /api/client/v2.0/auth/session: the refresh token's
// session ends, and with it every access token minted from it. An unknown
// session is 401 "invalid session: failed to find refresh token", which
// realm-web accepts after deleting a user (client-protocol §2.6).
func (a *API) logout(w http.ResponseWriter, r *http.Request) {
	tok, ok := bearer(r)
	if !ok {
		apierror.Write(w, errMissingAuth)
		return
	}
	if e := a.drainEmpty(w, r); e != nil {
		apierror.Write(w, e)
		return
	}
	if err := a.auth.Logout(r.Context(), tok); err != nil {
		a.fail(w, r, err)
		return
	}
	writeNoContent(w)
}
