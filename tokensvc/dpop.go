package tokensvc

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/shortfuse/shortfuse/shared/dpop"
	"github.com/shortfuse/shortfuse/shared/store"
	"github.com/shortfuse/shortfuse/shared/tokenspec"
)

// DPoP errors (RFC 9449 §5.0, §8). At /token they are 400, as every grant
// error; at the endpoints that take an access token they are 401 with a
// DPoP challenge.
var (
	ErrInvalidDPoPProof = &Error{Code: dpop.CodeInvalidProof, Status: http.StatusBadRequest}
	ErrUseDPoPNonce     = &Error{Code: dpop.CodeUseNonce, Status: http.StatusBadRequest}
)

// WithDPoPNonceKey turns server nonces on (RFC 9449 §8): proofs must carry
// a nonce the service issued, given in the DPoP-Nonce header. The key, at
// least 32 bytes, must be the same in every container.
func WithDPoPNonceKey(key []byte) Option { return func(s *Service) { s.nonceKey = key } }

// newDPoP builds the proof verifier of New.
func (s *core) newDPoP() error {
	var nonces *dpop.Nonces
	if s.nonceKey != nil {
		n, err := dpop.NewNonces(s.nonceKey, 0, s.now)
		if err != nil {
			return err
		}
		nonces = n
	}
	v, err := dpop.New(dpop.Config{
		MaxAge:         s.cfg.DPoPMaxAge,
		ReplayCapacity: s.cfg.DPoPReplayCapacity,
		Nonces:         nonces,
		Now:            s.now,
	})
	if err != nil {
		return err
	}
	s.dpop = v
	if s.cfg.PublicBaseURL == "" {
		s.cfg.PublicBaseURL = s.cfg.Issuer
	}
	return nil
}

// htu is the URL the client addressed for r: the public base URL and the
// path within the service.
func (s *core) htu(r *http.Request) string {
	path := r.URL.EscapedPath()
	if s.basePath != "" && strings.HasPrefix(path, s.basePath+"/") {
		path = path[len(s.basePath):]
	}
	return s.cfg.PublicBaseURL + path
}

// proof checks the request's DPoP proof, if it has a DPoP header, against
// this request and, when not empty, the access token it comes with and the
// key the token is bound to. It returns the proof key's thumbprint, or ""
// when the request has no DPoP header. resource selects the errors of an
// endpoint taking an access token (401 and a challenge) over those of
// /token (400).
func (s *core) proof(r *http.Request, accessToken, jkt string, resource bool) (string, error) {
	values := r.Header.Values(dpop.Header)
	if len(values) == 0 {
		return "", nil
	}
	proof, err := dpop.ProofFromHeader(values)
	if err == nil {
		var p *dpop.Proof
		if p, err = s.dpop.Check(proof, dpop.Request{Method: r.Method, URL: s.htu(r), AccessToken: accessToken, JKT: jkt}); err == nil {
			return p.JKT, nil
		}
	}
	return "", dpopError(err, resource)
}

// dpopError turns a dpop error into the response error.
func dpopError(err error, resource bool) *Error {
	var de *dpop.Error
	if !errors.As(err, &de) {
		return ErrServer.WithCause(err)
	}
	base := ErrInvalidDPoPProof
	if de.Code == dpop.CodeUseNonce {
		base = ErrUseDPoPNonce
	}
	e := base.WithDescription("%s", de.Reason).WithCause(err)
	if resource {
		e.Status = http.StatusUnauthorized
	}
	e.dpop = true
	return e
}

// grantProof applies a client's DPoP policy to a /token request: it
// returns the thumbprint new tokens are bound to, "" for Bearer tokens.
func (s *core) grantProof(r *http.Request, clientID string) (string, error) {
	switch s.cfg.DPoPFor(clientID) {
	case tokenspec.DPoPOff:
		return "", nil // the header is ignored, as by a server without DPoP
	case tokenspec.DPoPRequired:
		jkt, err := s.proof(r, "", "", false)
		if err == nil && jkt == "" {
			err = ErrInvalidDPoPProof.WithDescription("this client must send a DPoP proof")
		}
		return jkt, err
	default:
		return s.proof(r, "", "", false)
	}
}

// refreshProof checks the proof a refresh of sess needs: one made with the
// session's key when it is bound. A session that is not bound stays so;
// for a client that now requires DPoP it must sign in again.
func (s *core) refreshProof(r *http.Request, sess *store.Session) error {
	if sess.JKT == "" {
		if s.cfg.DPoPFor(sess.ClientID) == tokenspec.DPoPRequired {
			return ErrInvalidGrant.WithDescription("the session is not DPoP-bound and this client requires DPoP; sign in again")
		}
		return nil
	}
	jkt, err := s.proof(r, "", sess.JKT, false)
	if err == nil && jkt == "" {
		err = ErrInvalidDPoPProof.WithDescription("the refresh token is DPoP-bound: send a proof made with its key")
	}
	return err
}

// tokenType is the token_type of tokens issued for sess.
func tokenType(sess *store.Session) string {
	if sess.JKT != "" {
		return "DPoP"
	}
	return "Bearer"
}

// confirmation is the cnf claim of a bound token (RFC 9449 §6.1).
type confirmation struct {
	JKT string `json:"jkt"`
}

func cnfOf(jkt string) *confirmation {
	if jkt == "" {
		return nil
	}
	return &confirmation{JKT: jkt}
}

// challenge is the WWW-Authenticate value for e, a 401 or 403 of an
// endpoint taking an access token.
func (s *core) challenge(e *Error) string {
	if e.dpop {
		return dpop.Challenge(s.dpop.Algorithms(), e.Code, e.Description)
	}
	if e.noCredentials {
		// RFC 6750 §3.1: no error code when no credentials were sent.
		return `Bearer realm="shortfuse", ` + dpop.Challenge(s.dpop.Algorithms(), "", "")
	}
	return fmt.Sprintf(`Bearer realm="shortfuse", error=%q`, e.Code)
}
