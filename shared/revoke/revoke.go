// Package revoke is the one path every revocation takes: the token service
// (self-service sign-out, RFC 7009 revocation, admin endpoints, refresh
// token reuse, the session cap), the admin CLI and the Cognito events
// function all call a Revoker.
//
// A revocation has two audiences. The store's session, family and user
// records stop the token service from refreshing or exchanging again; the
// revocation log tells authorizers to refuse tokens already issued. The
// store is written first and is the state of record; a log entry is
// appended only when the state changes, so a repeat writes nothing and no
// caller can grow the log at will, and only while a token it covers can
// still be accepted:
//
//   - a session: until the exp of the last access token issued for it plus
//     the verifiers' leeway; a session whose access tokens have all expired
//     gets no entry;
//   - a user: the longest access token lifetime plus leeway (exchange
//     mode); in direct mode as long as Cognito can mint or accept an ID
//     token of a covered login: the direct maximum age plus leeway after a
//     Cognito global sign-out, else the refresh token validity on top;
//   - a login family: logged only for direct mode, for the refresh token
//     validity plus the direct maximum age plus leeway; after a Cognito
//     global sign-out the direct maximum age plus leeway.
//
// So the live log holds at most: revoked sessions with an unexpired access
// token, plus user and family entries within their own lifetimes (see
// Policy.MaxEntryLifetime). A user can sign out of logins at will, so the
// long family entries their sign-outs write are counted per user and
// capped at Policy.FamilyLimit: past it the user is signed out of Cognito
// and revoked, with short entries only, or, when that cannot be done, the
// long entry is written anyway and LoginsRefused tells the token service
// to refuse the user's new sessions.
//
// If a log write fails after the state changed, the caller gets an error
// and retries; the record remembers that its entry is missing. A repeat
// that finds it missing waits for the call that changed the state to
// confirm its entry, up to RepairDelay after the revocation, and then
// writes it itself: a repeat never answers success while the entry is
// missing, and concurrent repeats of a fresh revocation write nothing.
package revoke

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"

	"github.com/shortfuse/shortfuse/shared/awsx"
	"github.com/shortfuse/shortfuse/shared/store"
)

// Reasons recorded on revoked sessions.
const (
	ReasonUserSignOut   = "user_signout"
	ReasonAdmin         = "admin"
	ReasonUserRevoked   = "user_revoked"
	ReasonRefreshReuse  = "refresh_token_reuse"
	ReasonRevokeToken   = "token_revoked"
	ReasonLoginRevoked  = "login_revoked" // its login family was revoked
	ReasonSessionLimit  = "session_limit"
	ReasonCognitoEvent  = "cognito_event"
	ReasonExchangeAbort = "exchange_aborted"
	ReasonFamilyLimit   = "family_limit" // too many sign-outs of the user's logins (direct mode)
)

// ErrGlobalSignOut means the local revocation succeeded but Cognito's
// AdminUserGlobalSignOut failed; retrying the whole revocation is safe.
var ErrGlobalSignOut = errors.New("revoke: cognito global sign-out failed")

// ErrNoUserPool means a global sign-out was asked for without a user pool.
var ErrNoUserPool = errors.New("revoke: global sign-out needs a user pool id and a cognito client")

// Store is the part of *store.Store a Revoker uses.
type Store interface {
	GetSession(ctx context.Context, id string) (*store.Session, error)
	Family(ctx context.Context, family string) (store.FamilyState, bool, error)
	RevokeSession(ctx context.Context, id, reason string, at time.Time, logged string) (*store.Session, bool, error)
	MarkRevocationLogged(ctx context.Context, id, logged string) error
	RevokeFamily(ctx context.Context, family string, at, until time.Time, needsLog bool) (store.FamilyState, bool, error)
	MarkFamilyLogged(ctx context.Context, family, logged string) error
	AppendRevocation(ctx context.Context, r store.Revocation) (store.Revocation, error)
	RevokeUser(ctx context.Context, sub string, at time.Time) (store.UserState, bool, error)
	User(ctx context.Context, sub string) (store.UserState, error)
	MarkUserLogged(ctx context.Context, sub string, at time.Time, logged string) error
	ListUserSessions(ctx context.Context, sub string) ([]store.Session, error)
	FamilyCount(ctx context.Context, sub string) (store.FamilyCount, error)
	CountFamilyEntry(ctx context.Context, sub string, limit int, until time.Time, force bool) (store.FamilyCount, bool, error)
}

