package functions

import (
	"net"
	"net/http"
	"strings"

	"github.com/atollhq/atoll/internal/expr"
)

// RequestOf converts an HTTP request into context.request / %%request
// (spec §1.4): header values as arrays, any secret=… pair stripped from
// the query string, referrer and user agent only when sent.
func RequestOf(r *http.Request, service, action string) *expr.Request {
	if r == nil {
		return nil
	}
	ip := r.RemoteAddr
	if h, _, err := net.SplitHostPort(ip); err == nil {
		ip = h
	}
	var q []string
	for _, p := range strings.Split(r.URL.RawQuery, "&") {
		if p != "" && p != "secret" && !strings.HasPrefix(p, "secret=") {
			q = append(q, p)
		}
	}
	headers := make(map[string][]string, len(r.Header))
	for k, v := range r.Header {
		headers[k] = append([]string(nil), v...)
	}
	return &expr.Request{
		RemoteIPAddress: ip,
		RequestHeaders:  headers,
		RawQueryString:  strings.Join(q, "&"),
		HTTPReferrer:    r.Referer(),
		HTTPUserAgent:   r.UserAgent(),
		Service:         service,
		Action:          action,
	}
}
