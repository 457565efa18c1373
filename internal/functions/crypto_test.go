package functions

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

func TestRSASignAndJWT(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	priv := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
	pubDER, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	pub := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}))
	files := fnFiles(map[string]string{
		"rsa": `exports = function(priv, pub){
  const out = [];
  for (const scheme of ["pss", "pkcs1v15"]) {
    const sig = utils.crypto.sign("rsa", "message", priv, scheme);
    out.push(utils.crypto.verify("rsa", "message", pub, sig, scheme), utils.crypto.verify("rsa", "other", pub, sig, scheme));
  }
  const tok = utils.jwt.encode("RS256", {sub: "7"}, priv);
  out.push(utils.jwt.decode(tok, pub, false, ["RS256"]).sub);
  let refused = false;
  try { utils.jwt.decode(tok, pub, false, ["HS256"]) } catch (e) { refused = true }
  out.push(refused);
  return out;
}`,
	}, `[{"name":"rsa"}]`)
	e := testEngine(t, testApp(t, files), Config{})
	got, err := e.Call(tctx(t), SystemCaller(), "rsa", []any{priv, pub})
	want := bson.A{true, false, true, false, "7", true}
	a, ok := got.(bson.A)
	if err != nil || !ok || len(a) != len(want) {
		t.Fatalf("rsa: %#v %v", got, err)
	}
	for i := range want {
		if a[i] != want[i] {
			t.Errorf("rsa[%d] = %#v, want %#v", i, a[i], want[i])
		}
	}
}