// SignOuter is the Cognito call behind a global sign-out;
// *cognitoidentityprovider.Client satisfies it.
type SignOuter interface {
	AdminUserGlobalSignOut(ctx context.Context, in *cip.AdminUserGlobalSignOutInput, optFns ...func(*cip.Options)) (*cip.AdminUserGlobalSignOutOutput, error)
}

var _ Store = (*store.Store)(nil)

// Defaults and limits of a Policy.
const (
	// DefaultRefreshTokenValidity is Cognito's default refresh token
	// validity of an app client.
	DefaultRefreshTokenValidity = 30 * 24 * time.Hour
	// MaxIDTokenValidity is the longest ID token validity Cognito allows.
	MaxIDTokenValidity = 24 * time.Hour
	// DefaultLeeway is the exp leeway assumed of verifiers: the authorizer
	// verifies with jwtverify's default of 30 s.
	DefaultLeeway = 30 * time.Second
	// RepairDelay is how long after a revocation a repeat of it waits for
	// the first attempt to confirm its log entry before writing the entry
	// itself: longer than that attempt's two writes can take (each bounded
	// by the store's call timeout).
	RepairDelay = 5 * time.Second
	// DefaultFamilyLimit is Policy.FamilyLimit's default.
	DefaultFamilyLimit = 50
)

// Policy says how long revocations must last. It is the same for every
// writer of one deployment.
type Policy struct {
	// AccessTokenTTL is the longest access token lifetime of any client.
	AccessTokenTTL time.Duration
	// Leeway is the longest exp leeway of any verifier (default
	// DefaultLeeway).
	Leeway time.Duration
	// DirectMaxAge is the authorizer's maximum ID token age when it runs
	// in direct mode (it accepts Cognito ID tokens), else zero.
	DirectMaxAge time.Duration
	// RefreshTokenValidity is the Cognito app clients' refresh token
	// validity (default DefaultRefreshTokenValidity): how long Cognito can
	// mint ID tokens of one login.
	RefreshTokenValidity time.Duration
	// NoGlobalSignOut makes user revocations leave Cognito alone unless
	// asked (UserRequest.SignOut). By default they sign the user out of
	// Cognito, so no refresh token of a revoked login mints again.
	NoGlobalSignOut bool
	// FamilyLimit bounds, per user, the direct-mode login family entries
	// that live the refresh token validity (default DefaultFamilyLimit):
	// a sign-out past it signs the user out of Cognito instead, so its
	// entries are short (see Revoker.Session).
	FamilyLimit int
}

func (p *Policy) defaults() error {
	if p.Leeway <= 0 {
		p.Leeway = DefaultLeeway
	}
	if p.RefreshTokenValidity <= 0 {
		p.RefreshTokenValidity = DefaultRefreshTokenValidity
	}
	if p.FamilyLimit <= 0 {
		p.FamilyLimit = DefaultFamilyLimit
	}
	if p.AccessTokenTTL <= 0 {
		return errors.New("revoke: Policy.AccessTokenTTL is required")
	}
	if p.DirectMaxAge < 0 {
		return errors.New("revoke: Policy.DirectMaxAge is negative")
	}
	return nil
}

// MaxEntryLifetime is the longest a log entry written under p lives past
// its append time: a reader that loads only part of the log must look at
// least this far back.
func (p Policy) MaxEntryLifetime() time.Duration {
	_ = p.defaults()
	d := p.AccessTokenTTL + p.Leeway
	if p.DirectMaxAge > 0 {
		d = max(d, p.RefreshTokenValidity+p.DirectMaxAge+p.Leeway)
	}
	return d
}

// FamilyLifetime is how long a revoked login family is kept in the store
// after its revocation: Cognito can mint ID tokens of the family until its
// refresh token expires, at most RefreshTokenValidity after the revocation,
// and each lives at most MaxIDTokenValidity.
func (p Policy) FamilyLifetime() time.Duration {
	_ = p.defaults()
	return p.RefreshTokenValidity + MaxIDTokenValidity + p.Leeway
}

// Revoker revokes sessions, login families and users.
type Revoker struct {
	store      Store
	p          Policy
	cognito    SignOuter
	userPoolID string
	timeout    time.Duration
	now        func() time.Time
	log        *slog.Logger
	repair     time.Duration // RepairDelay
}

