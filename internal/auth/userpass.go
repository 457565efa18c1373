package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/atollhq/atoll/internal/appconfig"
	"github.com/atollhq/atoll/internal/store"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// userpassTokenTTL is how long a confirmation or reset token is valid.
const userpassTokenTTL = 30 * time.Minute

// Token kinds in auth_tokens.
const (
	tokenConfirm = "confirm"
	tokenReset   = "reset"
)

// maxEmailLength bounds the email (the account id) like an address can
// be.
const maxEmailLength = 254

type account struct {
	email     string
	accountID string
	hash      string
	confirmed bool
	userID    string
}

func (s *Service) userpassConfig() (*appconfig.ProviderConfig, error) {
	p, err := s.provider(ProviderUserpass)
	if err != nil {
		return nil, err
	}
	if p.Type != ProviderUserpass {
		return nil, ErrProviderNotFound
	}
	if p.Config == nil {
		return &appconfig.ProviderConfig{}, nil
	}
	return p.Config, nil
}

func checkEmail(email string) error {
	if email == "" || len(email) > maxEmailLength || strings.ContainsAny(email, "\r\n") {
		return &Error{Code: CodeBadRequest, Message: "email invalid"}
	}
	return nil
}

func (s *Service) readAccount(ctx context.Context, email string) (*account, error) {
	d, err := s.coll(collUserpass).FindOne(ctx, idFilter(email), store.FindOptions{})
	if errors.Is(err, store.ErrNoDocuments) {
		return nil, nil
	}
	if err != nil {
		return nil, s.internalError(ctx, "read account", err)
	}
	a := &account{email: email, confirmed: lookupBool(d, "confirmed")}
	a.accountID, _ = lookupString(d, "account_id")
	a.hash, _ = lookupString(d, "hash")
	if uid, ok := lookupOID(d, "user_id"); ok {
		a.userID = uid.Hex()
	}
	return a, nil
}

// RegisterUser starts an email/password registration. Depending on the
// provider config the account is confirmed at once, when the confirmation
// function says so, or when the emailed link's token is used.
func (s *Service) RegisterUser(ctx context.Context, clientIP, email, password string) error {
	cfg, err := s.userpassConfig()
	if err != nil {
		return err
	}
	if err := s.limit(ctx, clientIP, "email:"+email); err != nil {
		return err
	}
	if err := checkEmail(email); err != nil {
		return err
	}
	if err := checkPasswordLength(password); err != nil {
		return err
	}
	// Hash before looking at the store, so a taken email answers in the
	// same time as a new one.
	hash, err := hashPassword(s.argon, password)
	if err != nil {
		return s.internalError(ctx, "hash password", err)
	}
	_, err = s.coll(collUserpass).InsertOne(ctx, bson.D{
		{Key: "_id", Value: email},
		{Key: "account_id", Value: bson.NewObjectID().Hex()},
		{Key: "hash", Value: hash},
		{Key: "confirmed", Value: cfg.AutoConfirm},
		{Key: "created_at", Value: dt(s.now())},
	})
	if store.IsDuplicateKey(err) {
		return &Error{Code: CodeAccountNameInUse, Message: msgNameInUse}
	}
	if err != nil {
		return s.internalError(ctx, "store account", err)
	}
	switch {
	case cfg.AutoConfirm:
		return nil
	case cfg.RunConfirmationFunction:
		status, err := s.runConfirmation(ctx, cfg, email)
		if err != nil || status == statusFail {
			// A failed confirmation leaves no account: the email can be
			// registered again.
			_, _ = s.coll(collUserpass).DeleteOne(ctx, idFilter(email))
			_, _ = s.coll(collTokens).DeleteMany(ctx, bson.D{{Key: "email", Value: email}, {Key: "kind", Value: tokenConfirm}})
			return confirmFailed(email, err)
		}
		return nil
	default:
		return s.sendUserpassMail(ctx, tokenConfirm, email, cfg.EmailConfirmationURL, cfg.ConfirmEmailSubject, "Confirm your email")
	}
}

