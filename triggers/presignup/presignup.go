// Package presignup is the Cognito PreSignUp trigger: it decides who may
// create an account and whether the account starts confirmed.
//
// Rules, in order: the trigger source must be known (SignUp,
// AdminCreateUser, ExternalProvider); external-provider sign-ups must be
// allowed; the email domain must pass the deny and allow lists; a phone
// number must be E.164 (and within the allowed prefixes); a self-service
// sign-up must present a valid invite code when invites are required, and
// a code that is presented is always checked and consumed. Auto-confirm and
// auto-verify rules then apply.
//
// A refusal is an error whose text Cognito shows the user
// ("PreSignUp failed with error <text>."), so it is short and plain and
// never says more than the user needs.
package presignup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/shortfuse/shortfuse/shared/obs"
	"github.com/shortfuse/shortfuse/shared/store"
	"github.com/shortfuse/shortfuse/triggers/emailaddr"
)

// Event is the trigger's input and output.
type Event = events.CognitoEventUserPoolsPreSignup

// Trigger sources.
const (
	SourceSignUp          = "PreSignUp_SignUp"
	SourceAdminCreateUser = "PreSignUp_AdminCreateUser"
	SourceExternal        = "PreSignUp_ExternalProvider"
)

// InviteField is the key of the invite code in validationData (preferred)
// or clientMetadata.
const InviteField = "invite_code"

// Invites consumes invite codes; *store.Store implements it.
type Invites interface {
	ConsumeInvite(ctx context.Context, id string, u store.InviteUse) (*store.Invite, error)
}

var _ Invites = (*store.Store)(nil)

// Error is an error whose text is meant for the user. Temporary ones say
// that trying again may work; the others are refusals by the policy.
type Error struct {
	Msg       string
	Temporary bool
}

func (e *Error) Error() string { return e.Msg }

// Refusals, one per reason the user can act on.
var (
	ErrSourceUnknown    = &Error{Msg: "Sign-up is not possible this way"}
	ErrExternalDenied   = &Error{Msg: "Sign-up with this sign-in provider is not allowed"}
	ErrEmailRequired    = &Error{Msg: "An email address is required to sign up"}
	ErrEmailInvalid     = &Error{Msg: "Please enter a valid email address"}
	ErrDomainNotAllowed = &Error{Msg: "Sign-up with this email domain is not allowed"}
	ErrPhoneInvalid     = &Error{Msg: "Please enter the phone number in international format, e.g. +14155550100"}
	ErrPhoneNotAllowed  = &Error{Msg: "Sign-up with this phone number is not allowed"}
	ErrInviteRequired   = &Error{Msg: "An invite code is required to sign up"}
	ErrInviteInvalid    = &Error{Msg: "This invite code is not valid"}
	ErrInviteUsedUp     = &Error{Msg: "This invite code has already been used"}
	ErrInviteExpired    = &Error{Msg: "This invite code has expired"}
	ErrInviteEmail      = &Error{Msg: "This invite code was issued for a different email address"}
	// ErrUnavailable is not a refusal: the invite store could not answer.
	ErrUnavailable = &Error{Msg: "Sign-up is temporarily unavailable, please try again in a moment", Temporary: true}
)

// Handler applies the policy. It is safe for concurrent use.
type Handler struct {
	cfg     Config
	invites Invites
	budget  time.Duration
	log     *slog.Logger
}

// New returns a handler. invites may be nil only when no invite code can
// reach it; a code then refuses the sign-up. budget bounds one invocation.
func New(cfg Config, invites Invites, budget time.Duration, log *slog.Logger) *Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if budget <= 0 {
		budget = 4 * time.Second
	}
	return &Handler{cfg: cfg, invites: invites, budget: budget, log: log}
}

// Handle decides on one sign-up.
func (h *Handler) Handle(ctx context.Context, ev Event) (Event, error) {
	ctx, cancel := context.WithTimeout(ctx, h.budget)
	defer cancel()
	ev.Response = events.CognitoEventUserPoolsPreSignupResponse{}
	resp, err := h.decide(ctx, &ev)
	if err != nil {
		var e *Error
		if errors.As(err, &e) && !e.Temporary {
			h.log.InfoContext(ctx, "presignup: refused", "trigger_source", obs.Clip(ev.TriggerSource),
				"user", obs.Clip(ev.UserName), "reason", e.Msg)
		}
		return ev, err
	}
	ev.Response = resp
	h.log.InfoContext(ctx, "presignup: accepted", "trigger_source", ev.TriggerSource, "user", obs.Clip(ev.UserName),
		"auto_confirm", resp.AutoConfirmUser, "auto_verify_email", resp.AutoVerifyEmail)
	return ev, nil
}