// Option configures a Revoker.
type Option func(*Revoker)

// WithCognito enables global sign-out in the given user pool.
func WithCognito(c SignOuter, userPoolID string) Option {
	return func(r *Revoker) { r.cognito, r.userPoolID = c, userPoolID }
}

// WithTimeout bounds the Cognito call (default awsx.CallTimeout).
func WithTimeout(d time.Duration) Option { return func(r *Revoker) { r.timeout = d } }

// WithClock sets the clock (tests).
func WithClock(now func() time.Time) Option { return func(r *Revoker) { r.now = now } }

// WithRepairDelay replaces RepairDelay (tests).
func WithRepairDelay(d time.Duration) Option { return func(r *Revoker) { r.repair = d } }

// WithLogger receives warnings about follow-up work that failed without
// failing the revocation (default: discard).
func WithLogger(l *slog.Logger) Option { return func(r *Revoker) { r.log = l } }

// New returns a Revoker writing to s under p.
func New(s Store, p Policy, opts ...Option) (*Revoker, error) {
	if s == nil {
		return nil, errors.New("revoke: a store is required")
	}
	if err := p.defaults(); err != nil {
		return nil, err
	}
	r := &Revoker{store: s, p: p, timeout: awsx.CallTimeout, now: time.Now, log: slog.New(slog.DiscardHandler), repair: RepairDelay}
	for _, o := range opts {
		o(r)
	}
	return r, nil
}

// Policy returns the revoker's policy, defaults filled in.
func (r *Revoker) Policy() Policy { return r.p }

// Session revokes one session and its login family: no ID token of that
// login can be exchanged again. It returns the session as stored (with its
// first RevokedAt and reason when it was already revoked) and
// store.ErrNotFound when there is no such session. A repeat writes nothing.
func (r *Revoker) Session(ctx context.Context, id, reason string) (*store.Session, error) {
	sess, _, err := r.session(ctx, id, reason, true)
	return sess, err
}

// EndSession revokes one session but not its login family (the session
// cap: the login itself did nothing wrong). It reports whether this call
// changed the session.
func (r *Revoker) EndSession(ctx context.Context, id, reason string) (*store.Session, bool, error) {
	return r.session(ctx, id, reason, false)
}

func (r *Revoker) session(ctx context.Context, id, reason string, family bool) (*store.Session, bool, error) {
	now := r.now()
	sess, changed, err := r.store.RevokeSession(ctx, id, reason, now, "")
	if err != nil {
		return nil, false, err
	}
	if !changed && sess.RevocationLog == "" && r.sessionUntil(sess).After(now) {
		// Revoked by another call that may be logging it right now.
		if err := r.await(ctx, sess.RevokedAt, func() (bool, error) {
			s, err := r.store.GetSession(ctx, id)
			if err == nil && s.RevocationLog != "" {
				sess = s
			}
			return err == nil && s.RevocationLog != "", err
		}); err != nil {
			return sess, false, err
		}
	}
	if sess.RevocationLog == "" {
		if until := r.sessionUntil(sess); until.After(now) {
			e, err := r.store.AppendRevocation(ctx, store.Revocation{
				Kind: store.RevokeSession, Value: sess.ID, At: sess.RevokedAt, Until: until,
			})
			if err != nil {
				return sess, changed, fmt.Errorf("revoke: log session revocation: %w", err)
			}
			if err := r.store.MarkRevocationLogged(ctx, sess.ID, e.ID); err != nil {
				return sess, changed, fmt.Errorf("revoke: mark session revocation logged: %w", err)
			}
			sess.RevocationLog = e.ID
		}
	}
	if family && sess.OriginJTI != "" {
		q := famReq{family: sess.OriginJTI, sub: sess.Sub, username: sess.Username, reason: reason, skip: sess.ID, now: now, counted: true}
		if _, err := r.family(ctx, q); err != nil {
			return sess, changed, err
		}
	}
	return sess, changed, nil
}

// sessionUntil is when the last access token of sess stops being accepted.
// A session stored before access token expiries were recorded is bounded
// by its last use plus the longest access token lifetime.
func (r *Revoker) sessionUntil(sess *store.Session) time.Time {
	exp := sess.AccessExpiresAt
	if exp.IsZero() {
		exp = maxTime(sess.CreatedAt, sess.LastUsedAt).Add(r.p.AccessTokenTTL)
	}
	return exp.Add(r.p.Leeway)
}

