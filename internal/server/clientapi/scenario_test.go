package clientapi_test

import (
	"strings"
	"testing"
)

// scenario is one request against a shared env, PocketBase style: the
// status, what the body must contain, what it must never contain, the
// App Services error code, and (for refusals) that nothing was written.
type scenario struct {
	name string
	// before prepares users and returns substitutions for {{name}} in
	// path, body and headers.
	before  func(e *env) map[string]string
	method  string
	path    string
	body    string
	headers []string

	status      int
	code        string // error_code; "" for successes
	contains    []string
	notContains []string
	// noWrite: the store must be byte-identical after the request.
	noWrite bool
	// noContentType: the answer must carry no body and no Content-Type
	// (realm-web chokes on JSON content type with an empty body).
	noContentType bool
}

// secrets that must never appear in any answer.
var neverInBody = []string{"argon2", "$argon2id", "password_hash", "hash", "secret_key", jwtKey}

func runScenarios(t *testing.T, e *env, list []scenario) {
	t.Helper()
	for _, sc := range list {
		t.Run(sc.name, func(t *testing.T) {
			e.t = t
			vars := map[string]string{}
			if sc.before != nil {
				vars = sc.before(e)
			}
			sub := func(s string) string {
				for k, v := range vars {
					s = strings.ReplaceAll(s, "{{"+k+"}}", v)
				}
				return s
			}
			headers := make([]string, len(sc.headers))
			for i, h := range sc.headers {
				headers[i] = sub(h)
			}
			var snap string
			if sc.noWrite {
				snap = e.snapshot()
			}
			r := e.do(sc.method, sub(sc.path), sub(sc.body), headers...)
			if r.status != sc.status {
				t.Fatalf("status %d, want %d; body %s", r.status, sc.status, r.body)
			}
			if sc.code != "" {
				m := r.json(t)
				if m["error_code"] != sc.code {
					t.Errorf("error_code %v, want %s (body %s)", m["error_code"], sc.code, r.body)
				}
				if msg, _ := m["error"].(string); msg == "" {
					t.Errorf("error envelope without an error message: %s", r.body)
				}
				if ct := r.header.Get("Content-Type"); ct != "application/json" {
					t.Errorf("error Content-Type %q", ct)
				}
			}
			for _, s := range sc.contains {
				if !strings.Contains(r.body, sub(s)) {
					t.Errorf("body lacks %q: %s", sub(s), r.body)
				}
			}
			for _, s := range append(append([]string{}, sc.notContains...), neverInBody...) {
				if s = sub(s); s != "" && strings.Contains(r.body, s) {
					t.Errorf("body contains %q: %s", s, r.body)
				}
			}
			if sc.status >= 400 {
				// No token of the request is ever echoed in an error.
				for _, h := range headers {
					if _, tok, ok := strings.Cut(h, "Bearer "); ok && len(tok) > 8 && strings.Contains(r.body, tok) {
						t.Errorf("error echoes the bearer token: %s", r.body)
					}
				}
			}
			if sc.noContentType {
				if ct := r.header.Get("Content-Type"); ct != "" || r.body != "" {
					t.Errorf("want no body and no Content-Type, got %q %q", ct, r.body)
				}
			}
			if sc.noWrite {
				if after := e.snapshot(); after != snap {
					t.Errorf("refused request changed the store:\nbefore:\n%s\nafter:\n%s", snap, after)
				}
			}
		})
	}
}

func bearerH(v string) string { return "Authorization: Bearer " + v }

func anonVars(e *env) map[string]string {
	tk := e.anon()
	return map[string]string{"access": tk.Access, "refresh": tk.Refresh, "user": tk.UserID}
}

