package auth

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// RegisterUser starts an email/password registration. Depending on the
// provider config the account is confirmed at once, when the confirmation
// function says so, or when the emailed link's token is used.
func (s *Service) RegisterUser(ctx context.Context, clientIP, email, password string) error {
	return errNotYet
}

// ConfirmUser confirms a pending account with the token pair from the
// confirmation email or function.
func (s *Service) ConfirmUser(ctx context.Context, clientIP, token, tokenID string) error {
	return errNotYet
}

// ResendConfirmation emails a new confirmation link to a pending account.
func (s *Service) ResendConfirmation(ctx context.Context, clientIP, email string) error {
	return errNotYet
}

// RetryConfirmation reruns the confirmation function for a pending
// account.
func (s *Service) RetryConfirmation(ctx context.Context, clientIP, email string) error {
	return errNotYet
}

// SendPasswordReset emails a reset link. It answers the same whether or
// not the account exists.
func (s *Service) SendPasswordReset(ctx context.Context, clientIP, email string) error {
	return errNotYet
}

// ResetPassword sets a new password with the token pair from a reset
// email or a pending reset function.
func (s *Service) ResetPassword(ctx context.Context, clientIP, token, tokenID, password string) error {
	return errNotYet
}

// CallResetFunction runs the reset function with
// {token, tokenId, username, password, currentPasswordValid} and args.
func (s *Service) CallResetFunction(ctx context.Context, clientIP, email, password string, args bson.A) error {
	return errNotYet
}
