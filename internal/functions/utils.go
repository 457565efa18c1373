package functions

import (
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strings"

	"github.com/dop251/goja"
	"github.com/golang-jwt/jwt/v5"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// bytesOf reads a string (UTF-8) or a BSON.Binary argument.
func (rt *jsRuntime) bytesOf(v goja.Value) []byte {
	if o, ok := v.(*goja.Object); ok {
		if x, err := rt.fromJS(o, 0, false); err == nil {
			if b, ok := x.(bson.Binary); ok {
				return b.Data
			}
		}
	}
	return []byte(v.String())
}

func (rt *jsRuntime) binary(b []byte) goja.Value { return rt.toJS(bson.Binary{Data: b}) }

func (rt *jsRuntime) utilsObject() *goja.Object {
	vm := rt.vm
	cr := vm.NewObject()
	_ = cr.Set("hash", func(c goja.FunctionCall) goja.Value {
		var h hash.Hash
		switch strings.ToLower(c.Argument(0).String()) {
		case "sha1":
			h = sha1.New()
		case "sha256":
			h = sha256.New()
		case "md5":
			h = md5.New()
		default:
			panic(vm.NewTypeError("utils.crypto.hash: unsupported algorithm %q", c.Argument(0).String()))
		}
		h.Write(rt.bytesOf(c.Argument(1)))
		return rt.binary(h.Sum(nil))
	})
	_ = cr.Set("hmac", func(c goja.FunctionCall) goja.Value {
		var nh func() hash.Hash
		switch strings.ToLower(c.Argument(2).String()) {
		case "sha1":
			nh = sha1.New
		case "sha256":
			nh = sha256.New
		case "sha512":
			nh = sha512.New
		default:
			panic(vm.NewTypeError("utils.crypto.hmac: unsupported hash %q", c.Argument(2).String()))
		}
		m := hmac.New(nh, rt.bytesOf(c.Argument(1)))
		m.Write(rt.bytesOf(c.Argument(0)))
		sum := m.Sum(nil)
		switch strings.ToLower(c.Argument(3).String()) {
		case "base64":
			return vm.ToValue(b64(sum))
		case "hex", "undefined":
			return vm.ToValue(hex.EncodeToString(sum))
		}
		panic(vm.NewTypeError("utils.crypto.hmac: unsupported output %q", c.Argument(3).String()))
	})
	// encrypt/decrypt: the mode is undocumented upstream; Atoll uses
	// AES-GCM with a random 12-byte nonce prepended to the ciphertext.
	aead := func(alg string, key []byte) cipher.AEAD {
		if strings.ToLower(alg) != "aes" {
			panic(vm.NewTypeError("utils.crypto: unsupported encryption %q", alg))
		}
		b, err := aes.NewCipher(key)
		if err != nil {
			panic(vm.NewTypeError("utils.crypto: key must be 16, 24 or 32 bytes"))
		}
		g, _ := cipher.NewGCM(b)
		return g
	}
	_ = cr.Set("encrypt", func(c goja.FunctionCall) goja.Value {
		g := aead(c.Argument(0).String(), rt.bytesOf(c.Argument(2)))
		nonce := make([]byte, g.NonceSize())
		_, _ = rand.Read(nonce)
		return rt.binary(g.Seal(nonce, nonce, rt.bytesOf(c.Argument(1)), nil))
	})
	_ = cr.Set("decrypt", func(c goja.FunctionCall) goja.Value {
		g := aead(c.Argument(0).String(), rt.bytesOf(c.Argument(2)))
		data := rt.bytesOf(c.Argument(1))
		if len(data) < g.NonceSize() {
			rt.throw(errors.New("utils.crypto.decrypt: ciphertext too short"))
		}
		out, err := g.Open(nil, data[:g.NonceSize()], data[g.NonceSize():], nil)
		if err != nil {
			rt.throw(fmt.Errorf("utils.crypto.decrypt: %w", err))
		}
		return rt.binary(out)
	})
	// sign/verify: RSA with a PKCS#1 (or PKCS#8) PEM key, SHA-256,
	// scheme "pss" (default) or "pkcs1v15".
	_ = cr.Set("sign", func(c goja.FunctionCall) goja.Value {
		key, err := jwt.ParseRSAPrivateKeyFromPEM([]byte(c.Argument(2).String()))
		if err != nil || strings.ToLower(c.Argument(0).String()) != "rsa" {
			panic(vm.NewTypeError("utils.crypto.sign: an \"rsa\" PEM private key is required"))
		}
		sum := sha256.Sum256(rt.bytesOf(c.Argument(1)))
		var sig []byte
		if strings.ToLower(c.Argument(3).String()) == "pkcs1v15" {
			sig, err = rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
		} else {
			sig, err = rsa.SignPSS(rand.Reader, key, crypto.SHA256, sum[:], nil)
		}
		if err != nil {
			rt.throw(err)
		}
		return rt.binary(sig)
	})
	_ = cr.Set("verify", func(c goja.FunctionCall) goja.Value {
		key, err := jwt.ParseRSAPublicKeyFromPEM([]byte(c.Argument(2).String()))
		if err != nil || strings.ToLower(c.Argument(0).String()) != "rsa" {
			panic(vm.NewTypeError("utils.crypto.verify: an \"rsa\" PEM public key is required"))
		}
		sum := sha256.Sum256(rt.bytesOf(c.Argument(1)))
		sig := rt.bytesOf(c.Argument(3))
		if strings.ToLower(c.Argument(4).String()) == "pkcs1v15" {
			err = rsa.VerifyPKCS1v15(key, crypto.SHA256, sum[:], sig)
		} else {
			err = rsa.VerifyPSS(key, crypto.SHA256, sum[:], sig, nil)
		}
		return vm.ToValue(err == nil)
	})
	jw := vm.NewObject()
	_ = jw.Set("encode", func(c goja.FunctionCall) goja.Value {
		m := jwt.GetSigningMethod(c.Argument(0).String())
		if m == nil {
			panic(vm.NewTypeError("utils.jwt.encode: unsupported algorithm %q", c.Argument(0).String()))
		}
		claims := jwt.MapClaims{}
		if p, ok := c.Argument(1).Export().(map[string]any); ok {
			for k, v := range p {
				claims[k] = v
			}
		}
		t := jwt.NewWithClaims(m, claims)
		if h, ok := c.Argument(3).Export().(map[string]any); ok {
			for k, v := range h {
				t.Header[k] = v
			}
		}
		key, err := signingKey(m, c.Argument(2).String())
		if err != nil {
			rt.throw(err)
		}
		s, err := t.SignedString(key)
		if err != nil {
			rt.throw(err)
		}
		return vm.ToValue(s)
	})
	_ = jw.Set("decode", func(c goja.FunctionCall) goja.Value {
		keyStr := c.Argument(1).String()
		var accepted []string
		if a, ok := c.Argument(3).Export().([]any); ok {
			for _, x := range a {
				accepted = append(accepted, fmt.Sprint(x))
			}
		}
		opts := []jwt.ParserOption{jwt.WithoutClaimsValidation()}
		if len(accepted) > 0 {
			opts = append(opts, jwt.WithValidMethods(accepted))
		} else {
			opts = append(opts, jwt.WithValidMethods([]string{"HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384", "PS512"}))
		}
		claims := jwt.MapClaims{}
		tok, err := jwt.NewParser(opts...).ParseWithClaims(c.Argument(0).String(), claims, func(t *jwt.Token) (any, error) {
			return verifyKey(t.Method, keyStr)
		})
		if err != nil {
			rt.throw(fmt.Errorf("utils.jwt.decode: %w", err))
		}
		payload := vm.ToValue(map[string]any(claims))
		if c.Argument(2).ToBoolean() {
			o := vm.NewObject()
			_ = o.Set("header", vm.ToValue(tok.Header))
			_ = o.Set("payload", payload)
			return o
		}
		return payload
	})
	u := vm.NewObject()
	_ = u.Set("crypto", rt.freeze(cr))
	_ = u.Set("jwt", rt.freeze(jw))
	return u
}

func signingKey(m jwt.SigningMethod, key string) (any, error) {
	switch m.(type) {
	case *jwt.SigningMethodHMAC:
		return []byte(key), nil
	case *jwt.SigningMethodRSA, *jwt.SigningMethodRSAPSS:
		return jwt.ParseRSAPrivateKeyFromPEM([]byte(key))
	case *jwt.SigningMethodECDSA:
		return jwt.ParseECPrivateKeyFromPEM([]byte(key))
	}
	return nil, fmt.Errorf("unsupported algorithm %s", m.Alg())
}

func verifyKey(m jwt.SigningMethod, key string) (any, error) {
	switch m.(type) {
	case *jwt.SigningMethodHMAC:
		return []byte(key), nil
	case *jwt.SigningMethodRSA, *jwt.SigningMethodRSAPSS:
		return jwt.ParseRSAPublicKeyFromPEM([]byte(key))
	case *jwt.SigningMethodECDSA:
		return jwt.ParseECPublicKeyFromPEM([]byte(key))
	}
	return nil, fmt.Errorf("unsupported algorithm %s", m.Alg())
}
