// Package keys holds the token service's signing keys: it generates them,
// loads them from a file, an environment variable, SSM Parameter Store or
// Secrets Manager, publishes their public halves as a JWK Set and signs
// compact JWS tokens with the active one.
//
// Supported algorithms are RS256 (RSA, at least 2048 bits), ES256 (ECDSA
// P-256) and EdDSA (Ed25519). A key's ID is its RFC 7638 JWK thumbprint
// (base64url SHA-256), so it follows from the key material alone and two
// deployments holding the same key agree on its kid.
//
// # Key documents
//
// [ParseSet] and [Load] accept PEM (PKCS#8 "PRIVATE KEY", PKCS#1 "RSA PRIVATE
// KEY", SEC1 "EC PRIVATE KEY", PKIX "PUBLIC KEY"; several blocks may follow one
// another), a single JWK, or a JWK Set. A document may hold several private
// keys and any number of public-only keys. Exactly one private key is active:
// the one named by activeKID, or the only private key when activeKID is empty.
// Every key, active or not, is published by [Set.JWKS].
//
// # Rotation without downtime
//
// Verifiers cache the JWK Set, so a new key must be published before the
// first token signed with it, and an old key must stay published until the
// last token signed with it has expired:
//
//  1. Generate the next key and store a JWK Set holding both the current and
//     the next private key (see [MarshalJWKSet]); keep activeKID on the current
//     key and deploy. Both keys are now published; only the current one signs.
//  2. Once every verifier has had time to refetch the JWK Set (its cache
//     lifetime, or one cold start), switch activeKID to the next key and deploy.
//  3. Replace the old private key by its public half ([Key.PublicOnly]) so it
//     still verifies the tokens already issued; drop it from the document once
//     the longest token lifetime plus leeway has passed.
//
// A verifier that meets an unknown kid refetches the JWK Set, so step 2 is
// safe even for a cache that missed step 1; the wait only avoids the refetch.
package keys
