package clientapi

import (
	"net/http"

	"github.com/atollhq/atoll/internal/server/apierror"
)

// deleteUser answers DELETE /api/client/v2.0/auth/delete: the access
// token's user is deleted with its identities and sessions (client-protocol
// §2.7). realm-web then logs out with the deleted user's refresh token and
// expects "failed to find refresh token".
func (a *API) deleteUser(w http.ResponseWriter, r *http.Request) {
	c, e := a.accessCaller(r)
	if e != nil {
		apierror.Write(w, e)
		return
	}
	if e := a.drainEmpty(w, r); e != nil {
		apierror.Write(w, e)
		return
	}
	if err := a.auth.DeleteUser(r.Context(), c.UserID); err != nil {
		a.fail(w, r, err)
		return
	}
	writeNoContent(w)
}