func (h *Handler) decide(ctx context.Context, ev *Event) (events.CognitoEventUserPoolsPreSignupResponse, error) {
	var resp events.CognitoEventUserPoolsPreSignupResponse
	switch ev.TriggerSource {
	case SourceSignUp, SourceAdminCreateUser:
	case SourceExternal:
		if h.cfg.External != "allow" {
			return resp, ErrExternalDenied
		}
	default:
		return resp, ErrSourceUnknown
	}
	attrs := ev.Request.UserAttributes

	var addr emailaddr.Address
	if raw, ok := attrs["email"]; ok && raw != "" {
		var err error
		if addr, err = emailaddr.Parse(raw); err != nil {
			return resp, ErrEmailInvalid
		}
	}
	email, domain := addr.Norm, addr.Domain
	if domain == "" && len(h.cfg.Domains.Allowed) > 0 {
		return resp, ErrEmailRequired
	}
	if domain != "" && !h.cfg.Domains.Permits(domain) {
		return resp, ErrDomainNotAllowed
	}

	phone := attrs["phone_number"]
	if phone != "" {
		if !validE164(phone) {
			return resp, ErrPhoneInvalid
		}
		if len(h.cfg.PhonePrefixes) > 0 && !hasAnyPrefix(phone, h.cfg.PhonePrefixes) {
			return resp, ErrPhoneNotAllowed
		}
	}

	var invite *store.Invite
	if ev.TriggerSource == SourceSignUp {
		code := ev.Request.ValidationData[InviteField]
		if code == "" {
			code = ev.Request.ClientMetadata[InviteField]
		}
		switch {
		case code != "":
			inv, err := h.consume(ctx, code, inviteUse(ev.UserPoolID, ev.UserName, addr))
			if err != nil {
				return resp, err
			}
			invite = inv
		case h.cfg.InviteRequired:
			return resp, ErrInviteRequired
		}
	}

	// Auto rules. Cognito rejects autoVerifyEmail without an email.
	switch {
	case domain != "" && h.cfg.AutoVerify.Match(domain):
		resp.AutoConfirmUser, resp.AutoVerifyEmail = true, true
	case domain != "" && h.cfg.AutoConfirm.Match(domain):
		resp.AutoConfirmUser = true
	}
	if invite != nil && h.cfg.AutoConfirmInvited {
		resp.AutoConfirmUser = true
		if invite.Email != "" && invite.Email == email {
			resp.AutoVerifyEmail = true
		}
	}
	if ev.TriggerSource != SourceSignUp {
		// Admin-created users confirm by setting their password; federated
		// users were confirmed by their provider.
		resp.AutoConfirmUser = false
	}
	return resp, nil
}

// inviteUse is the use an invite records for a sign-up. The identity is
// the account Cognito will create (pool and user name, exactly as given:
// user names that differ in case or otherwise are different users in a
// case-sensitive pool), with its address; only a repeat of all three is a
// retry that takes no second use. The seat is the canonical address
// (ASCII lower case, "+tag" dropped), so variants of one mailbox cannot
// take two uses of a multi-use invite either. Both are kept short and
// readable in listings: the identity as a hash, the seat as the address.
func inviteUse(pool, userName string, addr emailaddr.Address) store.InviteUse {
	sum := sha256.Sum256([]byte(pool + "\x00" + userName + "\x00" + addr.Norm))
	u := store.InviteUse{Identity: "id:" + hex.EncodeToString(sum[:16]), Email: addr.Norm}
	if addr.Seat != "" {
		u.Seat = "email:" + addr.Seat
	}
	return u
}

// consume checks and consumes an invite code for the user signing up.
func (h *Handler) consume(ctx context.Context, code string, use store.InviteUse) (*store.Invite, error) {
	norm, ok := NormalizeInviteCode(code)
	if !ok {
		return nil, ErrInviteInvalid
	}
	tid := obs.TokenID(norm)
	if h.invites == nil {
		h.log.ErrorContext(ctx, "presignup: invite code presented but no invite store configured", "invite", tid)
		return nil, ErrUnavailable
	}
	inv, err := h.invites.ConsumeInvite(ctx, InviteID(norm), use)
	switch {
	case err == nil:
		h.log.InfoContext(ctx, "presignup: invite used", "invite", tid, "uses_left", inv.UsesLeft)
		return inv, nil
	case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrInviteRevoked):
		h.log.InfoContext(ctx, "presignup: invite refused", "invite", tid, "error", err)
		return nil, ErrInviteInvalid
	case errors.Is(err, store.ErrInviteUsedUp):
		return nil, ErrInviteUsedUp
	case errors.Is(err, store.ErrInviteExpired):
		return nil, ErrInviteExpired
	case errors.Is(err, store.ErrInviteEmail):
		return nil, ErrInviteEmail
	default:
		h.log.ErrorContext(ctx, "presignup: invite store failed", "invite", tid, "error", err)
		return nil, ErrUnavailable
	}
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}
