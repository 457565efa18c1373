package appconfig

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
)

// templates resolves `%(...)` config templates against the active
// environment. App Services resolves them once, when an app is imported, and
// stores the result; Atoll does the same at load time, so the model (and an
// export) holds resolved values.
type templates struct {
	tag    string
	values map[string]json.RawMessage
	// envFile is the environment file consulted, for messages.
	envFile string
}

// expandFile rewrites every string in raw that contains a template. raw is
// returned unchanged when it has none.
func (t *templates) expandFile(raw []byte, file string, probs *problemList) []byte {
	if !bytes.Contains(raw, []byte("%(")) {
		return raw
	}
	var buf bytes.Buffer
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := t.walk(dec, &buf, "", file, probs); err != nil {
		// The caller reports syntax errors when it parses the file.
		return raw
	}
	return buf.Bytes()
}

// walk copies one JSON value from dec to buf, expanding templates in
// strings (not in keys).
func (t *templates) walk(dec *json.Decoder, buf *bytes.Buffer, path, file string, probs *problemList) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch v := tok.(type) {
	case json.Delim:
		switch v {
		case '{':
			buf.WriteByte('{')
			first := true
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return err
				}
				key, _ := kt.(string)
				if !first {
					buf.WriteByte(',')
				}
				first = false
				writeString(buf, key)
				buf.WriteByte(':')
				if err := t.walk(dec, buf, joinPath(path, key), file, probs); err != nil {
					return err
				}
			}
			if _, err := dec.Token(); err != nil {
				return err
			}
			buf.WriteByte('}')
		case '[':
			buf.WriteByte('[')
			for i := 0; dec.More(); i++ {
				if i > 0 {
					buf.WriteByte(',')
				}
				if err := t.walk(dec, buf, path+"["+strconv.Itoa(i)+"]", file, probs); err != nil {
					return err
				}
			}
			if _, err := dec.Token(); err != nil {
				return err
			}
			buf.WriteByte(']')
		}
	case string:
		writeString(buf, t.expand(v, path, file, probs))
	case json.Number:
		buf.WriteString(v.String())
	case bool:
		buf.WriteString(strconv.FormatBool(v))
	case nil:
		buf.WriteString("null")
	}
	return nil
}

// expand resolves each `%(expansion)` in s. Only %%environment.tag and
// %%environment.values.<name> (with an optional dotted path into the value)
// are known at import time; anything else is a problem, as is a value that is
// not a string, because templating works on strings only.
func (t *templates) expand(s, path, file string, probs *problemList) string {
	var out strings.Builder
	for {
		i := strings.Index(s, "%(")
		if i < 0 {
			out.WriteString(s)
			return out.String()
		}
		j := strings.IndexByte(s[i:], ')')
		if j < 0 {
			probs.add(file, path, "unterminated template "+strconv.Quote(s[i:]))
			out.WriteString(s)
			return out.String()
		}
		out.WriteString(s[:i])
		expr := strings.TrimSpace(s[i+2 : i+j])
		repl, ok := t.resolve(expr, path, file, probs)
		if ok {
			out.WriteString(repl)
		} else {
			out.WriteString(s[i : i+j+1])
		}
		s = s[i+j+1:]
	}
}

func (t *templates) resolve(expr, path, file string, probs *problemList) (string, bool) {
	if expr == "%%environment.tag" {
		return t.tag, true
	}
	name, ok := strings.CutPrefix(expr, "%%environment.values.")
	if !ok || name == "" {
		probs.add(file, path, "template %("+expr+") is not supported: only %%environment.tag and %%environment.values.<name> are resolved at import")
		return "", false
	}
	parts := strings.Split(name, ".")
	raw, found := t.values[parts[0]]
	for _, p := range parts[1:] {
		if !found {
			break
		}
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw, &obj) != nil {
			found = false
			break
		}
		raw, found = obj[p]
	}
	if !found {
		probs.add(file, path, "template %("+expr+"): "+t.envFile+" has no value "+strconv.Quote(name))
		return "", false
	}
	var str string
	if json.Unmarshal(raw, &str) != nil {
		probs.add(file, path, "template %("+expr+") resolves to "+describe(raw)+"; templates work on strings only")
		return "", false
	}
	return str, true
}