// Family revokes a login family: the origin_jti of Cognito tokens minted
// from one refresh token, or the jti of an ID token from a pool without
// token revocation. No ID token of the family can be exchanged again, and
// in direct mode authorizers refuse them. When sub is known, the user's
// other live sessions of that family are revoked too. It reports whether
// this call changed anything; a repeat writes nothing.
func (r *Revoker) Family(ctx context.Context, family, sub, reason string) (bool, error) {
	if family == "" {
		return false, errors.New("revoke: empty login family")
	}
	return r.family(ctx, famReq{family: family, sub: sub, reason: reason, now: r.now(), counted: sub != ""})
}

// famReq is one login family revocation.
type famReq struct {
	family, sub, username, reason string
	skip                          string // the session being revoked: not a sibling
	now                           time.Time
	// counted: a direct-mode entry counts against the user's FamilyLimit
	// (a sign-out of one login, which the user can repeat at will).
	counted bool
	// signedOut: Cognito has signed the user out, so no refresh token of
	// the family mints again and the entry needs only the direct maximum
	// age past now.
	signedOut bool
}

func (r *Revoker) family(ctx context.Context, q famReq) (bool, error) {
	family, sub, reason, skip, now := q.family, q.sub, q.reason, q.skip, q.now
	direct := r.p.DirectMaxAge > 0
	st, changed, err := r.store.RevokeFamily(ctx, family, now, now.Add(r.p.FamilyLifetime()), direct)
	if err != nil {
		return false, fmt.Errorf("revoke: login family: %w", err)
	}
	if direct && !changed && st.RevocationLog == "" {
		if err := r.await(ctx, st.RevokedAt, func() (bool, error) {
			s, ok, err := r.store.Family(ctx, family)
			if err == nil && ok && s.RevocationLog != "" {
				st = s
			}
			return err == nil && ok && s.RevocationLog != "", err
		}); err != nil {
			return false, err
		}
	}
	if direct && st.RevocationLog == "" {
		if err := r.logFamily(ctx, q, st); err != nil {
			return changed, err
		}
	}
	if changed && sub != "" {
		// Other sessions of the same login end with it. Refresh and Bearer
		// checks refuse them anyway once the family is revoked; this tells
		// authorizers now. A failure here is not the revocation's.
		if err := r.siblings(ctx, family, sub, reason, skip); err != nil {
			r.log.WarnContext(ctx, "sessions of a revoked login not all revoked", "sub", sub, "error", err.Error())
		}
	}
	return changed, nil
}

// logFamily writes the direct-mode log entry of a revoked family. Cognito
// can mint ID tokens of the family until its refresh token expires, and
// direct mode accepts each for its maximum age: the entry lives that long,
// unless Cognito has signed the user out. A counted entry takes a place in
// the user's FamilyLimit; past it, overLimit decides.
func (r *Revoker) logFamily(ctx context.Context, q famReq, st store.FamilyState) error {
	long := st.RevokedAt.Add(r.p.RefreshTokenValidity + r.p.DirectMaxAge + r.p.Leeway)
	short := q.now.Add(r.p.DirectMaxAge + r.p.Leeway)
	until := long
	switch {
	case q.signedOut:
		until = short
	case q.counted:
		_, ok, err := r.store.CountFamilyEntry(ctx, q.sub, r.p.FamilyLimit, long, false)
		if err != nil {
			return fmt.Errorf("revoke: count family entry: %w", err)
		}
		if !ok {
			done, err := r.overLimit(ctx, q, st, short, long)
			if done || err != nil {
				return err
			}
		}
	}
	return r.appendFamily(ctx, q.family, st.RevokedAt, until)
}

func (r *Revoker) appendFamily(ctx context.Context, family string, at, until time.Time) error {
	e, err := r.store.AppendRevocation(ctx, store.Revocation{Kind: store.RevokeJTI, Value: family, At: at, Until: until})
	if err != nil {
		return fmt.Errorf("revoke: log family revocation: %w", err)
	}
	if err := r.store.MarkFamilyLogged(ctx, family, e.ID); err != nil {
		return fmt.Errorf("revoke: mark family revocation logged: %w", err)
	}
	return nil
}

