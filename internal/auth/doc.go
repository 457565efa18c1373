// Package auth is Atoll's user authentication: auth providers (anonymous,
// email/password, API keys, custom JWT, custom function), users and their
// identities, sessions, access and refresh tokens, custom user data and
// the auth-event hook that authentication triggers build on.
//
// Everything auth keeps lives in the store under the reserved database
// store.SystemDatabase, so several server processes sharing one store
// behave as one service: a session revoked by one process is refused by
// every other within SessionCacheTTL (5 s by default). What a process
// caches (session answers, verified access tokens, the profile's user
// documents) it trusts for at most that long, and its own writes take
// effect at once.
//
// The HTTP routes of the client API live in internal/server/clientapi and
// call the Service methods; this package knows nothing of HTTP except the
// status that goes with each error Code (Code.HTTPStatus).
//
// Collections (all in __atoll):
//
//	auth_users        one document per user; identities embedded
//	auth_identities   _id "<provider type>|<identity id>" → user id: makes
//	                  an identity belong to at most one user
//	auth_userpass     email/password accounts, _id = the email
//	auth_tokens       confirmation and reset tokens (hashed), 30 min
//	auth_sessions     one per refresh token; deleting it revokes both tokens;
//	                  an anonymous one records its last refresh (daily,
//	                  also as the user's last_active_at)
//	auth_api_keys     server and user API keys (SHA-256 of the key)
//	auth_keys         token signing keys (kid, secret, created, active)
//	auth_state        the app's domain id; since when anonymous activity
//	                  is recorded (anonymous users inactive 90 days are
//	                  deleted, anon.go)
package auth