func confirmFailed(email string, cause error) error {
	return &Error{Code: CodeBadRequest, Message: fmt.Sprintf("failed to confirm user %q", email), Err: cause}
}

// Function result statuses of confirmation and reset functions.
const (
	statusSuccess = "success"
	statusPending = "pending"
	statusFail    = "fail"
)

// runConfirmation runs the confirmation function with a fresh token pair
// and applies its answer: success confirms (and drops the token), pending
// keeps the token for /confirm.
func (s *Service) runConfirmation(ctx context.Context, cfg *appconfig.ProviderConfig, email string) (string, error) {
	token, tokenID, err := s.newUserpassToken(ctx, tokenConfirm, email)
	if err != nil {
		return "", err
	}
	arg := bson.D{{Key: "token", Value: token}, {Key: "tokenId", Value: tokenID}, {Key: "username", Value: email}}
	status, err := s.callStatusFunction(ctx, cfg.ConfirmationFunctionName, arg)
	if err != nil || status != statusPending {
		s.dropToken(ctx, tokenID)
	}
	if err != nil {
		return "", err
	}
	switch status {
	case statusSuccess:
		return status, s.markConfirmed(ctx, email)
	case statusPending:
		return status, nil
	}
	return statusFail, nil
}

// callStatusFunction runs a confirmation or reset function and returns
// the `status` of its result.
func (s *Service) callStatusFunction(ctx context.Context, name string, args ...any) (string, error) {
	fn := s.functions()
	if fn == nil || name == "" {
		return "", fmt.Errorf("auth: function %q cannot run: functions are not available", name)
	}
	res, err := fn.CallFunction(ctx, name, args...)
	if err != nil {
		return "", err
	}
	var status any
	switch r := res.(type) {
	case bson.D:
		status, _ = lookup(r, "status")
	case map[string]any:
		status = r["status"]
	}
	st, _ := status.(string)
	switch st {
	case statusSuccess, statusPending, statusFail:
		return st, nil
	}
	return statusFail, nil
}

func (s *Service) markConfirmed(ctx context.Context, email string) error {
	if _, err := s.coll(collUserpass).UpdateOne(ctx, idFilter(email),
		bson.D{{Key: "$set", Value: bson.D{{Key: "confirmed", Value: true}}}}, store.UpdateOptions{}); err != nil {
		return s.internalError(ctx, "confirm account", err)
	}
	return nil
}

// newUserpassToken stores a token pair; only a SHA-256 of the token is
// kept (it is 256 random bits, so a fast hash is enough).
func (s *Service) newUserpassToken(ctx context.Context, kind, email string) (token, tokenID string, err error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", "", s.internalError(ctx, "token", err)
	}
	token = hex.EncodeToString(raw)
	tokenID = bson.NewObjectID().Hex()
	sum := sha256.Sum256([]byte(token))
	_, err = s.coll(collTokens).InsertOne(ctx, bson.D{
		{Key: "_id", Value: tokenID},
		{Key: "kind", Value: kind},
		{Key: "email", Value: email},
		{Key: "token_hash", Value: hex.EncodeToString(sum[:])},
		{Key: "expires_at", Value: dt(s.now().Add(userpassTokenTTL))},
	})
	if err != nil {
		return "", "", s.internalError(ctx, "store token", err)
	}
	return token, tokenID, nil
}

func (s *Service) dropToken(ctx context.Context, tokenID string) {
	if _, err := s.coll(collTokens).DeleteOne(ctx, idFilter(tokenID)); err != nil {
		s.log.WarnContext(ctx, "auth: delete token", "err", err)
	}
}