// overLimit handles a sign-out of a login when the user already has
// FamilyLimit long family entries. When it can, it signs the user out of
// Cognito, which ends every refresh token of the user, then logs the
// family for the direct maximum age only and revokes the user as signed
// out (every entry short), and reports done. Otherwise (global sign-out
// off, no user pool, or Cognito failing) the long entry is still written,
// since a sign-out is never weakened, but counted past the limit: the
// token service then refuses the user's new sessions (LoginsRefused), so
// no new login can add another.
func (r *Revoker) overLimit(ctx context.Context, q famReq, st store.FamilyState, short, long time.Time) (bool, error) {
	if r.canSignOut() {
		username := q.username
		if username == "" {
			username = r.username(ctx, q.sub)
		}
		err := r.globalSignOut(ctx, username)
		if err == nil {
			if err := r.appendFamily(ctx, q.family, st.RevokedAt, short); err != nil {
				return true, err
			}
			r.log.WarnContext(ctx, "user signed out of cognito: too many sign-outs of their logins", "sub", q.sub, "limit", r.p.FamilyLimit)
			if _, err := r.User(ctx, UserRequest{Sub: q.sub, Username: username, Reason: ReasonFamilyLimit, SignOut: SignOutDone, At: q.now}); err != nil {
				return true, fmt.Errorf("revoke: revoke user past the family limit: %w", err)
			}
			return true, nil
		}
		r.log.WarnContext(ctx, "global sign-out past the family limit failed; new sessions of the user are refused", "sub", q.sub, "error", err.Error())
	}
	if _, _, err := r.store.CountFamilyEntry(ctx, q.sub, r.p.FamilyLimit, long, true); err != nil {
		return false, fmt.Errorf("revoke: count family entry: %w", err)
	}
	return false, nil
}

// username is the Cognito user name recorded on sub's sessions, else sub.
func (r *Revoker) username(ctx context.Context, sub string) string {
	list, err := r.store.ListUserSessions(ctx, sub)
	if err == nil {
		for _, s := range list {
			if s.Username != "" {
				return s.Username
			}
		}
	}
	return sub
}

// canSignOut reports whether user revocations sign out of Cognito.
func (r *Revoker) canSignOut() bool {
	return r.cognito != nil && r.userPoolID != "" && !r.p.NoGlobalSignOut
}

// globalSignOut calls Cognito's AdminUserGlobalSignOut, bounded by the
// revoker's timeout.
func (r *Revoker) globalSignOut(ctx context.Context, username string) error {
	cctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	_, err := r.cognito.AdminUserGlobalSignOut(cctx, &cip.AdminUserGlobalSignOutInput{
		UserPoolId: &r.userPoolID, Username: &username,
	})
	return err
}

// LoginsRefused returns until when new sessions of sub must be refused,
// the zero time when they need not be. Only in direct mode: once the
// user's long family entries reached FamilyLimit and a further sign-out
// cannot sign the user out of Cognito (global sign-out off or, as the
// count past the limit shows, failing), each new login could add one
// more entry that lives the refresh token validity.
func (r *Revoker) LoginsRefused(ctx context.Context, sub string) (time.Time, error) {
	if r.p.DirectMaxAge <= 0 {
		return time.Time{}, nil
	}
	c, err := r.store.FamilyCount(ctx, sub)
	if err != nil {
		return time.Time{}, err
	}
	if c.N > r.p.FamilyLimit || (c.N >= r.p.FamilyLimit && !r.canSignOut()) {
		return c.Until, nil
	}
	return time.Time{}, nil
}

