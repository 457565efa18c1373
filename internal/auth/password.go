package auth

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
