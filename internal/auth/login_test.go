package auth

import (
	"errors"
	"regexp"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

func TestAnonymousLogin(t *testing.T) {
	e := newEnv(t, testApp())
	ctx := ctxT(t)
	a := e.mustLogin("anon-user", bson.D{{Key: "options", Value: bson.D{{Key: "device", Value: bson.D{{Key: "sdkVersion", Value: "2.0.1"}}}}}})
	b := e.mustLogin("anon-user", bson.D{})
	if a.UserID == b.UserID {
		t.Fatal("two anonymous logins gave one user")
	}
	if a.DeviceID != DefaultDeviceID || a.RefreshToken == "" || !a.Created {
		t.Fatalf("result %+v", a)
	}
	u, err := e.svc.User(ctx, a.UserID)
	if err != nil {
		t.Fatal(err)
	}
	if len(u.Identities) != 1 || u.Identities[0].ProviderType != "anon-user" ||
		!regexp.MustCompile(`^[0-9a-f]{24}-[a-z]{24}$`).MatchString(u.Identities[0].ID) {
		t.Fatalf("identities %+v", u.Identities)
	}

	// A2: the claims realm-web reads and App Services sets.
	ac := claims(t, a.AccessToken)
	rc := claims(t, a.RefreshToken)
	if ac["typ"] != "access" || rc["typ"] != "refresh" {
		t.Fatalf("typ %v %v", ac["typ"], rc["typ"])
	}
	if ac["exp"].(float64)-ac["iat"].(float64) != 1800 {
		t.Fatalf("access lifetime %v", ac["exp"].(float64)-ac["iat"].(float64))
	}
	if ac["sub"] != a.UserID || rc["sub"] != a.UserID || ac["iss"] != rc["baas_id"] || rc["stitch_id"] != rc["baas_id"] {
		t.Fatalf("claims %v / %v", ac, rc)
	}
	for _, k := range []string{"baas_device_id", "baas_domain_id", "stitch_devId", "stitch_domainId"} {
		if ac[k] == nil || ac[k] == "" {
			t.Fatalf("access token lacks %s: %v", k, ac)
		}
	}
	if _, ok := ac["user_data"]; ok {
		t.Fatal("user_data present without custom user data")
	}
	if ident, _ := rc["baas_identity"].(map[string]any); ident["provider_type"] != "anon-user" {
		t.Fatalf("baas_identity %v", rc["baas_identity"])
	}
	if h := header(t, a.AccessToken); h["alg"] != "HS256" || h["kid"] == nil {
		t.Fatalf("header %v", h)
	}

	c, err := e.svc.VerifyAccessToken(ctx, a.AccessToken)
	if err != nil || c.UserID != a.UserID {
		t.Fatalf("verify: %v %+v", err, c)
	}
	p, err := e.svc.Profile(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	js, _ := p.MarshalJSON()
	want := `{"user_id":"` + a.UserID + `","domain_id":"` + e.svc.DomainID() + `","type":"normal","identities":[{"id":"` +
		u.Identities[0].ID + `","provider_type":"anon-user","provider_id":"` + u.Identities[0].ProviderID + `","provider_data":{}}],"data":{}}`
	if string(js) != want {
		t.Fatalf("profile\n got %s\nwant %s", js, want)
	}
}

func TestDeviceIDFromOptions(t *testing.T) {
	e := newEnv(t, testApp())
	dev := bson.NewObjectID()
	r := e.mustLogin("anon-user", bson.D{{Key: "options", Value: bson.D{{Key: "device", Value: bson.D{{Key: "deviceId", Value: dev}}}}}})
	if r.DeviceID != dev.Hex() || claims(t, r.AccessToken)["baas_device_id"] != dev.Hex() {
		t.Fatalf("device %s, want %s", r.DeviceID, dev.Hex())
	}
}

func TestUnknownAndDisabledProviders(t *testing.T) {
	app := testApp()
	app.AuthProviders["anon-user"].Disabled = true
	e := newEnv(t, app)
	for _, p := range []string{"anon-user", "oauth2-google", "nope", ""} {
		_, err := e.login(p, bson.D{})
		if !errors.Is(err, ErrProviderNotFound) {
			t.Errorf("%q: %v", p, err)
		}
	}
	users, _ := e.svc.ListUsers(ctxT(t), ListUsersOptions{})
	if len(users) != 0 {
		t.Fatalf("refused logins wrote %d users", len(users))
	}
}

func TestLink(t *testing.T) {
	e := newEnv(t, testApp())
	ctx := ctxT(t)
	anon := e.mustLogin("anon-user", bson.D{})
	if err := e.svc.RegisterUser(ctx, "1.2.3.4", "link@example.com", "password123"); err != nil {
		t.Fatal(err)
	}
	caller, err := e.svc.VerifyAccessToken(ctx, anon.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.svc.Login(ctx, LoginRequest{Provider: "local-userpass", Body: userpass("link@example.com", "password123"), Link: caller})
	if err != nil {
		t.Fatal(err)
	}
	if res.UserID != anon.UserID || res.RefreshToken != "" || res.AccessToken == "" {
		t.Fatalf("link result %+v", res)
	}
	c2, err := e.svc.VerifyAccessToken(ctx, res.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := e.svc.Profile(ctx, c2)
	if len(p.Identities) != 2 || p.Identities[0].ProviderType != "anon-user" || p.Identities[1].ProviderType != "local-userpass" {
		t.Fatalf("identities %+v", p.Identities)
	}
	if v, _ := lookupString(p.Data, "email"); v != "link@example.com" {
		t.Fatalf("data %v", p.Data)
	}
	// Logging in with email now reaches the linked user.
	if r := e.mustLogin("local-userpass", userpass("link@example.com", "password123")); r.UserID != anon.UserID {
		t.Fatalf("email login gave %s, want %s", r.UserID, anon.UserID)
	}
	// Deleting the linked user deletes the email account too (A5).
	defer func() {
		if err := e.svc.DeleteUser(ctx, anon.UserID); err != nil {
			t.Fatal(err)
		}
		_, err := e.login("local-userpass", userpass("link@example.com", "password123"))
		wantCode(t, err, CodeInvalidPassword, "unauthorized")
	}()
	// Linking an identity another user owns is refused.
	other := e.mustLogin("anon-user", bson.D{})
	oc, _ := e.svc.VerifyAccessToken(ctx, other.AccessToken)
	_, err = e.svc.Login(ctx, LoginRequest{Provider: "local-userpass", Body: userpass("link@example.com", "password123"), Link: oc})
	wantCode(t, err, CodeInvalidParameter, "already exists")
	// Anonymous identities cannot be linked.
	_, err = e.svc.Login(ctx, LoginRequest{Provider: "anon-user", Body: bson.D{}, Link: oc})
	wantCode(t, err, CodeBadRequest, "anonymous")
}

func TestCustomFunctionProvider(t *testing.T) {
	e := newEnv(t, testApp())
	e.fn.fns["customAuth"] = func(args ...any) (any, error) {
		body := args[0].(bson.D)
		if s, _ := lookupString(body, "secret"); s != "magic" {
			return nil, errors.New("Ah ah ah, you didn't say the magic word")
		}
		if _, ok := lookup(body, "options"); ok {
			return nil, errors.New("options leaked into the payload")
		}
		u, _ := lookupString(body, "user")
		return bson.D{{Key: "id", Value: "ext-" + u}, {Key: "name", Value: u}}, nil
	}
	body := bson.D{{Key: "user", Value: "ann"}, {Key: "secret", Value: "magic"}, {Key: "options", Value: bson.D{}}}
	a := e.mustLogin("custom-function", body)
	b := e.mustLogin("custom-function", body)
	if a.UserID != b.UserID || !a.Created || b.Created {
		t.Fatalf("A7: %s/%v vs %s/%v", a.UserID, a.Created, b.UserID, b.Created)
	}
	u, _ := e.svc.User(ctxT(t), a.UserID)
	if u.Identities[0].ID != "ext-ann" || u.Identities[0].ProviderType != "custom-function" {
		t.Fatalf("identity %+v", u.Identities[0])
	}
	_, err := e.login("custom-function", bson.D{{Key: "user", Value: "ann"}, {Key: "secret", Value: "nope"}})
	wantCode(t, err, CodeAuthError, "Ah ah ah, you didn't say the magic word")
	e.fn.fns["customAuth"] = func(args ...any) (any, error) { return nil, nil }
	_, err = e.login("custom-function", body)
	wantCode(t, err, CodeAuthError, "did not return an id")
}

func TestNoFunctionRunner(t *testing.T) {
	e := newEnv(t, testApp(), func(o *Options) { o.Functions = nil })
	_, err := e.login("custom-function", bson.D{})
	wantCode(t, err, CodeInternal, "")
	e.svc.SetFunctions(e.fn)
	e.fn.fns["customAuth"] = func(args ...any) (any, error) { return "late", nil }
	e.mustLogin("custom-function", bson.D{})
}
