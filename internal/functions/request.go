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
	raw := r.URL.RawQuery
	if strings.Contains(raw, "secret") || strings.Contains(raw, "&&") || strings.HasPrefix(raw, "&") || strings.HasSuffix(raw, "&") {
		var q []string
		for _, p := range strings.Split(raw, "&") {
			if p != "" && p != "secret" && !strings.HasPrefix(p, "secret=") {
				q = append(q, p)
			}
		}
		raw = strings.Join(q, "&")
	}
	return &expr.Request{
		RemoteIPAddress: ip,
		// The request's own header map, not a copy: it is only read
		// (%%request in rules, context.request, which converts it), and
		// only while the request is being served.
		RequestHeaders: r.Header,
		RawQueryString: raw,
		HTTPReferrer:   r.Referer(),
		HTTPUserAgent:  r.UserAgent(),
		Service:        service,
		Action:         action,
	}
}
