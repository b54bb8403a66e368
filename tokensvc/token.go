package tokensvc

import (
	"net"
	"net/http"
	"time"

	"github.com/shortfuse/shortfuse/shared/dpop"
	"github.com/shortfuse/shortfuse/shared/obs"
	"github.com/shortfuse/shortfuse/shared/store"
)

// Grant and token type identifiers.
const (
	GrantTokenExchange   = "urn:ietf:params:oauth:grant-type:token-exchange"
	GrantRefreshToken    = "refresh_token"
	TokenTypeIDToken     = "urn:ietf:params:oauth:token-type:id_token"
	TokenTypeAccessToken = "urn:ietf:params:oauth:token-type:access_token"
)

// TokenResponse is the body of a successful /token response
// (RFC 6749 §5.1, RFC 8693 §2.2.1).
type TokenResponse struct {
	AccessToken     string `json:"access_token"`
	IssuedTokenType string `json:"issued_token_type,omitempty"`
	TokenType       string `json:"token_type"`
	ExpiresIn       int64  `json:"expires_in"`
	RefreshToken    string `json:"refresh_token,omitempty"`
	Scope           string `json:"scope,omitempty"`
}

// accessClaims are the claims of an RFC 9068 access token.
type accessClaims struct {
	Issuer   string   `json:"iss"`
	Subject  string   `json:"sub"`
	Audience string   `json:"aud"`
	Expires  int64    `json:"exp"`
	IssuedAt int64    `json:"iat"`
	JTI      string   `json:"jti"`
	ClientID string   `json:"client_id"`
	SID      string   `json:"sid"`
	AuthTime int64    `json:"auth_time"`
	Scope    string   `json:"scope,omitempty"`
	Groups   []string `json:"groups,omitempty"`
	Username string   `json:"username,omitempty"`
	// Of the Cognito login (RFC 9470), for step-up rules at the API.
	ACR string   `json:"acr,omitempty"`
	AMR []string `json:"amr,omitempty"`
	// Cnf binds the token to the session's DPoP key (RFC 9449 §6.1).
	Cnf *confirmation `json:"cnf,omitempty"`
}

func (s *Service) handleToken(w http.ResponseWriter, r *http.Request, info *reqInfo) error {
	if n := s.dpop.Nonces(); n != nil {
		// A fresh nonce on every answer, so a client always has one to
		// use (RFC 9449 §8.2).
		w.Header().Set(dpop.NonceHeader, n.Current())
	}
	form, err := parseForm(w, r, s.cfg.MaxBodyBytes)
	if err != nil {
		return err
	}
	var resp *TokenResponse
	switch gt := form.Get("grant_type"); gt {
	case GrantTokenExchange:
		resp, err = s.exchange.handle(r, form, info)
	case GrantRefreshToken:
		resp, err = s.refresh.handle(r, form, info)
	case "":
		return ErrInvalidRequest.WithDescription("grant_type is missing")
	default:
		return ErrUnsupportedGrantType.WithDescription("grant_type %s is not supported", printable(gt))
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// checkClientID applies the optional client_id parameter of a public client:
// an unknown client is invalid_client.
func (s *core) checkClientID(id string) error {
	if id == "" {
		return nil
	}
	if _, ok := s.cfg.Clients[id]; !ok {
		return ErrInvalidClient.WithDescription("unknown client_id")
	}
	return nil
}

// accessExpiry is the exp of an access token issued at now to clientID on
// a session with the given idle and absolute limits: the client's lifetime
// cut short where a session limit comes first, since authorizers never read
// the session and the token's exp is the only session limit they apply.
func (s *core) accessExpiry(clientID string, idle, abs, now time.Time) (time.Time, error) {
	ttl, ok := s.cfg.Clients[clientID]
	if !ok {
		return time.Time{}, ErrInvalidGrant.WithDescription("client is no longer allowed")
	}
	exp := min(now.Add(ttl).Unix(), idle.Unix(), abs.Unix())
	if exp <= now.Unix() {
		return time.Time{}, ErrInvalidGrant.WithDescription("session has expired")
	}
	return time.Unix(exp, 0), nil
}

// issueAccessToken signs an access token for sess with the given scope,
// issued at now and expiring at exp (from accessExpiry, and recorded on the
// session before the token is handed out). It returns the token's lifetime
// in whole seconds.
func (s *core) issueAccessToken(sess *store.Session, scope string, now, exp time.Time) (string, time.Duration, error) {
	tok, err := s.keys.Sign("at+jwt", accessClaims{
		Issuer:   s.cfg.Issuer,
		Subject:  sess.Sub,
		Audience: s.cfg.Audience,
		Expires:  exp.Unix(),
		IssuedAt: now.Unix(),
		JTI:      newID(16),
		ClientID: sess.ClientID,
		SID:      sess.ID,
		AuthTime: sess.AuthTime.Unix(),
		Scope:    scope,
		Groups:   sess.Groups,
		Username: sess.Username,
		ACR:      sess.ACR,
		AMR:      sess.AMR,
		Cnf:      cnfOf(sess.JKT),
	})
	if err != nil {
		return "", 0, ErrServer.WithCause(err)
	}
	return tok, time.Duration(exp.Unix()-now.Unix()) * time.Second, nil
}

// tokenResponse mints an access token for sess (see issueAccessToken) and
// answers with it and the refresh token.
func (s *core) tokenResponse(sess *store.Session, scope string, now, exp time.Time, refresh string) (*TokenResponse, error) {
	access, ttl, err := s.issueAccessToken(sess, scope, now, exp)
	if err != nil {
		return nil, err
	}
	return &TokenResponse{
		AccessToken:  access,
		TokenType:    tokenType(sess),
		ExpiresIn:    int64(ttl / time.Second),
		RefreshToken: refresh,
		Scope:        scope,
	}, nil
}

// clientInfo returns what a session records about the device that made it.
func clientInfo(r *http.Request) (ua, ip string) {
	ua = r.UserAgent()
	if len(ua) > 256 {
		ua = ua[:256]
	}
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		ip = ""
	}
	return ua, ip
}

func tokenID(tok string) string {
	if tok == "" {
		return ""
	}
	return obs.TokenID(tok)
}
