package clientapi

import (
	"net/http"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/auth"
	"github.com/atollhq/atoll/internal/server/apierror"
)

// The email/password helper routes, POST
// .../app/{appId}/auth/providers/local-userpass/<suffix> (client-protocol
// §2.10). realm-web sends the current user's access token on them; it is
// ignored, as App Services does, since validating it could start a
// refresh-and-retry cycle. Responses carry no body: realm-web ignores it.

// userpassBody runs the checks every helper route shares (app, provider
// enabled, a JSON object body) and returns the body.
func (a *API) userpassBody(w http.ResponseWriter, r *http.Request) (bson.D, bool) {
	if !a.checkApp(w, r) {
		return nil, false
	}
	if !a.providerEnabled(auth.ProviderUserpass) {
		apierror.Write(w, providerNotFound(auth.ProviderUserpass))
		return nil, false
	}
	body, e := a.readBody(w, r, false)
	if e != nil {
		apierror.Write(w, e)
		return nil, false
	}
	return body, true
}

// strings extracts required string fields in order; the first problem is
// written.
func stringsOf(w http.ResponseWriter, body bson.D, keys ...string) ([]string, bool) {
	out := make([]string, len(keys))
	for i, k := range keys {
		s, e := stringField(body, k)
		if e != nil {
			apierror.Write(w, e)
			return nil, false
		}
		out[i] = s
	}
	return out, true
}

// register: {email, password} → 201. Whether the account is confirmed at
// once, by function or by emailed link is the provider config's business.
func (a *API) register(w http.ResponseWriter, r *http.Request) {
	body, ok := a.userpassBody(w, r)
	if !ok {
		return
	}
	f, ok := stringsOf(w, body, "email", "password")
	if !ok {
		return
	}
	if err := a.auth.RegisterUser(r.Context(), clientIP(r), f[0], f[1]); err != nil {
		a.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusCreated)
}

// confirm: {token, tokenId} → 204.
func (a *API) confirm(w http.ResponseWriter, r *http.Request) {
	body, ok := a.userpassBody(w, r)
	if !ok {
		return
	}
	f, ok := stringsOf(w, body, "token", "tokenId")
	if !ok {
		return
	}
	if err := a.auth.ConfirmUser(r.Context(), clientIP(r), f[0], f[1]); err != nil {
		a.fail(w, r, err)
		return
	}
	writeNoContent(w)
}

// resendConfirmation: {email} → 204.
func (a *API) resendConfirmation(w http.ResponseWriter, r *http.Request) {
	body, ok := a.userpassBody(w, r)
	if !ok {
		return
	}
	f, ok := stringsOf(w, body, "email")
	if !ok {
		return
	}
	if err := a.auth.ResendConfirmation(r.Context(), clientIP(r), f[0]); err != nil {
		a.fail(w, r, err)
		return
	}
	writeNoContent(w)
}

// retryConfirmation: {email} → 204, rerunning the confirmation function.
func (a *API) retryConfirmation(w http.ResponseWriter, r *http.Request) {
	body, ok := a.userpassBody(w, r)
	if !ok {
		return
	}
	f, ok := stringsOf(w, body, "email")
	if !ok {
		return
	}
	if err := a.auth.RetryConfirmation(r.Context(), clientIP(r), f[0]); err != nil {
		a.fail(w, r, err)
		return
	}
	writeNoContent(w)
}

// resetPassword: {token, tokenId, password} → 204.
func (a *API) resetPassword(w http.ResponseWriter, r *http.Request) {
	body, ok := a.userpassBody(w, r)
	if !ok {
		return
	}
	f, ok := stringsOf(w, body, "token", "tokenId", "password")
	if !ok {
		return
	}
	if err := a.auth.ResetPassword(r.Context(), clientIP(r), f[0], f[1], f[2]); err != nil {
		a.fail(w, r, err)
		return
	}
	writeNoContent(w)
}

// sendPasswordReset: {email} → 204 whether or not the account exists.
func (a *API) sendPasswordReset(w http.ResponseWriter, r *http.Request) {
	body, ok := a.userpassBody(w, r)
	if !ok {
		return
	}
	f, ok := stringsOf(w, body, "email")
	if !ok {
		return
	}
	if err := a.auth.SendPasswordReset(r.Context(), clientIP(r), f[0]); err != nil {
		a.fail(w, r, err)
		return
	}
	writeNoContent(w)
}

// callResetFunction: {email, password, arguments} → 204 when the reset
// function answers success.
func (a *API) callResetFunction(w http.ResponseWriter, r *http.Request) {
	body, ok := a.userpassBody(w, r)
	if !ok {
		return
	}
	f, ok := stringsOf(w, body, "email", "password")
	if !ok {
		return
	}
	var args bson.A
	if v, present := field(body, "arguments"); present && v != nil {
		a2, isArr := v.(bson.A)
		if !isArr {
			apierror.Write(w, apierror.New(http.StatusBadRequest, apierror.CodeInvalidParameter,
				`parameter "arguments" must be an array`))
			return
		}
		args = a2
	}
	if err := a.auth.CallResetFunction(r.Context(), clientIP(r), f[0], f[1], args); err != nil {
		a.fail(w, r, err)
		return
	}
	writeNoContent(w)
}