// useToken checks a token pair of the kind and returns its email; the
// token is consumed.
func (s *Service) useToken(ctx context.Context, kind, token, tokenID string) (string, error) {
	bad := &Error{Code: CodeUserpassTokenInvalid, Message: msgInvalidTokenData}
	if token == "" || tokenID == "" || len(tokenID) > 64 {
		return "", bad
	}
	d, err := s.coll(collTokens).FindOne(ctx, idFilter(tokenID), store.FindOptions{})
	if errors.Is(err, store.ErrNoDocuments) {
		return "", bad
	}
	if err != nil {
		return "", s.internalError(ctx, "read token", err)
	}
	sum := sha256.Sum256([]byte(token))
	want, _ := lookupString(d, "token_hash")
	k, _ := lookupString(d, "kind")
	if subtle.ConstantTimeCompare([]byte(hex.EncodeToString(sum[:])), []byte(want)) != 1 || k != kind {
		return "", bad
	}
	if !lookupTime(d, "expires_at").After(s.now()) {
		s.dropToken(ctx, tokenID)
		return "", bad
	}
	res, err := s.coll(collTokens).DeleteOne(ctx, idFilter(tokenID))
	if err != nil {
		return "", s.internalError(ctx, "consume token", err)
	}
	if res.DeletedCount == 0 { // used concurrently
		return "", bad
	}
	email, _ := lookupString(d, "email")
	return email, nil
}

func (s *Service) sendUserpassMail(ctx context.Context, kind, email, baseURL, subject, defaultSubject string) error {
	token, tokenID, err := s.newUserpassToken(ctx, kind, email)
	if err != nil {
		return err
	}
	link := withTokenQuery(baseURL, token, tokenID)
	if subject == "" {
		subject = defaultSubject
	}
	text := "Follow this link:\n\n" + link + "\n\nIt is valid for 30 minutes.\n"
	if err := s.mailer.Send(ctx, Mail{To: email, Subject: subject, Text: text}); err != nil {
		s.dropToken(ctx, tokenID)
		return s.internalError(ctx, "send email", err)
	}
	return nil
}

// withTokenQuery appends token and tokenId to the configured URL.
func withTokenQuery(base, token, tokenID string) string {
	q := url.Values{"token": {token}, "tokenId": {tokenID}}.Encode()
	if strings.Contains(base, "?") {
		return base + "&" + q
	}
	return base + "?" + q
}

// ConfirmUser confirms a pending account with the token pair from the
// confirmation email or function.
func (s *Service) ConfirmUser(ctx context.Context, clientIP, token, tokenID string) error {
	if _, err := s.userpassConfig(); err != nil {
		return err
	}
	if err := s.limit(ctx, clientIP, "token:"+tokenID); err != nil {
		return err
	}
	email, err := s.useToken(ctx, tokenConfirm, token, tokenID)
	if err != nil {
		return err
	}
	return s.markConfirmed(ctx, email)
}

// ResendConfirmation emails a new confirmation link to a pending account.
// An unknown email is answered like a known one.
func (s *Service) ResendConfirmation(ctx context.Context, clientIP, email string) error {
	cfg, err := s.userpassConfig()
	if err != nil {
		return err
	}
	if err := s.limit(ctx, clientIP, "email:"+email); err != nil {
		return err
	}
	a, err := s.readAccount(ctx, email)
	if err != nil || a == nil {
		return err
	}
	if a.confirmed {
		return &Error{Code: CodeUserAlreadyConfirmed, Message: msgAlreadyConfirmed}
	}
	return s.sendUserpassMail(ctx, tokenConfirm, email, cfg.EmailConfirmationURL, cfg.ConfirmEmailSubject, "Confirm your email")
}

// RetryConfirmation reruns the confirmation function for a pending
// account. An unknown email is answered like a known one.
func (s *Service) RetryConfirmation(ctx context.Context, clientIP, email string) error {
	cfg, err := s.userpassConfig()
	if err != nil {
		return err
	}
	if cfg.AutoConfirm {
		return &Error{Code: CodeBadRequest, Message: fmt.Sprintf("cannot run confirmation for %s: automatic confirmation is enabled", email)}
	}
	if !cfg.RunConfirmationFunction {
		return &Error{Code: CodeBadRequest, Message: fmt.Sprintf("cannot run confirmation for %s: the confirmation function is not enabled", email)}
	}
	if err := s.limit(ctx, clientIP, "email:"+email); err != nil {
		return err
	}
	a, err := s.readAccount(ctx, email)
	if err != nil || a == nil {
		return err
	}
	if a.confirmed {
		return &Error{Code: CodeUserAlreadyConfirmed, Message: msgAlreadyConfirmed}
	}
	status, err := s.runConfirmation(ctx, cfg, email)
	if err != nil || status == statusFail {
		return confirmFailed(email, err)
	}
	return nil
}

