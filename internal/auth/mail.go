package auth

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/smtp"
	"strings"
	"time"
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

// SMTPConfigFromEnv reads ATOLL_SMTP_ADDR, ATOLL_SMTP_USERNAME,
// ATOLL_SMTP_PASSWORD and ATOLL_SMTP_FROM; ok is false when no address is
// set (then use NewLogMailer).
func SMTPConfigFromEnv(getenv func(string) string) (cfg SMTPConfig, ok bool) {
	cfg = SMTPConfig{Addr: getenv("ATOLL_SMTP_ADDR"), Username: getenv("ATOLL_SMTP_USERNAME"),
		Password: getenv("ATOLL_SMTP_PASSWORD"), From: getenv("ATOLL_SMTP_FROM")}
	if cfg.From == "" {
		cfg.From = "no-reply@localhost"
	}
	return cfg, cfg.Addr != ""
}

// NewSMTPMailer returns a Mailer that sends through an SMTP server.
func NewSMTPMailer(cfg SMTPConfig) Mailer { return &smtpMailer{cfg: cfg} }

type smtpMailer struct{ cfg SMTPConfig }

// Send implements Mailer. net/smtp has no context; the context's deadline
// (or 30 s) bounds the connection instead.
func (m *smtpMailer) Send(ctx context.Context, mail Mail) error {
	for _, h := range []string{mail.To, mail.Subject, m.cfg.From} {
		if strings.ContainsAny(h, "\r\n") {
			return errors.New("auth: mail header contains a line break")
		}
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(30 * time.Second)
	}
	d := net.Dialer{Deadline: deadline}
	conn, err := d.DialContext(ctx, "tcp", m.cfg.Addr)
	if err != nil {
		return fmt.Errorf("auth: smtp dial: %w", err)
	}
	_ = conn.SetDeadline(deadline)
	host, _, _ := net.SplitHostPort(m.cfg.Addr)
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("auth: smtp: %w", err)
	}
	defer c.Close()
	if ok, _ := c.Extension("STARTTLS"); ok {
		if err := c.StartTLS(&tls.Config{ServerName: host}); err != nil {
			return fmt.Errorf("auth: smtp starttls: %w", err)
		}
	}
	if m.cfg.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", m.cfg.Username, m.cfg.Password, host)); err != nil {
			return fmt.Errorf("auth: smtp auth: %w", err)
		}
	}
	if err := c.Mail(m.cfg.From); err != nil {
		return fmt.Errorf("auth: smtp MAIL: %w", err)
	}
	if err := c.Rcpt(mail.To); err != nil {
		return fmt.Errorf("auth: smtp RCPT: %w", err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("auth: smtp DATA: %w", err)
	}
	msg := "From: " + m.cfg.From + "\r\nTo: " + mail.To + "\r\nSubject: " + mail.Subject +
		"\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" +
		strings.ReplaceAll(mail.Text, "\n", "\r\n")
	if _, err := io.WriteString(w, msg); err != nil {
		return fmt.Errorf("auth: smtp write: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("auth: smtp send: %w", err)
	}
	return c.Quit()
}

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
