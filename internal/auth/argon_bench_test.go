package auth

import "testing"

// BenchmarkArgon2Default is one DefaultArgon2 hash: the cost of each
// password login, registration and reset.
func BenchmarkArgon2Default(b *testing.B) {
	for b.Loop() {
		if _, err := hashPassword(DefaultArgon2, "benchpassword"); err != nil {
			b.Fatal(err)
		}
	}
}
