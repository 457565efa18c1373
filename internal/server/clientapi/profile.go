package clientapi

import (
	"encoding/json"
	"net/http"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/server/apierror"
)

// profile answers GET /api/client/v2.0/auth/profile with the caller's
// user: realm-web requires `type`, `identities` (an array) and `data` (an
// object) and fails the login without them (client-protocol §2.4).
func (a *API) profile(w http.ResponseWriter, r *http.Request) {
	c, e := a.accessCaller(r)
	if e != nil {
		apierror.Write(w, e)
		return
	}
	p, err := a.auth.Profile(r.Context(), c)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	data, err := rawObject(p.Data)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := profileResponse{
		UserID:     p.UserID,
		DomainID:   p.DomainID,
		Type:       p.Type,
		Data:       data,
		Identities: make([]profileIdentity, 0, len(p.Identities)),
	}
	for _, id := range p.Identities {
		pd, err := rawObject(id.ProviderData)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		out.Identities = append(out.Identities, profileIdentity{
			ID:           id.ID,
			ProviderType: id.ProviderType,
			ProviderID:   id.ProviderID,
			ProviderData: pd,
		})
	}
	writeJSON(w, http.StatusOK, out)
}

type profileResponse struct {
	UserID     string            `json:"user_id"`
	DomainID   string            `json:"domain_id"`
	Type       string            `json:"type"`
	Data       json.RawMessage   `json:"data"`
	Identities []profileIdentity `json:"identities"`
}

type profileIdentity struct {
	ID           string          `json:"id"`
	ProviderType string          `json:"provider_type"`
	ProviderID   string          `json:"provider_id"`
	ProviderData json.RawMessage `json:"provider_data,omitempty"`
}

// rawObject renders a document as relaxed Extended JSON, `{}` when empty
// (realm-web refuses a profile whose data is not an object, and applies
// relaxed EJSON decoding to it).
func rawObject(d bson.D) (json.RawMessage, error) {
	if len(d) == 0 {
		return json.RawMessage("{}"), nil
	}
	b, err := bson.MarshalExtJSON(d, false, false)
	if err != nil {
		return nil, err
	}
	return json.RawMessage(b), nil
}
