package appconfig

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

// SecretEnvPrefix starts the name of an environment variable that supplies
// a secret: secret "jwt-secret" comes from ATOLL_SECRET_jwt_secret (a '-'
// cannot appear in a variable name, so it is written '_').
const SecretEnvPrefix = "ATOLL_SECRET_"

// SecretsFromEnv picks the secrets out of an environment list such as
// os.Environ(). The variable for a secret is SecretEnvPrefix followed by the
// secret's name with '-' replaced by '_'; the map is keyed by that spelling
// and Load matches it to the names the app uses.
func SecretsFromEnv(environ []string) map[string]string {
	out := map[string]string{}
	for _, kv := range environ {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			continue
		}
		if name, ok := strings.CutPrefix(k, SecretEnvPrefix); ok && name != "" {
			out[name] = v
		}
	}
	return out
}

// ReadSecretsFile reads a JSON object mapping secret names to string values.
// It is kept outside the app directory so that exports never carry secrets.
func ReadSecretsFile(name string) (map[string]string, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	var out map[string]string
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("appconfig: secrets file %s: expected a JSON object of strings: %w", name, err)
	}
	return out, nil
}
