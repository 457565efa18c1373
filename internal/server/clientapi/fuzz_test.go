package clientapi_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// FuzzLoginBody sends arbitrary bodies to the login and register routes:
// whatever arrives, the answer is never a 5xx, and every refusal is the App
// Services envelope.
func FuzzLoginBody(f *testing.F) {
	for _, s := range []string{
		`{}`, `{"options":{"device":{"deviceId":{"$oid":"65f0000000000000000000aa"}}}}`,
		`{"username":"a@b.c","password":"password123"}`, `{"email":{"$numberInt":"1"}}`,
		`{"x":{"$date":{"$numberLong":"nope"}}}`, `[`, `null`, `"s"`, `{"a":{"$regularExpression":{}}}`,
		`{"key":"` + strings.Repeat("k", 300) + `"}`, "\x00\xff",
	} {
		f.Add(s)
	}
	e := newEnv(f, envOptions{quiet: true})
	f.Fuzz(func(t *testing.T, body string) {
		for _, path := range []string{
			appPath + "/auth/providers/anon-user/login",
			appPath + "/auth/providers/local-userpass/login",
			appPath + "/auth/providers/api-key/login",
			appPath + "/auth/providers/custom-token/login",
			appPath + "/auth/providers/local-userpass/register",
			appPath + "/auth/providers/local-userpass/confirm",
		} {
			e.t = t
			done := make(chan response, 1)
			go func() { done <- e.do("POST", path, body) }()
			var r response
			select {
			case r = <-done:
			case <-time.After(10 * time.Second):
				t.Fatalf("%s %q: no answer within 10s", path, body)
			}
			if r.status >= 500 {
				t.Fatalf("%s %q: %d %s", path, body, r.status, r.body)
			}
			if r.status >= 400 {
				var env struct {
					Error string `json:"error"`
					Code  string `json:"error_code"`
				}
				if err := json.Unmarshal([]byte(r.body), &env); err != nil || env.Error == "" || env.Code == "" {
					t.Fatalf("%s %q: refusal outside the envelope: %d %s", path, body, r.status, r.body)
				}
			}
		}
	})
}