// SendPasswordReset emails a reset link. It answers the same whether or
// not the account exists.
func (s *Service) SendPasswordReset(ctx context.Context, clientIP, email string) error {
	cfg, err := s.userpassConfig()
	if err != nil {
		return err
	}
	if cfg.RunResetFunction {
		return &Error{Code: CodeBadRequest, Message: msgUseResetFunction}
	}
	if err := s.limit(ctx, clientIP, "email:"+email); err != nil {
		return err
	}
	a, err := s.readAccount(ctx, email)
	if err != nil || a == nil {
		return err
	}
	return s.sendUserpassMail(ctx, tokenReset, email, cfg.ResetPasswordURL, cfg.ResetPasswordSubject, "Reset your password")
}

// ResetPassword sets a new password with the token pair from a reset
// email or a pending reset function.
func (s *Service) ResetPassword(ctx context.Context, clientIP, token, tokenID, password string) error {
	if _, err := s.userpassConfig(); err != nil {
		return err
	}
	if err := s.limit(ctx, clientIP, "token:"+tokenID); err != nil {
		return err
	}
	if err := checkPasswordLength(password); err != nil {
		return err
	}
	email, err := s.useToken(ctx, tokenReset, token, tokenID)
	if err != nil {
		return err
	}
	return s.setPassword(ctx, email, password)
}

func (s *Service) setPassword(ctx context.Context, email, password string) error {
	hash, err := hashPassword(s.argon, password)
	if err != nil {
		return s.internalError(ctx, "hash password", err)
	}
	res, err := s.coll(collUserpass).UpdateOne(ctx, idFilter(email),
		bson.D{{Key: "$set", Value: bson.D{{Key: "hash", Value: hash}}}}, store.UpdateOptions{})
	if err != nil {
		return s.internalError(ctx, "set password", err)
	}
	if res.MatchedCount == 0 {
		return &Error{Code: CodeUserpassTokenInvalid, Message: msgInvalidTokenData}
	}
	return nil
}

// CallResetFunction runs the reset function with
// {token, tokenId, username, password, currentPasswordValid} and args.
// An unknown email fails like a function answering "fail".
func (s *Service) CallResetFunction(ctx context.Context, clientIP, email, password string, args bson.A) error {
	cfg, err := s.userpassConfig()
	if err != nil {
		return err
	}
	if !cfg.RunResetFunction {
		return &Error{Code: CodeBadRequest, Message: "the reset function is not enabled"}
	}
	if err := s.limit(ctx, clientIP, "email:"+email); err != nil {
		return err
	}
	if err := checkPasswordLength(password); err != nil {
		return err
	}
	failed := &Error{Code: CodeBadRequest, Message: fmt.Sprintf("failed to reset password for user %q", email)}
	a, err := s.readAccount(ctx, email)
	if err != nil {
		return err
	}
	if a == nil {
		s.dummyVerify(password)
		return failed
	}
	current, _ := verifyPassword(a.hash, password)
	token, tokenID, err := s.newUserpassToken(ctx, tokenReset, email)
	if err != nil {
		return err
	}
	arg := bson.D{{Key: "token", Value: token}, {Key: "tokenId", Value: tokenID}, {Key: "username", Value: email},
		{Key: "password", Value: password}, {Key: "currentPasswordValid", Value: current}}
	status, err := s.callStatusFunction(ctx, cfg.ResetFunctionName, append([]any{arg}, args...)...)
	if err != nil || status != statusPending {
		s.dropToken(ctx, tokenID)
	}
	if err != nil {
		failed.Err = err
		return failed
	}
	switch status {
	case statusSuccess:
		return s.setPassword(ctx, email, password)
	case statusPending:
		return nil
	}
	return failed
}

