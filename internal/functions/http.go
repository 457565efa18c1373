package functions

import (
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"

	"github.com/dop251/goja"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// maxHTTPBody caps a context.http response body.
const maxHTTPBody = 18 << 20

// httpObject is context.http: get, post, put, patch, delete, head.
func (rt *jsRuntime) httpObject() *goja.Object {
	o := rt.vm.NewObject()
	for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"} {
		_ = o.Set(strings.ToLower(m), func(call goja.FunctionCall) goja.Value {
			return rt.promise(func() (any, error) { return rt.httpDo(rt.cur, m, call.Argument(0)) })
		})
	}
	return o
}

func (rt *jsRuntime) httpDo(c *call, method string, opts goja.Value) (any, error) {
	u, err := requestURL(opts)
	if err != nil {
		return nil, err
	}
	var body io.Reader
	contentType := ""
	if v := opt(opts, "body"); v != nil {
		if optBool(opts, "encodeBodyAsJSON") {
			s, err := rt.ejsonStringify(v, false)
			if err != nil {
				return nil, err
			}
			body, contentType = strings.NewReader(s), "application/json"
		} else {
			body = bytes.NewReader(rt.bytesOf(v))
		}
	} else if v := opt(opts, "form"); v != nil {
		var buf bytes.Buffer
		w := multipart.NewWriter(&buf)
		if m, ok := v.Export().(map[string]any); ok {
			for k, x := range m {
				_ = w.WriteField(k, fmt.Sprint(x))
			}
		}
		_ = w.Close()
		body, contentType = &buf, w.FormDataContentType()
	}
	req, err := http.NewRequestWithContext(c.ctx, method, u, body)
	if err != nil {
		return nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if h, ok := exportMap(opt(opts, "headers")); ok {
		for k, v := range h {
			switch x := v.(type) {
			case []any:
				for _, e := range x {
					req.Header.Add(k, fmt.Sprint(e))
				}
			default:
				req.Header.Add(k, fmt.Sprint(x))
			}
		}
	}
	if ck, ok := exportMap(opt(opts, "cookies")); ok {
		for k, v := range ck {
			req.AddCookie(&http.Cookie{Name: k, Value: fmt.Sprint(v)})
		}
	}
	client := c.e.cfg.HTTPClient
	if v := opt(opts, "followRedirects"); v != nil && !v.ToBoolean() {
		cl := *client
		cl.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		client = &cl
	}
	if v := opt(opts, "digestAuth"); v != nil && v.ToBoolean() {
		return nil, fmt.Errorf("context.http: digestAuth is not supported by Atoll")
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxHTTPBody+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxHTTPBody {
		return nil, fmt.Errorf("context.http: response body larger than %d bytes", maxHTTPBody)
	}
	headers := bson.D{}
	for k, vs := range resp.Header {
		a := bson.A{}
		for _, v := range vs {
			a = append(a, v)
		}
		headers = append(headers, bson.E{Key: k, Value: a})
	}
	cookies := bson.D{}
	for _, ck := range resp.Cookies() {
		cookies = append(cookies, bson.E{Key: ck.Name, Value: bson.D{{Key: "value", Value: ck.Value}}})
	}
	return bson.D{
		{Key: "status", Value: resp.Status}, {Key: "statusCode", Value: int32(resp.StatusCode)},
		{Key: "contentLength", Value: float64(resp.ContentLength)},
		{Key: "headers", Value: headers}, {Key: "cookies", Value: cookies},
		{Key: "body", Value: bson.Binary{Data: data}},
	}, nil
}

func exportMap(v goja.Value) (map[string]any, bool) {
	if v == nil {
		return nil, false
	}
	m, ok := v.Export().(map[string]any)
	return m, ok
}

// requestURL builds the URL from `url` or its components.
func requestURL(opts goja.Value) (string, error) {
	if v := opt(opts, "url"); v != nil {
		return v.String(), nil
	}
	host := opt(opts, "host")
	if host == nil {
		return "", fmt.Errorf("context.http: url or host is required")
	}
	u := url.URL{Scheme: "http", Host: host.String()}
	if v := opt(opts, "scheme"); v != nil {
		u.Scheme = v.String()
	}
	if v := opt(opts, "path"); v != nil {
		u.Path = v.String()
	}
	if v := opt(opts, "fragment"); v != nil {
		u.Fragment = v.String()
	}
	if v := opt(opts, "username"); v != nil {
		if p := opt(opts, "password"); p != nil {
			u.User = url.UserPassword(v.String(), p.String())
		} else {
			u.User = url.User(v.String())
		}
	}
	if q, ok := exportMap(opt(opts, "query")); ok {
		vals := url.Values{}
		for k, v := range q {
			if a, ok := v.([]any); ok {
				for _, e := range a {
					vals.Add(k, fmt.Sprint(e))
				}
			} else {
				vals.Add(k, fmt.Sprint(v))
			}
		}
		u.RawQuery = vals.Encode()
	}
	return u.String(), nil
}
