package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/shortfuse/shortfuse/shared/config"
	"github.com/shortfuse/shortfuse/shared/obs"
	"github.com/shortfuse/shortfuse/shared/store"
	"github.com/shortfuse/shortfuse/triggers/presignup"
)

// inviteUsage is the invites part of the usage text.
const inviteUsage = `  invites create  [--uses N] [--email ADDR] [--expires 7d] [--note TEXT]
                                    create an invite code; the code is shown once
  invites list                      list invites (newest first)
  invites revoke  --id ID | --code CODE
                                    revoke an invite (ID: its hex id as listed,
                                    or a unique prefix of at least 8 of its characters)
`

// inviteCommands are the invites subcommands, for run's command table.
func (c *cli) inviteCommands() map[string]func(context.Context, []string) error {
	return map[string]func(context.Context, []string) error{
		"invites create": c.invitesCreate,
		"invites list":   c.invitesList,
		"invites revoke": c.invitesRevoke,
	}
}

// inviteView is how invites are printed; it never holds the code, which
// only invites create shows, once.
type inviteView struct {
	ID        string     `json:"id"`
	Code      string     `json:"code,omitempty"`
	State     string     `json:"state"`
	MaxUses   int        `json:"max_uses"`
	UsesLeft  int        `json:"uses_left"`
	Email     string     `json:"email,omitempty"`
	Note      string     `json:"note,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt time.Time  `json:"expires_at"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
	UsedBy    []string   `json:"used_by"`
}

func viewInvite(inv *store.Invite, now time.Time) inviteView {
	v := inviteView{
		ID: inv.ID, MaxUses: inv.MaxUses, UsesLeft: inv.UsesLeft, Email: inv.Email, Note: inv.Note,
		CreatedAt: inv.CreatedAt.UTC(), ExpiresAt: inv.ExpiresAt.UTC(), UsedBy: inv.UsedBy,
	}
	if v.UsedBy == nil {
		v.UsedBy = []string{}
	}
	switch {
	case !inv.RevokedAt.IsZero():
		t := inv.RevokedAt.UTC()
		v.RevokedAt, v.State = &t, "revoked"
	case !now.Before(inv.ExpiresAt):
		v.State = "expired"
	case inv.UsesLeft <= 0:
		v.State = "used up"
	default:
		v.State = "active"
	}
	return v
}