// userpassLogin checks email and password. Unknown emails, wrong
// passwords and unconfirmed accounts all fail the same way after the
// same argon2 work.
func (s *Service) userpassLogin(ctx context.Context, clientIP string, body bson.D) (Identity, error) {
	email, _ := bodyString(body, "username")
	password, _ := bodyString(body, "password")
	if err := s.limit(ctx, clientIP, "email:"+email); err != nil {
		return Identity{}, err
	}
	if email == "" || password == "" {
		s.dummyVerify(password)
		return Identity{}, ErrInvalidPassword
	}
	a, err := s.readAccount(ctx, email)
	if err != nil {
		return Identity{}, err
	}
	if a == nil {
		s.dummyVerify(password)
		return Identity{}, ErrInvalidPassword
	}
	ok, err := verifyPassword(a.hash, password)
	if err != nil {
		s.log.ErrorContext(ctx, "auth: stored password hash unreadable", "err", err)
	}
	if !ok || !a.confirmed {
		return Identity{}, ErrInvalidPassword
	}
	return Identity{ID: a.accountID, ProviderType: ProviderUserpass,
		ProviderData: bson.D{{Key: "email", Value: email}}}, nil
}

// attachUserpassAccount records the account's user, so deleting the user
// deletes the account.
func (s *Service) attachUserpassAccount(ctx context.Context, ident Identity, userID string) {
	email, _ := lookupString(ident.ProviderData, "email")
	uid, _ := bson.ObjectIDFromHex(userID)
	if _, err := s.coll(collUserpass).UpdateOne(ctx,
		bson.D{{Key: "_id", Value: email}, {Key: "account_id", Value: ident.ID}, {Key: "user_id", Value: bson.D{{Key: "$exists", Value: false}}}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "user_id", Value: uid}}}}, store.UpdateOptions{}); err != nil {
		s.log.WarnContext(ctx, "auth: attach account to user", "err", err)
	}
}

// CreateEmailPasswordUser creates a confirmed email/password user (admin
// and CLI), as App Services' admin `POST /users`. It works whether or not
// the app enables local-userpass.
func (s *Service) CreateEmailPasswordUser(ctx context.Context, email, password string) (*User, error) {
	if err := checkEmail(email); err != nil {
		return nil, err
	}
	if err := checkPasswordLength(password); err != nil {
		return nil, err
	}
	hash, err := hashPassword(s.argon, password)
	if err != nil {
		return nil, s.internalError(ctx, "hash password", err)
	}
	accountID := bson.NewObjectID().Hex()
	_, err = s.coll(collUserpass).InsertOne(ctx, bson.D{
		{Key: "_id", Value: email}, {Key: "account_id", Value: accountID}, {Key: "hash", Value: hash},
		{Key: "confirmed", Value: true}, {Key: "created_at", Value: dt(s.now())},
	})
	if store.IsDuplicateKey(err) {
		return nil, &Error{Code: CodeAccountNameInUse, Message: msgNameInUse}
	}
	if err != nil {
		return nil, s.internalError(ctx, "store account", err)
	}
	ident := Identity{ID: accountID, ProviderType: ProviderUserpass, ProviderID: s.providerID(ProviderUserpass),
		ProviderData: bson.D{{Key: "email", Value: email}}}
	u, created, err := s.userForIdentity(ctx, ident, UserTypeNormal)
	if err != nil {
		_, _ = s.coll(collUserpass).DeleteOne(ctx, idFilter(email))
		return nil, err
	}
	s.attachUserpassAccount(ctx, ident, u.ID)
	if created {
		s.emit(ctx, OpCreate, u, ProviderUserpass)
	}
	return u, nil
}