func TestScenarios(t *testing.T) {
	e := newEnv(t, envOptions{})
	const ct = "Content-Type: application/json"
	list := []scenario{
		// Location.
		{name: "location", method: "GET", path: appPath + "/location", status: 200,
			contains: []string{`"hostname":"http://example.com"`, `"deployment_model":`, `"ws_hostname":"ws://example.com"`}},
		{name: "location of an unknown app", method: "GET", path: "/api/client/v2.0/app/nope-xxxxx/location",
			status: 404, code: "AppNotFound", contains: []string{"nope-xxxxx"}, noWrite: true},
		{name: "unknown client route", method: "GET", path: "/api/client/v2.0/app/" + testAppID + "/nothing",
			status: 404, code: "NotFound"},

		// Login.
		{name: "anonymous login", method: "POST", path: appPath + "/auth/providers/anon-user/login",
			body: "{" + device + "}", status: 200,
			contains: []string{`"user_id":"`, `"access_token":"`, `"refresh_token":"`, `"device_id":"`}},
		{name: "login with an unknown provider", method: "POST", path: appPath + "/auth/providers/oauth2-nothing/login",
			body: "{" + device + "}", status: 404, code: "AuthProviderNotFound", noWrite: true},
		{name: "login with a disabled provider", method: "POST", path: appPath + "/auth/providers/custom-function/login",
			body: `{"username":"x",` + device + `}`, status: 404, code: "AuthProviderNotFound", noWrite: true},
		{name: "login to an unknown app", method: "POST", path: "/api/client/v2.0/app/other-app/auth/providers/anon-user/login",
			body: "{" + device + "}", status: 404, code: "AppNotFound", noWrite: true},
		{name: "login with a malformed body", method: "POST", path: appPath + "/auth/providers/anon-user/login",
			body: `{"options":`, status: 400, code: "BadRequest", noWrite: true},
		{name: "login with a non-object body", method: "POST", path: appPath + "/auth/providers/anon-user/login",
			body: `[1,2]`, status: 400, code: "BadRequest", noWrite: true},
		{name: "login with invalid EJSON", method: "POST", path: appPath + "/auth/providers/anon-user/login",
			body: `{"x":{"$numberInt":"nope"}}`, status: 400, code: "BadRequest", noWrite: true},
		{name: "login with a form body", method: "POST", path: appPath + "/auth/providers/local-userpass/login",
			body: `username=a&password=b`, headers: []string{"Content-Type: application/x-www-form-urlencoded"},
			status: 415, code: "BadRequest", noWrite: true},
		{name: "login with a text body", method: "POST", path: appPath + "/auth/providers/anon-user/login",
			body: `{}`, headers: []string{"Content-Type: text/plain"}, status: 415, code: "BadRequest", noWrite: true},
		{name: "login with an oversize body", method: "POST", path: appPath + "/auth/providers/anon-user/login",
			body: `{"pad":"` + strings.Repeat("x", 70<<10) + `"}`, status: 413, code: "LimitExceeded", noWrite: true},
		{name: "wrong password", method: "POST", path: appPath + "/auth/providers/local-userpass/login",
			before: func(e *env) map[string]string {
				e.emailUser("wrong@example.com", "correct-horse")
				return nil
			},
			body:   `{"username":"wrong@example.com","password":"battery-staple",` + device + `}`,
			status: 401, code: "InvalidPassword", contains: []string{"unauthorized"},
			notContains: []string{"battery-staple", "correct-horse"}, noWrite: true},
		{name: "unknown user gets the same answer", method: "POST", path: appPath + "/auth/providers/local-userpass/login",
			body:   `{"username":"nobody@example.com","password":"battery-staple",` + device + `}`,
			status: 401, code: "InvalidPassword", contains: []string{"unauthorized"},
			notContains: []string{"nobody@example.com", "not found", "exist"}, noWrite: true},
		{name: "login without username", method: "POST", path: appPath + "/auth/providers/local-userpass/login",
			body: `{"password":"battery-staple",` + device + `}`, status: 401, code: "InvalidPassword", noWrite: true},
		{name: "custom token with the wrong key", method: "POST", path: appPath + "/auth/providers/custom-token/login",
			body: `{"token":"` + jwtHS256(map[string]any{"alg": "HS256", "typ": "JWT"},
				map[string]any{"sub": "u1", "aud": testAppID, "exp": 4070908800, "mySecretField": "s"}, "another-key-another-key-another-key") + `",` + device + `}`,
			status: 401, noWrite: true},
		{name: "custom token with alg none", method: "POST", path: appPath + "/auth/providers/custom-token/login",
			body: `{"token":"` + b64([]byte(`{"alg":"none","typ":"JWT"}`)) + "." +
				b64([]byte(`{"sub":"u1","aud":"`+testAppID+`","exp":4070908800,"mySecretField":"s"}`)) + `.",` + device + `}`,
			status: 401, noWrite: true},
		{name: "custom token expired", method: "POST", path: appPath + "/auth/providers/custom-token/login",
			body: `{"token":"` + jwtHS256(map[string]any{"alg": "HS256", "typ": "JWT"},
				map[string]any{"sub": "u1", "aud": testAppID, "exp": 1500000000, "mySecretField": "s"}, jwtKey) + `",` + device + `}`,
			status: 401, noWrite: true},
		{name: "custom token for another audience", method: "POST", path: appPath + "/auth/providers/custom-token/login",
			body: `{"token":"` + jwtHS256(map[string]any{"alg": "HS256", "typ": "JWT"},
				map[string]any{"sub": "u1", "aud": "someone-else", "exp": 4070908800, "mySecretField": "s"}, jwtKey) + `",` + device + `}`,
			status: 401, noWrite: true},
		{name: "custom token without a required field", method: "POST", path: appPath + "/auth/providers/custom-token/login",
			body: `{"token":"` + jwtHS256(map[string]any{"alg": "HS256", "typ": "JWT"},
				map[string]any{"sub": "u1", "aud": testAppID, "exp": 4070908800}, jwtKey) + `",` + device + `}`,
			status: 401, noWrite: true},
		{name: "custom token", method: "POST", path: appPath + "/auth/providers/custom-token/login",
			body: `{"token":"` + jwtHS256(map[string]any{"alg": "HS256", "typ": "JWT"},
				map[string]any{"sub": "u1", "aud": testAppID, "exp": 4070908800, "mySecretField": "s"}, jwtKey) + `",` + device + `}`,
			status: 200, contains: []string{`"user_id":"`}},
		{name: "link without a bearer", method: "POST", path: appPath + "/auth/providers/local-userpass/login?link=true",
			body: `{"username":"x@example.com","password":"whatever1",` + device + `}`, status: 401, code: "MissingAuthReq", noWrite: true},
		{name: "link with a refresh token", method: "POST", path: appPath + "/auth/providers/local-userpass/login?link=true",
			before: anonVars, headers: []string{bearerH("{{refresh}}")},
			body: `{"username":"x@example.com","password":"whatever1",` + device + `}`, status: 401, code: "InvalidSession", noWrite: true},

		// Profile.
		{name: "profile", method: "GET", path: userPath + "/profile", before: anonVars,
			headers: []string{bearerH("{{access}}")}, status: 200,
			contains: []string{`"user_id":"{{user}}"`, `"type":"normal"`, `"provider_type":"anon-user"`, `"data":{`, `"domain_id":"`}},
		{name: "profile without a token", method: "GET", path: userPath + "/profile", status: 401, code: "MissingAuthReq"},
		{name: "profile with Bearer null", method: "GET", path: userPath + "/profile",
			headers: []string{bearerH("null")}, status: 401, code: "InvalidSession"},
		{name: "profile with a refresh token", method: "GET", path: userPath + "/profile", before: anonVars,
			headers: []string{bearerH("{{refresh}}")}, status: 401, code: "InvalidSession"},
		{name: "profile with a foreign expired token", method: "GET", path: userPath + "/profile",
			headers: []string{bearerH(jwtHS256(map[string]any{"alg": "HS256", "typ": "JWT"},
				map[string]any{"sub": "x", "exp": 1500000000, "iat": 1499999000, "typ": "access"}, "foreign-key"))},
			status: 401, code: "InvalidSession"},
		{name: "profile with an alg none token", method: "GET", path: userPath + "/profile", before: func(e *env) map[string]string {
			tk := e.anon()
			p := strings.Split(tk.Access, ".")
			return map[string]string{"forged": b64([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + p[1] + "."}
		}, headers: []string{bearerH("{{forged}}")}, status: 401, code: "InvalidSession"},
		{name: "profile with a wrong kid", method: "GET", path: userPath + "/profile", before: func(e *env) map[string]string {
			tk := e.anon()
			h, _ := jwtParts(e.t, tk.Access)
			h["kid"] = "not-a-key"
			return map[string]string{"forged": reheader(e.t, tk.Access, h)}
		}, headers: []string{bearerH("{{forged}}")}, status: 401, code: "InvalidSession"},
		{name: "profile with a tampered payload", method: "GET", path: userPath + "/profile", before: func(e *env) map[string]string {
			victim := e.anon()
			attacker := e.anon()
			p := strings.Split(attacker.Access, ".")
			_, claims := jwtParts(e.t, attacker.Access)
			claims["sub"] = victim.UserID
			c, _ := jsonMarshal(claims)
			return map[string]string{"forged": p[0] + "." + b64(c) + "." + p[2], "victim": victim.UserID}
		}, headers: []string{bearerH("{{forged}}")}, status: 401, code: "InvalidSession", notContains: []string{"{{victim}}"}},
		{name: "profile with garbage", method: "GET", path: userPath + "/profile",
			headers: []string{bearerH("a.b.c")}, status: 401, code: "InvalidSession"},

		// Session.
		{name: "refresh", method: "POST", path: userPath + "/session", before: anonVars,
			headers: []string{bearerH("{{refresh}}")}, status: 201, contains: []string{`"access_token":"`},
			notContains: []string{"{{refresh}}"}},
		{name: "refresh with an access token", method: "POST", path: userPath + "/session", before: anonVars,
			headers: []string{bearerH("{{access}}")}, status: 401, code: "InvalidSession", noWrite: true},
		{name: "refresh with a forged token", method: "POST", path: userPath + "/session", before: func(e *env) map[string]string {
			tk := e.anon()
			h, _ := jwtParts(e.t, tk.Refresh)
			h["alg"] = "none"
			p := strings.Split(reheader(e.t, tk.Refresh, h), ".")
			return map[string]string{"forged": p[0] + "." + p[1] + "."}
		}, headers: []string{bearerH("{{forged}}")}, status: 401, code: "InvalidSession", noWrite: true},
		{name: "refresh with a body", method: "POST", path: userPath + "/session", before: anonVars,
			headers: []string{bearerH("{{refresh}}")}, body: `{"x":1}`, status: 400, code: "BadRequest", noWrite: true},
		{name: "logout", method: "DELETE", path: userPath + "/session", before: anonVars,
			headers: []string{bearerH("{{refresh}}")}, status: 204, noContentType: true},
		{name: "logout twice", method: "DELETE", path: userPath + "/session", before: func(e *env) map[string]string {
			v := anonVars(e)
			if r := e.do("DELETE", userPath+"/session", "", bearerH(v["refresh"])); r.status != 204 {
				e.t.Fatalf("first logout: %d %s", r.status, r.body)
			}
			return v
		}, headers: []string{bearerH("{{refresh}}")}, status: 401, code: "InvalidSession",
			contains: []string{"failed to find refresh token"}, noWrite: true},
		{name: "refresh after logout", method: "POST", path: userPath + "/session", before: func(e *env) map[string]string {
			v := anonVars(e)
			e.do("DELETE", userPath+"/session", "", bearerH(v["refresh"]))
			return v
		}, headers: []string{bearerH("{{refresh}}")}, status: 401, code: "InvalidSession", noWrite: true},
		{name: "access token after logout", method: "GET", path: userPath + "/profile", before: func(e *env) map[string]string {
			v := anonVars(e)
			e.do("DELETE", userPath+"/session", "", bearerH(v["refresh"]))
			return v
		}, headers: []string{bearerH("{{access}}")}, status: 401, code: "InvalidSession"},

		// Delete.
		{name: "delete user", method: "DELETE", path: userPath + "/delete", before: anonVars,
			headers: []string{bearerH("{{access}}")}, status: 204, noContentType: true},
		{name: "delete with a refresh token", method: "DELETE", path: userPath + "/delete", before: anonVars,
			headers: []string{bearerH("{{refresh}}")}, status: 401, code: "InvalidSession", noWrite: true},
		{name: "delete without a token", method: "DELETE", path: userPath + "/delete",
			status: 401, code: "MissingAuthReq", noWrite: true},
		{name: "logout after delete", method: "DELETE", path: userPath + "/session", before: func(e *env) map[string]string {
			v := anonVars(e)
			if r := e.do("DELETE", userPath+"/delete", "", bearerH(v["access"])); r.status != 204 {
				e.t.Fatalf("delete: %d %s", r.status, r.body)
			}
			return v
		}, headers: []string{bearerH("{{refresh}}")}, status: 401, code: "InvalidSession",
			contains: []string{"failed to find refresh token"}},
		{name: "login after delete", method: "POST", path: appPath + "/auth/providers/local-userpass/login",
			before: func(e *env) map[string]string {
				tk := e.emailUser("deleted@example.com", "password123")
				if r := e.do("DELETE", userPath+"/delete", "", bearerH(tk.Access)); r.status != 204 {
					e.t.Fatalf("delete: %d %s", r.status, r.body)
				}
				return nil
			},
			body:   `{"username":"deleted@example.com","password":"password123",` + device + `}`,
			status: 401, code: "InvalidPassword", contains: []string{"unauthorized"}},

		// Email/password helpers.
		{name: "register", method: "POST", path: appPath + "/auth/providers/local-userpass/register",
			body: `{"email":"new@example.com","password":"password123"}`, status: 201, noContentType: true},
		{name: "register ignores a bad bearer", method: "POST", path: appPath + "/auth/providers/local-userpass/register",
			headers: []string{bearerH("garbage")},
			body:    `{"email":"new2@example.com","password":"password123"}`, status: 201, noContentType: true},
		{name: "duplicate registration", method: "POST", path: appPath + "/auth/providers/local-userpass/register",
			before: func(e *env) map[string]string {
				e.do("POST", appPath+"/auth/providers/local-userpass/register", `{"email":"dup@example.com","password":"password123"}`)
				return nil
			},
			body: `{"email":"dup@example.com","password":"other-password"}`, status: 409, code: "AccountNameInUse",
			notContains: []string{"other-password", "password123"}, noWrite: true},
		{name: "short password", method: "POST", path: appPath + "/auth/providers/local-userpass/register",
			body: `{"email":"short@example.com","password":"abc"}`, status: 400,
			contains: []string{"password must be between 6 and 128 characters"}, noWrite: true},
		{name: "register without a body", method: "POST", path: appPath + "/auth/providers/local-userpass/register",
			status: 400, code: "BadRequest", noWrite: true},
		{name: "register with a number as email", method: "POST", path: appPath + "/auth/providers/local-userpass/register",
			body: `{"email":{"$numberInt":"5"},"password":"password123"}`, status: 400, code: "InvalidParameter", noWrite: true},
		{name: "register with a form body", method: "POST", path: appPath + "/auth/providers/local-userpass/register",
			body: `email=a@b.c&password=password123`, headers: []string{"Content-Type: application/x-www-form-urlencoded"},
			status: 415, code: "BadRequest", noWrite: true},
		{name: "register in an unknown app", method: "POST", path: "/api/client/v2.0/app/zzz/auth/providers/local-userpass/register",
			body: `{"email":"zzz@example.com","password":"password123"}`, status: 404, code: "AppNotFound", noWrite: true},
		{name: "confirm with a bogus token", method: "POST", path: appPath + "/auth/providers/local-userpass/confirm",
			body: `{"token":"e30=","tokenId":"some-token-id"}`, status: 400,
			contains: []string{"invalid token data"}, noWrite: true},
		{name: "resend on an auto-confirm app", method: "POST", path: appPath + "/auth/providers/local-userpass/confirm/send",
			before: func(e *env) map[string]string {
				e.do("POST", appPath+"/auth/providers/local-userpass/register", `{"email":"auto@example.com","password":"password123"}`)
				return nil
			},
			body: `{"email":"auto@example.com"}`, status: 400, contains: []string{"already confirmed"}, noWrite: true},
		{name: "confirm/call on an auto-confirm app", method: "POST", path: appPath + "/auth/providers/local-userpass/confirm/call",
			before: func(e *env) map[string]string {
				e.do("POST", appPath+"/auth/providers/local-userpass/register", `{"email":"auto2@example.com","password":"password123"}`)
				return nil
			},
			body: `{"email":"auto2@example.com"}`, status: 400, contains: []string{"automatic confirmation is enabled"}, noWrite: true},
		{name: "reset with a bogus token", method: "POST", path: appPath + "/auth/providers/local-userpass/reset",
			body: `{"token":"e30=","tokenId":"some-token-id","password":"password456"}`, status: 400, noWrite: true},
		{name: "reset/call with arguments that are not an array", method: "POST", path: appPath + "/auth/providers/local-userpass/reset/call",
			body: `{"email":"a@example.com","password":"password456","arguments":{"x":1}}`, status: 400, code: "InvalidParameter", noWrite: true},

		// User API keys.
		{name: "api keys of a new user", method: "GET", path: userPath + "/api_keys", before: func(e *env) map[string]string {
			tk := e.emailUser("keys-empty@example.com", "password123")
			return map[string]string{"refresh": tk.Refresh}
		}, headers: []string{bearerH("{{refresh}}")}, status: 200, contains: []string{"[]"}},
		{name: "create api key", method: "POST", path: userPath + "/api_keys", before: func(e *env) map[string]string {
			tk := e.emailUser("keys-create@example.com", "password123")
			return map[string]string{"refresh": tk.Refresh}
		}, headers: []string{bearerH("{{refresh}}"), ct}, body: `{"name":"k1"}`, status: 201,
			contains: []string{`"_id":"`, `"key":"`, `"name":"k1"`, `"disabled":false`}},
		{name: "api keys with an access token", method: "GET", path: userPath + "/api_keys", before: anonVars,
			headers: []string{bearerH("{{access}}")}, status: 401, code: "InvalidSession"},
		{name: "create api key with an access token", method: "POST", path: userPath + "/api_keys", before: anonVars,
			headers: []string{bearerH("{{access}}")}, body: `{"name":"k1"}`, status: 401, code: "InvalidSession", noWrite: true},
		{name: "create api key without a name", method: "POST", path: userPath + "/api_keys", before: func(e *env) map[string]string {
			tk := e.emailUser("keys-noname@example.com", "password123")
			return map[string]string{"refresh": tk.Refresh}
		}, headers: []string{bearerH("{{refresh}}")}, body: `{}`, status: 400, code: "MissingParameter", noWrite: true},
		{name: "fetch a missing api key", method: "GET", path: userPath + "/api_keys/000000000000000000000001", before: func(e *env) map[string]string {
			tk := e.emailUser("keys-missing@example.com", "password123")
			return map[string]string{"refresh": tk.Refresh}
		}, headers: []string{bearerH("{{refresh}}")}, status: 404, code: "APIKeyNotFound"},
		{name: "another user's api key", method: "GET", path: userPath + "/api_keys/{{key}}", before: func(e *env) map[string]string {
			owner := e.emailUser("keys-owner@example.com", "password123")
			r := e.do("POST", userPath+"/api_keys", `{"name":"mine"}`, bearerH(owner.Refresh))
			if r.status != 201 {
				e.t.Fatalf("create key: %d %s", r.status, r.body)
			}
			other := e.emailUser("keys-other@example.com", "password123")
			return map[string]string{"refresh": other.Refresh, "key": r.json(e.t)["_id"].(string)}
		}, headers: []string{bearerH("{{refresh}}")}, status: 404, code: "APIKeyNotFound", notContains: []string{"mine"}},
		{name: "delete another user's api key", method: "DELETE", path: userPath + "/api_keys/{{key}}", before: func(e *env) map[string]string {
			owner := e.emailUser("keys-owner2@example.com", "password123")
			r := e.do("POST", userPath+"/api_keys", `{"name":"mine"}`, bearerH(owner.Refresh))
			other := e.emailUser("keys-other2@example.com", "password123")
			return map[string]string{"refresh": other.Refresh, "key": r.json(e.t)["_id"].(string)}
		}, headers: []string{bearerH("{{refresh}}")}, status: 404, code: "APIKeyNotFound", noWrite: true},

		// CORS.
		{name: "preflight from an allowed origin", method: "OPTIONS", path: appPath + "/auth/providers/anon-user/login",
			headers: []string{"Origin: " + allowedOrg, "Access-Control-Request-Method: POST"}, status: 204},
		{name: "preflight from a listed origin with default port", method: "OPTIONS", path: userPath + "/profile",
			headers: []string{"Origin: https://other.example", "Access-Control-Request-Method: GET"}, status: 204},
		{name: "preflight from another origin", method: "OPTIONS", path: appPath + "/auth/providers/anon-user/login",
			headers: []string{"Origin: http://evil.example", "Access-Control-Request-Method: POST"}, status: 403, code: "DomainNotAllowed"},
		{name: "request from another origin", method: "POST", path: appPath + "/auth/providers/anon-user/login",
			headers: []string{"Origin: http://evil.example"}, body: "{" + device + "}",
			status: 403, code: "DomainNotAllowed", noWrite: true},
		{name: "request from an allowed origin", method: "GET", path: appPath + "/location",
			headers: []string{"Origin: " + allowedOrg}, status: 200},
	}
	runScenarios(t, e, list)
}