// parseLifetime accepts days ("7d") besides seconds and Go durations.
func parseLifetime(s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil || n <= 0 || n > 3650 {
			return 0, fmt.Errorf("%q is not a number of days from 1 to 3650", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := config.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q is not a lifetime like 7d, 48h or 3600", s)
	}
	return d, nil
}

func (c *cli) invitesCreate(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("invites create", flag.ContinueOnError)
	uses := fs.Int("uses", 1, fmt.Sprintf("how many sign-ups the code allows (1 to %d)", store.MaxInviteUses))
	email := fs.String("email", "", "only this address may use the code; its sign-up is then auto-verified")
	expires := fs.String("expires", "7d", "lifetime: days (7d), a duration (48h) or seconds")
	note := fs.String("note", "", "free text shown in listings")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	if *uses < 1 || *uses > store.MaxInviteUses {
		return fmt.Errorf("%w: --uses %d is outside 1 to %d", errUsage, *uses, store.MaxInviteUses)
	}
	life, err := parseLifetime(*expires)
	if err != nil {
		return fmt.Errorf("%w: --expires %v", errUsage, err)
	}
	bound := ""
	if *email != "" {
		if bound, err = presignup.NormalizeEmail(*email); err != nil {
			return fmt.Errorf("%w: --email %v", errUsage, err)
		}
	}
	if len(*note) > 256 {
		return fmt.Errorf("%w: --note is longer than 256 bytes", errUsage)
	}
	code, err := presignup.NewInviteCode()
	if err != nil {
		return err
	}
	norm, _ := presignup.NormalizeInviteCode(code)
	now := time.Now()
	inv := &store.Invite{ID: presignup.InviteID(norm), MaxUses: *uses, Email: bound, Note: *note, CreatedAt: now, ExpiresAt: now.Add(life)}
	err = c.withStore(ctx, func(ctx context.Context, st *store.Store) error {
		return st.CreateInvite(ctx, inv)
	})
	if err != nil {
		return err
	}
	v := viewInvite(inv, now)
	v.Code = code
	if c.jsonOut {
		return c.printJSON(v)
	}
	fmt.Fprintf(c.stdout, "invite code: %s\n", code)
	fmt.Fprintf(c.stdout, "id %s, %d use(s), expires %s", inv.ID[:16], inv.MaxUses, v.ExpiresAt.Format(time.RFC3339))
	if bound != "" {
		fmt.Fprintf(c.stdout, ", only for %s", bound)
	}
	fmt.Fprintln(c.stdout)
	fmt.Fprintln(c.stderr, "the code is shown only now; shortfuse keeps just its hash")
	return nil
}

func (c *cli) invitesList(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("invites list", flag.ContinueOnError)
	if err := c.parse(fs, args); err != nil {
		return err
	}
	var list []store.Invite
	err := c.withStore(ctx, func(ctx context.Context, st *store.Store) (err error) {
		list, err = st.ListInvites(ctx)
		return err
	})
	if err != nil {
		return err
	}
	now := time.Now()
	views := make([]inviteView, 0, len(list))
	for i := range list {
		views = append(views, viewInvite(&list[i], now))
	}
	if c.jsonOut {
		return c.printJSON(map[string]any{"invites": views})
	}
	if len(views) == 0 {
		fmt.Fprintln(c.stdout, "no invites")
		return nil
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATE\tUSES LEFT\tEMAIL\tEXPIRES\tCREATED\tNOTE")
	for _, v := range views {
		fmt.Fprintf(tw, "%s\t%s\t%d/%d\t%s\t%s\t%s\t%s\n", v.ID[:16], v.State, v.UsesLeft, v.MaxUses, dash(v.Email),
			v.ExpiresAt.Format(time.RFC3339), v.CreatedAt.Format(time.RFC3339), v.Note)
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func (c *cli) invitesRevoke(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("invites revoke", flag.ContinueOnError)
	id := fs.String("id", "", "the invite id (hex, as invites list shows it), or a unique prefix of at least 8 of its characters")
	code := fs.String("code", "", "the invite code")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	if (*id == "") == (*code == "") {
		return fmt.Errorf("%w: give exactly one of --id and --code", errUsage)
	}
	target := strings.ToLower(strings.TrimSpace(*id))
	var inv *store.Invite
	err := c.withStore(ctx, func(ctx context.Context, st *store.Store) (err error) {
		if *code != "" {
			norm, ok := presignup.NormalizeInviteCode(*code)
			if !ok {
				return fmt.Errorf("%w: --code is not an invite code", errUsage)
			}
			target = presignup.InviteID(norm)
		} else if len(target) < 64 {
			if target, err = resolveInvite(ctx, st, target); err != nil {
				return err
			}
		}
		inv, err = st.RevokeInvite(ctx, target, time.Now())
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		if *code != "" {
			return fmt.Errorf("no invite with that code (id %s)", obs.TokenID(target))
		}
		return fmt.Errorf("no invite %q", target)
	}
	if err != nil {
		return err
	}
	v := viewInvite(inv, time.Now())
	if c.jsonOut {
		return c.printJSON(v)
	}
	fmt.Fprintf(c.stdout, "invite %s revoked at %s (%d of %d uses left)\n", inv.ID[:16], v.RevokedAt.Format(time.RFC3339), inv.UsesLeft, inv.MaxUses)
	return nil
}

// resolveInvite finds the one invite whose id starts with prefix.
func resolveInvite(ctx context.Context, st *store.Store, prefix string) (string, error) {
	if len(prefix) < 8 || strings.Trim(prefix, "0123456789abcdef") != "" {
		return "", fmt.Errorf("%w: --id must be hex, at least 8 characters", errUsage)
	}
	list, err := st.ListInvites(ctx)
	if err != nil {
		return "", err
	}
	var found []string
	for _, inv := range list {
		if strings.HasPrefix(inv.ID, prefix) {
			found = append(found, inv.ID)
		}
	}
	switch len(found) {
	case 0:
		return "", fmt.Errorf("no invite with an id starting %s", prefix)
	case 1:
		return found[0], nil
	default:
		return "", fmt.Errorf("%w: --id %s matches %d invites; give more characters", errUsage, prefix, len(found))
	}
}