func (r *Revoker) siblings(ctx context.Context, family, sub, reason, skip string) error {
	list, err := r.store.ListUserSessions(ctx, sub)
	if err != nil {
		return err
	}
	for _, s := range list {
		if s.ID == skip || s.OriginJTI != family || !s.RevokedAt.IsZero() {
			continue
		}
		if _, _, err := r.session(ctx, s.ID, reason, false); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	return nil
}

// SignOut says whether a user revocation signs the user out of Cognito.
type SignOut int

const (
	// SignOutDefault follows Policy.NoGlobalSignOut.
	SignOutDefault SignOut = iota
	// SignOutCognito calls AdminUserGlobalSignOut.
	SignOutCognito
	// SignOutDone: Cognito has already signed the user out (the caller
	// reacts to that sign-out); no call is made, and the revocation lasts
	// as after one.
	SignOutDone
	// SignOutSkip leaves Cognito alone: its refresh tokens keep minting ID
	// tokens, so direct-mode entries last the refresh token validity.
	SignOutSkip
)

// UserRequest asks for a user revocation.
type UserRequest struct {
	Sub string
	// Username is the Cognito user name for the sign-out; when empty, the
	// name recorded on the user's sessions is used, and failing that Sub.
	Username string
	Reason   string
	SignOut  SignOut
	// At is the revocation time (zero or later than now: now). A caller
	// reacting to an earlier event dates the revocation by it, so every
	// delivery of the event asks for the same change.
	At time.Time
}

// UserResult describes a user revocation.
type UserResult struct {
	Sub           string    `json:"sub"`
	RevokedAt     time.Time `json:"revoked_at"`
	Sessions      []string  `json:"sessions_revoked"` // ids of sessions that were live
	Families      int       `json:"logins_revoked"`   // login families recorded as revoked
	GlobalSignOut bool      `json:"global_signout"`   // Cognito's sign-out was done now
}

// User revokes every login of the user up to now:
//   - records the user's revocation time, which refuses every session,
//     access token and ID token with an earlier auth_time;
//   - revokes the login family of each of the user's sessions, so that an
//     ID token of those logins is refused whatever its auth_time;
//   - marks each live session revoked (its tokens are covered by the user's
//     log entry, or, for a session of a revoked family with a later
//     auth_time, by its own);
//   - signs the user out of Cognito unless told not to, so that Cognito
//     refresh tokens stop minting ID tokens.
//
// A repeat of the same revocation time writes nothing; a later one moves
// the time forward, which is a change.
func (r *Revoker) User(ctx context.Context, req UserRequest) (UserResult, error) {
	res := UserResult{Sub: req.Sub}
	mode := req.SignOut
	if mode == SignOutDefault {
		mode = SignOutCognito
		if r.p.NoGlobalSignOut {
			mode = SignOutSkip
		}
	}
	if mode == SignOutCognito && (r.cognito == nil || r.userPoolID == "") {
		return res, ErrNoUserPool
	}
	now := r.now()
	asked := req.atOrNow(now)
	st, changed, err := r.store.RevokeUser(ctx, req.Sub, asked)
	if err != nil {
		return res, err
	}
	at := st.RevokedAt
	res.RevokedAt = at
	if !changed && st.RevocationLog == "" && at.Unix() == asked.Unix() {
		if err := r.await(ctx, at, func() (bool, error) {
			u, err := r.store.User(ctx, req.Sub)
			if err == nil && u.RevokedAt.Equal(at) && u.RevocationLog != "" {
				st = u
			}
			return err == nil && st.RevocationLog != "", err
		}); err != nil {
			return res, err
		}
	}
	if st.RevocationLog == "" && at.Unix() == asked.Unix() {
		if err := r.appendUser(ctx, req.Sub, at, now, mode != SignOutSkip); err != nil {
			return res, err
		}
	}
	sessions, err := r.store.ListUserSessions(ctx, req.Sub)
	if err != nil {
		return res, err
	}
	// The families of logins the revocation covers by auth_time. Cognito
	// may stamp a later auth_time on an ID token it mints from an old
	// refresh token; its family still gives it away.
	families := map[string]bool{}
	username := req.Username
	for _, s := range sessions {
		if username == "" && s.Username != "" {
			username = s.Username
		}
		if s.OriginJTI != "" && store.RevokedLogin(at, s.AuthTime) {
			families[s.OriginJTI] = true
		}
	}
	for fam := range families {
		if _, err := r.family(ctx, famReq{family: fam, reason: req.Reason, now: now, signedOut: mode == SignOutDone}); err != nil {
			return res, err
		}
		res.Families++
	}
	for _, s := range sessions {
		if !s.RevokedAt.IsZero() {
			continue
		}
		var changed bool
		switch {
		case store.RevokedLogin(at, s.AuthTime):
			// The user's entry refuses its access tokens.
			_, changed, err = r.store.RevokeSession(ctx, s.ID, req.Reason, now, store.LogCovered)
		case families[s.OriginJTI]:
			_, changed, err = r.session(ctx, s.ID, req.Reason, false)
		default:
			continue // a login after the revocation
		}
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return res, err
		}
		if changed && s.Active(now) {
			res.Sessions = append(res.Sessions, s.ID)
		}
	}
	if mode != SignOutCognito {
		return res, nil
	}
	if username == "" {
		username = req.Sub
	}
	if err := r.globalSignOut(ctx, username); err != nil {
		// Cognito may keep minting ID tokens of these logins: in direct
		// mode the entry must then last as if no sign-out was asked for.
		if r.p.DirectMaxAge > 0 {
			if lerr := r.appendUser(context.WithoutCancel(ctx), req.Sub, at, now, false); lerr != nil {
				r.log.WarnContext(ctx, "longer user revocation entry not logged", "sub", req.Sub, "error", lerr.Error())
			}
		}
		return res, fmt.Errorf("%w: %w", ErrGlobalSignOut, err)
	}
	res.GlobalSignOut = true
	return res, nil
}

