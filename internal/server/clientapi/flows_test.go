package clientapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/atollhq/atoll/internal/auth"
)

func (e *env) profile(access string) response {
	return e.do("GET", userPath+"/profile", "", bearerH(access))
}

func (e *env) refresh(refresh string) (string, response) {
	r := e.do("POST", userPath+"/session", "", bearerH(refresh))
	if r.status != 201 {
		return "", r
	}
	tok, _ := r.json(e.t)["access_token"].(string)
	return tok, r
}

func TestAccessTokenClaims(t *testing.T) {
	e := newEnv(t, envOptions{})
	tk := e.anon()
	h, c := jwtParts(t, tk.Access)
	if h["alg"] != "HS256" || h["kid"] == nil {
		t.Errorf("access header %v", h)
	}
	if c["sub"] != tk.UserID || c["typ"] != "access" {
		t.Errorf("claims %v", c)
	}
	exp, _ := c["exp"].(float64)
	iat, _ := c["iat"].(float64)
	if exp-iat != 1800 {
		t.Errorf("exp-iat = %v, want 1800", exp-iat)
	}
	if ud, ok := c["user_data"]; ok && ud == nil {
		t.Errorf("user_data is null; realm-web wants it absent or an object")
	}
	if len(tk.Device) != 24 {
		t.Errorf("device_id %q", tk.Device)
	}
	_, rc := jwtParts(t, tk.Refresh)
	if rc["typ"] != "refresh" || rc["baas_id"] != c["iss"] {
		t.Errorf("refresh claims %v vs access iss %v", rc, c["iss"])
	}
}

func TestTokenExpiryAndRefresh(t *testing.T) {
	e := newEnv(t, envOptions{})
	tk := e.anon()
	if r := e.profile(tk.Access); r.status != 200 {
		t.Fatalf("fresh token: %d %s", r.status, r.body)
	}
	e.now.Advance(31 * time.Minute)
	r := e.profile(tk.Access)
	if r.status != 401 || r.json(t)["error_code"] != "InvalidSession" {
		t.Fatalf("expired token: %d %s", r.status, r.body)
	}
	access, r := e.refresh(tk.Refresh)
	if access == "" {
		t.Fatalf("refresh: %d %s", r.status, r.body)
	}
	if r := e.profile(access); r.status != 200 {
		t.Fatalf("refreshed token: %d %s", r.status, r.body)
	}
	// A refresh token past its lifetime is refused.
	em := e.emailUser("expiry@example.com", "password123")
	e.now.Advance(61 * 24 * time.Hour)
	if _, r := e.refresh(em.Refresh); r.status != 401 || r.json(t)["error_code"] != "InvalidSession" {
		t.Fatalf("expired refresh token: %d %s", r.status, r.body)
	}
}

func TestCustomDataRefresh(t *testing.T) {
	e := newEnv(t, envOptions{})
	tk := e.emailUser("custom@example.com", "password123")
	_, c := jwtParts(t, tk.Access)
	if ud, ok := c["user_data"].(map[string]any); ok && len(ud) > 0 {
		t.Fatalf("user_data before any document: %v", ud)
	}
	coll := e.st.Database("app").Collection("userData")
	if _, err := coll.InsertOne(context.Background(), bson.D{
		{Key: "_id", Value: bson.NewObjectID()}, {Key: "user_id", Value: tk.UserID}, {Key: "team", Value: "blue"},
	}); err != nil {
		t.Fatal(err)
	}
	access, r := e.refresh(tk.Refresh)
	if access == "" {
		t.Fatalf("refresh: %d %s", r.status, r.body)
	}
	_, c = jwtParts(t, access)
	ud, _ := c["user_data"].(map[string]any)
	if ud["team"] != "blue" {
		t.Fatalf("user_data after refresh: %v", c["user_data"])
	}
}

