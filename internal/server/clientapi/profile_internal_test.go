package clientapi

import (
	"bytes"
	"encoding/json"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/auth"
)

// The hand-appended profile body is byte for byte what encoding/json
// writes for the same shape, whatever the strings hold.
func TestAppendProfileMatchesEncodingJSON(t *testing.T) {
	type ident struct {
		ID           string          `json:"id"`
		ProviderType string          `json:"provider_type"`
		ProviderID   string          `json:"provider_id"`
		ProviderData json.RawMessage `json:"provider_data"`
	}
	type reference struct {
		UserID     string          `json:"user_id"`
		DomainID   string          `json:"domain_id"`
		Type       string          `json:"type"`
		Data       json.RawMessage `json:"data"`
		Identities []ident         `json:"identities"`
	}
	tricky := []string{"", "plain", `quote"back\slash`, "<script>&amp;</script>", "tab\tnew\nline\x00\x1f",
		"é ü 漢字 🙂", "line\u2028sep\u2029", "bad\xffutf8", "\x7f"}
	for _, s := range tricky {
		p := &auth.Profile{UserID: s, DomainID: "65a1b2c3d4e5f60718293a4b", Type: "normal",
			Data: bson.D{{Key: "email", Value: s}, {Key: "n", Value: int32(3)}},
			Identities: []auth.ProfileIdentity{
				{ID: s, ProviderType: "local-userpass", ProviderID: s, ProviderData: bson.D{{Key: "email", Value: s}}},
				{ID: "anon", ProviderType: "anon-user", ProviderID: "x"},
			}}
		got, err := appendProfile(nil, p)
		if err != nil {
			t.Fatal(err)
		}
		ref := reference{UserID: p.UserID, DomainID: p.DomainID, Type: p.Type, Identities: []ident{}}
		ref.Data, _ = rawObject(p.Data)
		for _, id := range p.Identities {
			pd, _ := rawObject(id.ProviderData)
			ref.Identities = append(ref.Identities, ident{id.ID, id.ProviderType, id.ProviderID, pd})
		}
		want, err := json.Marshal(ref)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("string %q:\n got %s\nwant %s", s, got, want)
		}
	}
	// No identities: an empty array, never null.
	got, _ := appendProfile(nil, &auth.Profile{UserID: "u", Type: "normal"})
	if want := `{"user_id":"u","domain_id":"","type":"normal","data":{},"identities":[]}`; string(got) != want {
		t.Fatalf("got %s", got)
	}
}
