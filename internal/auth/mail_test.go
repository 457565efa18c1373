package auth

import (
	"bufio"
	"context"
	"net"
	"strings"
	"testing"
	"time"
)

// fakeSMTP accepts one message on loopback and returns the transcript.
func fakeSMTP(t *testing.T) (addr string, got <-chan string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	ch := make(chan string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			ch <- "accept: " + err.Error()
			return
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(20 * time.Second))
		r := bufio.NewReader(c)
		var log strings.Builder
		say := func(s string) { c.Write([]byte(s + "\r\n")) }
		say("220 fake ESMTP")
		inData := false
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				ch <- log.String()
				return
			}
			log.WriteString(line)
			cmd := strings.ToUpper(strings.TrimSpace(line))
			switch {
			case inData:
				if strings.TrimRight(line, "\r\n") == "." {
					inData = false
					say("250 queued")
				}
			case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
				say("250 fake")
			case strings.HasPrefix(cmd, "DATA"):
				inData = true
				say("354 go on")
			case strings.HasPrefix(cmd, "QUIT"):
				say("221 bye")
				ch <- log.String()
				return
			default:
				say("250 ok")
			}
		}
	}()
	return ln.Addr().String(), ch
}

func TestSMTPMailer(t *testing.T) {
	addr, got := fakeSMTP(t)
	cfg, ok := SMTPConfigFromEnv(func(k string) string {
		return map[string]string{"ATOLL_SMTP_ADDR": addr, "ATOLL_SMTP_FROM": "app@example.com"}[k]
	})
	if !ok {
		t.Fatal("config not read")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err := NewSMTPMailer(cfg).Send(ctx, Mail{To: "user@example.com", Subject: "Confirm", Text: "Follow http://x/c?token=1&tokenId=2\n"})
	if err != nil {
		t.Fatal(err)
	}
	tr := <-got
	for _, want := range []string{"MAIL FROM:<app@example.com>", "RCPT TO:<user@example.com>", "Subject: Confirm\r\n", "http://x/c?token=1&tokenId=2\r\n"} {
		if !strings.Contains(tr, want) {
			t.Errorf("transcript lacks %q:\n%s", want, tr)
		}
	}
	if err := NewSMTPMailer(cfg).Send(ctx, Mail{To: "a@b.c\r\nBcc: x@y.z", Subject: "s"}); err == nil {
		t.Fatal("header injection accepted")
	}
	if _, ok := SMTPConfigFromEnv(func(string) string { return "" }); ok {
		t.Fatal("no address should mean no SMTP")
	}
}
