package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Argon2Params are argon2id's cost parameters.
type Argon2Params struct {
	// Time is the number of passes, Memory the memory in KiB, Threads the
	// parallelism.
	Time    uint32
	Memory  uint32
	Threads uint8
}

// DefaultArgon2 is t=2, m=19 MiB, p=1: the OWASP-recommended argon2id
// minimum, about 20–30 ms per hash on one core of a small machine, so a
// 2-core box sustains well over 40 password logins per second while an
// offline guess costs 19 MiB of memory each.
var DefaultArgon2 = Argon2Params{Time: 2, Memory: 19 * 1024, Threads: 1}

// passwordHash is argon2id in the PHC string format:
// $argon2id$v=19$m=<KiB>,t=<passes>,p=<threads>$<salt b64>$<hash b64>.
// The parameters travel with each hash, so changing DefaultArgon2 leaves
// old hashes verifiable.
func hashPassword(p Argon2Params, password string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

const argonKeyLen = 32

var b64 = base64.RawStdEncoding

var errBadHash = errors.New("auth: malformed password hash")

// verifyPassword reports whether password matches the encoded hash, in
// time that does not depend on where they differ.
func verifyPassword(encoded, password string) (bool, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, errBadHash
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return false, errBadHash
	}
	var p Argon2Params
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil ||
		p.Time == 0 || p.Threads == 0 || p.Memory == 0 {
		return false, errBadHash
	}
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return false, errBadHash
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil || len(want) == 0 {
		return false, errBadHash
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// dummyVerify spends the same work as a real verification, so that an
// unknown email costs as much time as a wrong password.
func (s *Service) dummyVerify(password string) {
	_, _ = verifyPassword(s.dummyHash, password)
}

// checkPasswordLength applies App Services' 6–128 rule (in characters).
func checkPasswordLength(pw string) error {
	if n := utf8.RuneCountInString(pw); n < 6 || n > 128 {
		return &Error{Code: CodeBadRequest, Message: msgPasswordLength}
	}
	return nil
}
