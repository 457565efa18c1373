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

// userpassAction builds a helper route that reads the named string fields
// of the body, in order, passes them to do and answers status when do
// succeeds.
func (a *API) userpassAction(status int, fields []string, do func(r *http.Request, f []string) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, ok := a.userpassBody(w, r)
		if !ok {
			return
		}
		f, ok := stringsOf(w, body, fields...)
		if !ok {
			return
		}
		if err := do(r, f); err != nil {
			a.fail(w, r, err)
			return
		}
		if status == http.StatusNoContent {
			writeNoContent(w)
			return
		}
		w.WriteHeader(status)
	}
}

// register: {email, password} → 201. Whether the account is confirmed at
// once, by function or by emailed link is the provider config's business.
func (a *API) register() http.HandlerFunc {
	return a.userpassAction(http.StatusCreated, []string{"email", "password"}, func(r *http.Request, f []string) error {
		return a.auth.RegisterUser(r.Context(), clientIP(r), f[0], f[1])
	})
}

// confirm: {token, tokenId} → 204.
func (a *API) confirm() http.HandlerFunc {
	return a.userpassAction(http.StatusNoContent, []string{"token", "tokenId"}, func(r *http.Request, f []string) error {
		return a.auth.ConfirmUser(r.Context(), clientIP(r), f[0], f[1])
	})
}

// resendConfirmation: {email} → 204.
func (a *API) resendConfirmation() http.HandlerFunc {
	return a.userpassAction(http.StatusNoContent, []string{"email"}, func(r *http.Request, f []string) error {
		return a.auth.ResendConfirmation(r.Context(), clientIP(r), f[0])
	})
}

// retryConfirmation: {email} → 204, rerunning the confirmation function.
func (a *API) retryConfirmation() http.HandlerFunc {
	return a.userpassAction(http.StatusNoContent, []string{"email"}, func(r *http.Request, f []string) error {
		return a.auth.RetryConfirmation(r.Context(), clientIP(r), f[0])
	})
}

// resetPassword: {token, tokenId, password} → 204.
func (a *API) resetPassword() http.HandlerFunc {
	return a.userpassAction(http.StatusNoContent, []string{"token", "tokenId", "password"}, func(r *http.Request, f []string) error {
		return a.auth.ResetPassword(r.Context(), clientIP(r), f[0], f[1], f[2])
	})
}

// sendPasswordReset: {email} → 204 whether or not the account exists.
func (a *API) sendPasswordReset() http.HandlerFunc {
	return a.userpassAction(http.StatusNoContent, []string{"email"}, func(r *http.Request, f []string) error {
		return a.auth.SendPasswordReset(r.Context(), clientIP(r), f[0])
	})
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