func TestLinkIdentities(t *testing.T) {
	e := newEnv(t, envOptions{})
	anon := e.anon()
	if r := e.do("POST", appPath+"/auth/providers/local-userpass/register", `{"email":"link@example.com","password":"password123"}`); r.status != 201 {
		t.Fatalf("register: %d %s", r.status, r.body)
	}
	r := e.do("POST", appPath+"/auth/providers/local-userpass/login?link=true",
		`{"username":"link@example.com","password":"password123",`+device+`}`, bearerH(anon.Access))
	if r.status != 200 {
		t.Fatalf("link: %d %s", r.status, r.body)
	}
	m := r.json(t)
	if m["user_id"] != anon.UserID {
		t.Fatalf("link answered for %v, want %s", m["user_id"], anon.UserID)
	}
	if _, ok := m["device_id"].(string); !ok {
		t.Fatalf("link response without a string device_id: %s", r.body)
	}
	p := e.profile(m["access_token"].(string))
	var prof struct {
		UserID     string `json:"user_id"`
		Identities []struct {
			ProviderType string `json:"provider_type"`
		} `json:"identities"`
	}
	if err := json.Unmarshal([]byte(p.body), &prof); err != nil || p.status != 200 {
		t.Fatalf("profile: %d %s", p.status, p.body)
	}
	var types []string
	for _, id := range prof.Identities {
		types = append(types, id.ProviderType)
	}
	if strings.Join(types, ",") != "anon-user,local-userpass" {
		t.Fatalf("identities %v", types)
	}
	// The email identity now logs in the same user.
	again := e.login("local-userpass", `{"username":"link@example.com","password":"password123",`+device+`}`)
	if again.UserID != anon.UserID {
		t.Fatalf("login after link: %s, want %s", again.UserID, anon.UserID)
	}
	// Linking it to a second user is refused (not a 401 loop trigger), and
	// writes nothing.
	other := e.anon()
	snap := e.snapshot()
	r = e.do("POST", appPath+"/auth/providers/local-userpass/login?link=true",
		`{"username":"link@example.com","password":"password123",`+device+`}`, bearerH(other.Access))
	if r.status == 200 || (r.status == 401 && (r.json(t)["error_code"] == "InvalidSession" || r.json(t)["error"] == "unauthorized")) {
		t.Fatalf("linking an owned identity: %d %s", r.status, r.body)
	}
	if e.snapshot() != snap {
		t.Fatalf("refused link wrote to the store")
	}
}

