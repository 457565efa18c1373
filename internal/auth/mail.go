package auth

import (
	"context"
	"log/slog"
)

// Mail is one email.
type Mail struct {
	To      string
	Subject string
	Text    string
}

// Mailer sends confirmation and reset emails.
type Mailer interface {
	Send(ctx context.Context, m Mail) error
}

// SMTPConfig configures NewSMTPMailer.
type SMTPConfig struct {
	// Addr is host:port of the SMTP server.
	Addr string
	// Username and Password authenticate with PLAIN auth when Username is
	// set (only over TLS or to localhost, as net/smtp enforces).
	Username string
	Password string
	// From is the sender address.
	From string
}

// NewSMTPMailer returns a Mailer that sends through an SMTP server.
func NewSMTPMailer(cfg SMTPConfig) Mailer { return &smtpMailer{cfg: cfg} }

type smtpMailer struct{ cfg SMTPConfig }

// Send implements Mailer.
func (m *smtpMailer) Send(ctx context.Context, mail Mail) error { return errNotYet }

// NewLogMailer returns a Mailer that writes each email (including its
// confirmation or reset link) to the log at WARN level, so development
// works without an SMTP server. It is the one place a token reaches the
// log; configure SMTP in production.
func NewLogMailer(l *slog.Logger) Mailer { return &logMailer{log: l} }

type logMailer struct{ log *slog.Logger }

// Send implements Mailer.
func (m *logMailer) Send(ctx context.Context, mail Mail) error {
	m.log.WarnContext(ctx, "auth: email not sent (no SMTP configured); its content follows",
		"to", mail.To, "subject", mail.Subject, "text", mail.Text)
	return nil
}
