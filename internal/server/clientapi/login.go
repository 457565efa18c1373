package clientapi

import (
	"net/http"

	"github.com/atollhq/atoll/internal/auth"
	"github.com/atollhq/atoll/internal/server/apierror"
)

// login answers POST .../app/{appId}/auth/providers/{provider}/login, and
// with ?link=true adds the credential's identity to the bearer's user
// (client-protocol §2.1, §2.8).
//
// Order matters for "nothing is done on bad input": app id, provider name,
// link bearer, then the body; auth touches storage only after all of them
// passed.
func (a *API) login(w http.ResponseWriter, r *http.Request) {
	if !a.checkApp(w, r) {
		return
	}
	provider := r.PathValue("provider")
	if !a.providerEnabled(provider) {
		apierror.Write(w, providerNotFound(provider))
		return
	}
	var link *auth.Caller
	if linking(r) {
		c, e := a.accessCaller(r)
		if e != nil {
			apierror.Write(w, e)
			return
		}
		link = c
	}
	body, e := a.readBody(w, r, true)
	if e != nil {
		apierror.Write(w, e)
		return
	}
	res, err := a.auth.Login(r.Context(), auth.LoginRequest{
		Provider: provider,
		Body:     body,
		ClientIP: clientIP(r),
		Link:     link,
	})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if res.DeviceID == "" {
		res.DeviceID = auth.DefaultDeviceID
	}
	writeJSON(w, http.StatusOK, res)
}

// linking reports ?link=true (App Services accepts "true" only).
func linking(r *http.Request) bool {
	return r.URL.Query().Get("link") == "true"
}
