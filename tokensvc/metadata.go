package tokensvc

import "net/http"

// metadataDoc is the RFC 8414 authorization server metadata. The service has
// no authorization endpoint, so it lists no response types.
func (s *Service) metadataDoc() map[string]any {
	iss := s.cfg.Issuer
	scopes := s.cfg.Scopes
	if scopes == nil {
		scopes = []string{}
	}
	return map[string]any{
		"issuer":                                     iss,
		"token_endpoint":                             iss + "/token",
		"revocation_endpoint":                        iss + "/revoke",
		"introspection_endpoint":                     iss + "/introspect",
		"jwks_uri":                                   iss + "/.well-known/jwks.json",
		"grant_types_supported":                      []string{GrantTokenExchange, GrantRefreshToken},
		"response_types_supported":                   []string{},
		"scopes_supported":                           scopes,
		"token_endpoint_auth_methods_supported":      []string{"none"},
		"revocation_endpoint_auth_methods_supported": []string{"none"},
		"dpop_signing_alg_values_supported":          s.dpop.Algorithms(),
	}
}

func (s *Service) handleMetadata(w http.ResponseWriter, _ *http.Request, _ *reqInfo) error {
	writePublic(w, s.metadata)
	return nil
}

func (s *Service) handleJWKS(w http.ResponseWriter, _ *http.Request, _ *reqInfo) error {
	writePublic(w, s.keys.JWKS())
	return nil
}

// writePublic writes a public document that clients may cache briefly, so
// that a new signing key is picked up within minutes.
func writePublic(w http.ResponseWriter, b []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(b)
}
