package auth

import (
	"errors"
	"strings"
	"testing"

	"github.com/atollhq/atoll/internal/appconfig"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func userpassApp(cfg appconfig.ProviderConfig) *appconfig.App {
	app := testApp()
	app.AuthProviders["local-userpass"].Config = &cfg
	return app
}

func TestRegisterAutoConfirm(t *testing.T) {
	e := newEnv(t, testApp())
	ctx := ctxT(t)
	cases := []struct {
		name, email, pw string
		code            Code
		msg             string
	}{
		{"short password", "x@y.z", "pass", CodeBadRequest, "password must be between 6 and 128 characters"},
		{"long password", "x@y.z", strings.Repeat("p", 129), CodeBadRequest, "password must be between 6 and 128 characters"},
		{"empty email", "", "password123", CodeBadRequest, "email"},
		{"ok", "x@y.z", "password123456", "", ""},
		{"duplicate", "x@y.z", "otherpassword", CodeAccountNameInUse, "name already in use"},
		{"emails are case-sensitive", "X@y.z", "password123456", "", ""},
		{"six characters", "six@y.z", "123456", "", ""},
		{"128 characters", "long@y.z", strings.Repeat("é", 128), "", ""},
	}
	for _, c := range cases {
		err := e.svc.RegisterUser(ctx, "1.1.1.1", c.email, c.pw)
		if c.code == "" {
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
			continue
		}
		var ae *Error
		if !errors.As(err, &ae) || ae.Code != c.code || !strings.Contains(ae.Message, c.msg) {
			t.Errorf("%s: got %v, want %s %q", c.name, err, c.code, c.msg)
		}
	}
	r := e.mustLogin("local-userpass", userpass("x@y.z", "password123456"))
	u, _ := e.svc.User(ctx, r.UserID)
	if v, _ := lookupString(u.Data, "email"); v != "x@y.z" || !r.Created {
		t.Fatalf("user %+v", u)
	}
	if r2 := e.mustLogin("local-userpass", userpass("x@y.z", "password123456")); r2.UserID != r.UserID || r2.Created {
		t.Fatal("second login made another user")
	}
	if r3 := e.mustLogin("local-userpass", userpass("X@y.z", "password123456")); r3.UserID == r.UserID {
		t.Fatal("emails differing in case reached the same user")
	}
}

func TestLoginFailuresLookAlike(t *testing.T) {
	e := newEnv(t, userpassApp(appconfig.ProviderConfig{EmailConfirmationURL: "http://localhost/confirm", ResetPasswordURL: "http://x/r"}))
	ctx := ctxT(t)
	if _, err := e.CreateUser("known@x.y", "rightpassword"); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.RegisterUser(ctx, "", "pending@x.y", "rightpassword"); err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for _, body := range []bson.D{
		userpass("known@x.y", "wrongpassword"),
		userpass("unknown@x.y", "rightpassword"),
		userpass("pending@x.y", "rightpassword"),
		userpass("", ""),
		{{Key: "username", Value: 5}},
	} {
		_, err := e.login("local-userpass", body)
		wantCode(t, err, CodeInvalidPassword, "unauthorized")
		msgs = append(msgs, err.Error())
	}
	for _, m := range msgs[1:] {
		if m != msgs[0] {
			t.Fatalf("messages differ: %q", msgs)
		}
	}
	if strings.Contains(e.logs.String(), "rightpassword") || strings.Contains(e.logs.String(), "wrongpassword") {
		t.Fatal("a password reached the log")
	}
	if _, err := e.CreateUser("known@x.y", "rightpassword"); err == nil {
		t.Fatal("duplicate admin-created user")
	}
}

func (e *env) CreateUser(email, pw string) (*User, error) {
	return e.svc.CreateEmailPasswordUser(ctxT(e.t), email, pw)
}

func TestConfirmByEmail(t *testing.T) {
	e := newEnv(t, userpassApp(appconfig.ProviderConfig{EmailConfirmationURL: "http://localhost/confirm", ConfirmEmailSubject: "Hi"}))
	ctx := ctxT(t)
	if err := e.svc.RegisterUser(ctx, "", "a@b.c", "password1"); err != nil {
		t.Fatal(err)
	}
	if len(e.mail.sent) != 1 || e.mail.sent[0].To != "a@b.c" || e.mail.sent[0].Subject != "Hi" ||
		!strings.Contains(e.mail.sent[0].Text, "http://localhost/confirm?token=") {
		t.Fatalf("mail %+v", e.mail.sent)
	}
	if _, err := e.login("local-userpass", userpass("a@b.c", "password1")); !errors.Is(err, ErrInvalidPassword) {
		t.Fatalf("pending login: %v", err)
	}
	// Resend issues a second, independent token.
	if err := e.svc.ResendConfirmation(ctx, "", "a@b.c"); err != nil {
		t.Fatal(err)
	}
	token, tokenID := e.mail.last(t)
	for _, bad := range [][2]string{{"e30=", "some-token-id"}, {token, bson.NewObjectID().Hex()}, {tampered(token), tokenID}, {"", ""}} {
		wantCode(t, e.svc.ConfirmUser(ctx, "", bad[0], bad[1]), CodeUserpassTokenInvalid, "invalid token data")
	}
	if err := e.svc.ConfirmUser(ctx, "", token, tokenID); err != nil {
		t.Fatal(err)
	}
	wantCode(t, e.svc.ConfirmUser(ctx, "", token, tokenID), CodeUserpassTokenInvalid, "invalid token data")
	e.mustLogin("local-userpass", userpass("a@b.c", "password1"))
	wantCode(t, e.svc.ResendConfirmation(ctx, "", "a@b.c"), CodeUserAlreadyConfirmed, "already confirmed")
	if err := e.svc.ResendConfirmation(ctx, "", "nobody@b.c"); err != nil {
		t.Fatalf("unknown email should look like success: %v", err)
	}
}

func TestConfirmTokenExpires(t *testing.T) {
	e := newEnv(t, userpassApp(appconfig.ProviderConfig{EmailConfirmationURL: "http://localhost/confirm"}))
	ctx := ctxT(t)
	if err := e.svc.RegisterUser(ctx, "", "a@b.c", "password1"); err != nil {
		t.Fatal(err)
	}
	token, tokenID := e.mail.last(t)
	e.clk.advance(31 * 60 * 1e9)
	wantCode(t, e.svc.ConfirmUser(ctx, "", token, tokenID), CodeUserpassTokenInvalid, "invalid token data")
}

func TestConfirmationFunction(t *testing.T) {
	e := newEnv(t, userpassApp(appconfig.ProviderConfig{RunConfirmationFunction: true, ConfirmationFunctionName: "confirmFunc"}))
	ctx := ctxT(t)
	var lastArg bson.D
	e.fn.fns["confirmFunc"] = func(args ...any) (any, error) {
		lastArg = args[0].(bson.D)
		u, _ := lookupString(lastArg, "username")
		switch {
		case strings.Contains(u, "realm_tests_do_autoverify"):
			return bson.D{{Key: "status", Value: "success"}}, nil
		case strings.Contains(u, "realm_tests_do_pendverify"):
			return bson.D{{Key: "status", Value: "pending"}}, nil
		case strings.Contains(u, "throw"):
			return nil, errors.New("boom")
		}
		return bson.D{{Key: "status", Value: "fail"}}, nil
	}
	if err := e.svc.RegisterUser(ctx, "", "realm_tests_do_autoverify@x", "password1"); err != nil {
		t.Fatal(err)
	}
	e.mustLogin("local-userpass", userpass("realm_tests_do_autoverify@x", "password1"))

	wantCode(t, e.svc.RegisterUser(ctx, "", "nope@x", "password1"), CodeBadRequest, `failed to confirm user "nope@x"`)
	wantCode(t, e.svc.RegisterUser(ctx, "", "throw@x", "password1"), CodeBadRequest, `failed to confirm user "throw@x"`)
	// A failed confirmation leaves the email free.
	e.fn.fns["confirmFunc"] = func(args ...any) (any, error) { return bson.D{{Key: "status", Value: "success"}}, nil }
	if err := e.svc.RegisterUser(ctx, "", "nope@x", "password1"); err != nil {
		t.Fatalf("email not reusable after a failed confirmation: %v", err)
	}

	// A10: pending, then /confirm with what the function received.
	e.fn.fns["confirmFunc"] = func(args ...any) (any, error) {
		lastArg = args[0].(bson.D)
		return bson.D{{Key: "status", Value: "pending"}}, nil
	}
	if err := e.svc.RegisterUser(ctx, "", "realm_tests_do_pendverify@x", "password1"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.login("local-userpass", userpass("realm_tests_do_pendverify@x", "password1")); err == nil {
		t.Fatal("pending user logged in")
	}
	// Retry reruns the function with a new token; both tokens work once.
	first := lastArg
	if err := e.svc.RetryConfirmation(ctx, "", "realm_tests_do_pendverify@x"); err != nil {
		t.Fatal(err)
	}
	if tok, _ := lookupString(first, "token"); tok == mustString(lastArg, "token") {
		t.Fatal("retry reused the token")
	}
	if err := e.svc.ConfirmUser(ctx, "", mustString(first, "token"), mustString(first, "tokenId")); err != nil {
		t.Fatal(err)
	}
	e.mustLogin("local-userpass", userpass("realm_tests_do_pendverify@x", "password1"))
	wantCode(t, e.svc.RetryConfirmation(ctx, "", "realm_tests_do_pendverify@x"), CodeUserAlreadyConfirmed, "already confirmed")
}

func mustString(d bson.D, k string) string { s, _ := lookupString(d, k); return s }

// tampered returns token with its first hex digit changed, so it always
// differs from token (overwriting with a fixed prefix does not, 1 time in 256).
func tampered(token string) string {
	first := "0"
	if token[0] == '0' {
		first = "1"
	}
	return first + token[1:]
}

func TestRetryConfirmationOnAutoConfirm(t *testing.T) {
	e := newEnv(t, testApp())
	wantCode(t, e.svc.RetryConfirmation(ctxT(t), "", "a@b.c"), CodeBadRequest,
		"cannot run confirmation for a@b.c: automatic confirmation is enabled")
}

func TestResetByEmail(t *testing.T) {
	e := newEnv(t, testApp())
	ctx := ctxT(t)
	if _, err := e.CreateUser("r@x.y", "oldpassword"); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.SendPasswordReset(ctx, "", "nobody@x.y"); err != nil || len(e.mail.sent) != 0 {
		t.Fatalf("unknown email: %v, %d mails", err, len(e.mail.sent))
	}
	if err := e.svc.SendPasswordReset(ctx, "", "r@x.y"); err != nil {
		t.Fatal(err)
	}
	token, tokenID := e.mail.last(t)
	if !strings.Contains(e.mail.sent[0].Text, "http://localhost/reset?token=") {
		t.Fatalf("mail %q", e.mail.sent[0].Text)
	}
	wantCode(t, e.svc.ResetPassword(ctx, "", token, tokenID, "short"), CodeBadRequest, "between 6 and 128")
	wantCode(t, e.svc.ResetPassword(ctx, "", tampered(token), tokenID, "newpassword"), CodeUserpassTokenInvalid, "invalid token data")
	if err := e.svc.ResetPassword(ctx, "", token, tokenID, "newpassword"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.login("local-userpass", userpass("r@x.y", "oldpassword")); !errors.Is(err, ErrInvalidPassword) {
		t.Fatalf("old password still works: %v", err)
	}
	e.mustLogin("local-userpass", userpass("r@x.y", "newpassword"))
	// A confirmation token is not a reset token.
	wantCode(t, e.svc.ResetPassword(ctx, "", token, tokenID, "newpassword2"), CodeUserpassTokenInvalid, "invalid token data")
}

func TestResetFunction(t *testing.T) {
	e := newEnv(t, userpassApp(appconfig.ProviderConfig{AutoConfirm: true, RunResetFunction: true, ResetFunctionName: "resetFunc"}))
	ctx := ctxT(t)
	var got []any
	e.fn.fns["resetFunc"] = func(args ...any) (any, error) {
		got = args
		pw, _ := lookupString(args[0].(bson.D), "password")
		switch {
		case strings.Contains(pw, "realm_tests_do_reset"):
			return bson.D{{Key: "status", Value: "success"}}, nil
		case strings.Contains(pw, "pending"):
			return bson.D{{Key: "status", Value: "pending"}}, nil
		}
		return bson.D{{Key: "status", Value: "fail"}}, nil
	}
	if _, err := e.CreateUser("f@x.y", "oldpassword"); err != nil {
		t.Fatal(err)
	}
	wantCode(t, e.svc.SendPasswordReset(ctx, "", "f@x.y"), CodeBadRequest, "please use reset password via function")
	wantCode(t, e.svc.CallResetFunction(ctx, "", "f@x.y", "badpassword", nil), CodeBadRequest, `failed to reset password for user "f@x.y"`)
	wantCode(t, e.svc.CallResetFunction(ctx, "", "nobody@x.y", "realm_tests_do_reset1", nil), CodeBadRequest, `failed to reset password for user "nobody@x.y"`)
	if err := e.svc.CallResetFunction(ctx, "", "f@x.y", "realm_tests_do_reset1", bson.A{"extra", int32(7)}); err != nil {
		t.Fatal(err)
	}
	arg := got[0].(bson.D)
	if len(got) != 3 || got[1] != "extra" || got[2] != int32(7) || mustString(arg, "username") != "f@x.y" ||
		lookupBool(arg, "currentPasswordValid") || mustString(arg, "token") == "" || mustString(arg, "tokenId") == "" {
		t.Fatalf("function args %v", got)
	}
	e.mustLogin("local-userpass", userpass("f@x.y", "realm_tests_do_reset1"))
	// currentPasswordValid is true for the current password.
	_ = e.svc.CallResetFunction(ctx, "", "f@x.y", "realm_tests_do_reset1", nil)
	if !lookupBool(got[0].(bson.D), "currentPasswordValid") {
		t.Fatal("currentPasswordValid false for the current password")
	}
	// pending: completed with /reset and the token pair.
	if err := e.svc.CallResetFunction(ctx, "", "f@x.y", "pendingpassword", nil); err != nil {
		t.Fatal(err)
	}
	arg = got[0].(bson.D)
	if err := e.svc.ResetPassword(ctx, "", mustString(arg, "token"), mustString(arg, "tokenId"), "finalpassword"); err != nil {
		t.Fatal(err)
	}
	e.mustLogin("local-userpass", userpass("f@x.y", "finalpassword"))
}

func TestLogMailerIsDefault(t *testing.T) {
	e := newEnv(t, userpassApp(appconfig.ProviderConfig{EmailConfirmationURL: "http://localhost/confirm"}), func(o *Options) { o.Mailer = nil })
	if err := e.svc.RegisterUser(ctxT(t), "", "dev@x.y", "password1"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(e.logs.String(), `http://localhost/confirm?token=`) || strings.Contains(e.logs.String(), "password1") {
		t.Fatalf("log %s", e.logs.String())
	}
}