func TestUserAPIKeys(t *testing.T) {
	e := newEnv(t, envOptions{})
	owner := e.emailUser("keys@example.com", "password123")
	r := e.do("POST", userPath+"/api_keys", `{"name":"laptop"}`, bearerH(owner.Refresh))
	if r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	created := r.json(t)
	id, _ := created["_id"].(string)
	key, _ := created["key"].(string)
	if id == "" || key == "" || created["name"] != "laptop" || created["disabled"] != false {
		t.Fatalf("created %s", r.body)
	}
	r = e.do("GET", userPath+"/api_keys", "", bearerH(owner.Refresh))
	if r.status != 200 || strings.Contains(r.body, key) || !strings.Contains(r.body, id) {
		t.Fatalf("list: %d %s", r.status, r.body)
	}
	r = e.do("GET", userPath+"/api_keys/"+id, "", bearerH(owner.Refresh))
	var got map[string]any
	_ = json.Unmarshal([]byte(r.body), &got)
	if r.status != 200 || len(got) != 3 || got["_id"] != id || got["name"] != "laptop" || got["disabled"] != false {
		t.Fatalf("fetch: %d %s", r.status, r.body)
	}
	login := func() response {
		return e.do("POST", appPath+"/auth/providers/api-key/login", `{"key":"`+key+`",`+device+`}`)
	}
	if r := login(); r.status != 200 || r.json(t)["user_id"] != owner.UserID {
		t.Fatalf("api key login: %d %s", r.status, r.body)
	}
	if r := e.do("PUT", userPath+"/api_keys/"+id+"/disable", "", bearerH(owner.Refresh)); r.status != 204 {
		t.Fatalf("disable: %d %s", r.status, r.body)
	}
	if r := login(); r.status != 401 || strings.Contains(r.body, key) {
		t.Fatalf("login with a disabled key: %d %s", r.status, r.body)
	}
	if r := e.do("PUT", userPath+"/api_keys/"+id+"/enable", "", bearerH(owner.Refresh)); r.status != 204 {
		t.Fatalf("enable: %d %s", r.status, r.body)
	}
	viaKey := login()
	if viaKey.status != 200 {
		t.Fatalf("login after enable: %d %s", viaKey.status, viaKey.body)
	}
	// The key's own session may not delete the key it stands on.
	keySession := viaKey.json(t)["refresh_token"].(string)
	if r := e.do("DELETE", userPath+"/api_keys/"+id, "", bearerH(keySession)); r.status != 403 {
		t.Fatalf("deleting the session's own key: %d %s", r.status, r.body)
	}
	if r := e.do("DELETE", userPath+"/api_keys/"+id, "", bearerH(owner.Refresh)); r.status != 204 {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	if r := login(); r.status != 401 {
		t.Fatalf("login with a deleted key: %d %s", r.status, r.body)
	}
	// Anonymous users cannot have keys.
	anon := e.anon()
	if r := e.do("POST", userPath+"/api_keys", `{"name":"x"}`, bearerH(anon.Refresh)); r.status < 400 || r.status == 401 {
		t.Fatalf("anonymous key: %d %s", r.status, r.body)
	}
}

func TestDisabledUser(t *testing.T) {
	e := newEnv(t, envOptions{})
	tk := e.emailUser("disabled@example.com", "password123")
	if err := e.auth.DisableUser(context.Background(), tk.UserID); err != nil {
		t.Fatal(err)
	}
	r := e.do("POST", appPath+"/auth/providers/local-userpass/login", `{"username":"disabled@example.com","password":"password123",`+device+`}`)
	if r.status != 401 || r.json(t)["error_code"] != "UserDisabled" {
		t.Fatalf("login of a disabled user: %d %s", r.status, r.body)
	}
	if r := e.profile(tk.Access); r.status != 401 {
		t.Fatalf("access token of a disabled user: %d %s", r.status, r.body)
	}
	if _, r := e.refresh(tk.Refresh); r.status != 401 {
		t.Fatalf("refresh token of a disabled user: %d %s", r.status, r.body)
	}
	if err := e.auth.EnableUser(context.Background(), tk.UserID); err != nil {
		t.Fatal(err)
	}
	e.login("local-userpass", `{"username":"disabled@example.com","password":"password123",`+device+`}`)
}

var tokenInMail = regexp.MustCompile(`token=([^&\s]+)&tokenId=([^&\s]+)`)

func mailTokens(t *testing.T, e *env) (string, string) {
	t.Helper()
	m, ok := e.mails.last()
	if !ok {
		t.Fatal("no email sent")
	}
	g := tokenInMail.FindStringSubmatch(m.Text)
	if g == nil {
		t.Fatalf("no token pair in %q", m.Text)
	}
	tok, _ := url.QueryUnescape(g[1])
	id, _ := url.QueryUnescape(g[2])
	return tok, id
}

func TestEmailConfirmationAndReset(t *testing.T) {
	e := newEnv(t, envOptions{files: map[string]string{"auth/providers.json": `{
		"local-userpass": {"name":"local-userpass","type":"local-userpass","disabled":false,
			"config":{"autoConfirm":false,"emailConfirmationUrl":"http://localhost/confirm",
				"resetPasswordUrl":"http://localhost/reset","runConfirmationFunction":false,"runResetFunction":false}}
	}`}})
	const email = "pending@example.com"
	creds := `{"username":"` + email + `","password":"password123",` + device + `}`
	if r := e.do("POST", appPath+"/auth/providers/local-userpass/register", `{"email":"`+email+`","password":"password123"}`); r.status != 201 {
		t.Fatalf("register: %d %s", r.status, r.body)
	}
	if r := e.do("POST", appPath+"/auth/providers/local-userpass/login", creds); r.status != 401 {
		t.Fatalf("login before confirmation: %d %s", r.status, r.body)
	}
	tok, id := mailTokens(t, e)
	snap := e.snapshot()
	for _, bad := range []string{
		fmt.Sprintf(`{"token":%q,"tokenId":%q}`, tok+"x", id),
		fmt.Sprintf(`{"token":%q,"tokenId":%q}`, tok, "000000000000000000000000"),
		`{"token":"e30=","tokenId":"some-token-id"}`,
	} {
		r := e.do("POST", appPath+"/auth/providers/local-userpass/confirm", bad)
		if r.status != 400 || strings.Contains(r.body, tok) {
			t.Fatalf("confirm with %s: %d %s", bad, r.status, r.body)
		}
	}
	if e.snapshot() != snap {
		t.Fatal("wrong confirmation tokens changed the store")
	}
	if r := e.do("POST", appPath+"/auth/providers/local-userpass/confirm/send", `{"email":"`+email+`"}`); r.status != 204 {
		t.Fatalf("resend: %d %s", r.status, r.body)
	}
	tok, id = mailTokens(t, e)
	if r := e.do("POST", appPath+"/auth/providers/local-userpass/confirm", fmt.Sprintf(`{"token":%q,"tokenId":%q}`, tok, id)); r.status != 204 {
		t.Fatalf("confirm: %d %s", r.status, r.body)
	}
	if r := e.do("POST", appPath+"/auth/providers/local-userpass/confirm", fmt.Sprintf(`{"token":%q,"tokenId":%q}`, tok, id)); r.status != 400 {
		t.Fatalf("confirm token reused: %d %s", r.status, r.body)
	}
	e.login("local-userpass", creds)

	// Reset through the emailed link.
	if r := e.do("POST", appPath+"/auth/providers/local-userpass/reset/send", `{"email":"`+email+`"}`); r.status != 204 {
		t.Fatalf("reset/send: %d %s", r.status, r.body)
	}
	tok, id = mailTokens(t, e)
	if r := e.do("POST", appPath+"/auth/providers/local-userpass/reset/send", `{"email":"nobody@example.com"}`); r.status != 204 {
		t.Fatalf("reset/send for an unknown email must look the same: %d %s", r.status, r.body)
	}
	if r := e.do("POST", appPath+"/auth/providers/local-userpass/reset", fmt.Sprintf(`{"token":%q,"tokenId":%q,"password":"newpassword456"}`, tok, id)); r.status != 204 {
		t.Fatalf("reset: %d %s", r.status, r.body)
	}
	if r := e.do("POST", appPath+"/auth/providers/local-userpass/login", creds); r.status != 401 {
		t.Fatalf("old password after reset: %d %s", r.status, r.body)
	}
	e.login("local-userpass", `{"username":"`+email+`","password":"newpassword456",`+device+`}`)
	if strings.Contains(e.logs.String(), "password123") || strings.Contains(e.logs.String(), "newpassword456") {
		t.Fatal("a password reached the log")
	}
}

func TestCORSHeaders(t *testing.T) {
	e := newEnv(t, envOptions{})
	r := e.do("OPTIONS", appPath+"/auth/providers/anon-user/login", "",
		"Origin: "+allowedOrg, "Access-Control-Request-Method: POST", "Access-Control-Request-Headers: authorization, content-type")
	if r.status != 204 || r.header.Get("Access-Control-Allow-Origin") != allowedOrg ||
		!strings.Contains(r.header.Get("Access-Control-Allow-Headers"), "Authorization") ||
		!strings.Contains(r.header.Get("Access-Control-Allow-Methods"), "DELETE") {
		t.Fatalf("preflight: %d %v", r.status, r.header)
	}
	r = e.do("OPTIONS", appPath+"/auth/providers/anon-user/login", "", "Origin: http://evil.example", "Access-Control-Request-Method: POST")
	if r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("preflight of a foreign origin carries CORS headers: %v", r.header)
	}
	r = e.do("GET", appPath+"/location", "", "Origin: "+allowedOrg)
	if r.header.Get("Access-Control-Allow-Origin") != allowedOrg || !strings.Contains(r.header.Get("Access-Control-Expose-Headers"), "X-Baas-Location") {
		t.Fatalf("actual request: %v", r.header)
	}
	// No Origin (Node, curl): no CORS headers, request served.
	r = e.do("GET", appPath+"/location", "")
	if r.status != 200 || r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("request without Origin: %d %v", r.status, r.header)
	}
}