// appendUser logs a user revocation at at, written at now, for as long as
// a token it covers can be accepted: tokens issued until now (a revocation
// dated in the past lands late) live the entry's lifetime past it.
func (r *Revoker) appendUser(ctx context.Context, sub string, at, now time.Time, signedOut bool) error {
	e, err := r.store.AppendRevocation(ctx, store.Revocation{
		Kind: store.RevokeUser, Value: sub, At: at, Until: now.Add(r.UserEntryLifetime(signedOut)),
	})
	if err != nil {
		return fmt.Errorf("revoke: log user revocation: %w", err)
	}
	if err := r.store.MarkUserLogged(ctx, sub, at, e.ID); err != nil {
		return fmt.Errorf("revoke: mark user revocation logged: %w", err)
	}
	return nil
}

func (u UserRequest) atOrNow(now time.Time) time.Time {
	if u.At.IsZero() || u.At.After(now) {
		return now
	}
	return u.At
}

// UserEntryLifetime is how long a user revocation's log entry lives:
// covering every access token issued before it and, in direct mode, every
// ID token Cognito can still mint or has minted for a covered login.
func (r *Revoker) UserEntryLifetime(signedOut bool) time.Duration {
	d := r.p.AccessTokenTTL + r.p.Leeway
	if r.p.DirectMaxAge > 0 {
		direct := r.p.DirectMaxAge + r.p.Leeway
		if !signedOut {
			direct += r.p.RefreshTokenValidity
		}
		d = max(d, direct)
	}
	return d
}

// await polls done until it reports the log entry of a revocation made at
// revokedAt confirmed, or until the revocation is RepairDelay old (by the
// revoker's clock) or this call has waited that long (by the real one),
// whichever comes first: then the caller writes the entry itself.
func (r *Revoker) await(ctx context.Context, revokedAt time.Time, done func() (bool, error)) error {
	start := time.Now()
	for r.now().Sub(revokedAt) < r.repair && time.Since(start) < r.repair {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		ok, err := done()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
	}
	return nil
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// SessionCap ends the least recently used of the user's live sessions
// until at most max remain, as Cognito's own session cap does, and returns
// the ids it ended. keep, the session just created, is never ended and is
// counted even when the user's session index does not list it yet (the
// index is eventually consistent). Ended sessions keep their login family:
// the user did nothing to it.
func (r *Revoker) SessionCap(ctx context.Context, sub string, limit int, keep *store.Session) ([]string, error) {
	if limit < 1 {
		return nil, errors.New("revoke: session cap must be at least 1")
	}
	list, err := r.store.ListUserSessions(ctx, sub)
	if err != nil {
		return nil, err
	}
	now := r.now()
	live := make([]store.Session, 0, len(list))
	for _, s := range list {
		if keep != nil && s.ID == keep.ID {
			continue
		}
		if s.Active(now) {
			live = append(live, s)
		}
	}
	count := len(live)
	if keep != nil {
		count++
	}
	if count <= limit {
		return nil, nil
	}
	// Least recently used first; ties by age, then id, so every writer
	// picks the same.
	slices.SortFunc(live, func(a, b store.Session) int {
		if c := a.LastUsedAt.Compare(b.LastUsedAt); c != 0 {
			return c
		}
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	var ended []string
	for i := 0; i < len(live) && count > limit; i++ {
		_, changed, err := r.EndSession(ctx, live[i].ID, ReasonSessionLimit)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return ended, err
		}
		count--
		if changed {
			ended = append(ended, live[i].ID)
		}
	}
	return ended, nil
}