func TestCORSAllowsAnyOriginWhenUnset(t *testing.T) {
	e := newEnv(t, envOptions{files: map[string]string{"root_config.json": `{"app_id":"` + testAppID + `","name":"test-app"}`}})
	r := e.do("OPTIONS", userPath+"/session", "", "Origin: http://anything.example", "Access-Control-Request-Method: POST")
	if r.status != 204 || r.header.Get("Access-Control-Allow-Origin") != "http://anything.example" {
		t.Fatalf("preflight: %d %v", r.status, r.header)
	}
}

func TestRateLimitedLogin(t *testing.T) {
	rl := auth.DefaultRateLimits
	e := newEnv(t, envOptions{rateLimits: &rl})
	e.emailUser("limited@example.com", "password123")
	var last response
	for i := 0; i < 30; i++ {
		last = e.do("POST", appPath+"/auth/providers/local-userpass/login", `{"username":"limited@example.com","password":"wrong-password",`+device+`}`)
		if last.status == 429 {
			break
		}
	}
	if last.status != 429 || last.json(t)["error_code"] != "LimitExceeded" {
		t.Fatalf("after repeated failures: %d %s", last.status, last.body)
	}
}

func TestSecretsNeverLogged(t *testing.T) {
	e := newEnv(t, envOptions{})
	tk := e.emailUser("logs@example.com", "a-very-secret-password")
	e.profile(tk.Access)
	e.refresh(tk.Refresh)
	e.profile("garbage." + tk.Access)
	e.do("POST", appPath+"/auth/providers/local-userpass/login", `{"username":"logs@example.com","password":"another-secret-password",`+device+`}`)
	logs := e.logs.String()
	for _, s := range []string{"a-very-secret-password", "another-secret-password", tk.Access, tk.Refresh} {
		if strings.Contains(logs, s) {
			t.Errorf("log contains a secret (%.12s…)", s)
		}
	}
}
