package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/steward-cs/steward/internal/audit"
	"github.com/steward-cs/steward/internal/auth"
	"github.com/steward-cs/steward/internal/store"
)

type userCommand struct{ env Env }

// userSubcommands are the group's subcommands as typed, for -h and usage errors.
var userSubcommands = []string{"user add --email E --role R [--name N] --password-stdin", "user list", "user disable --email E",
	"user enable --email E", "user role EMAIL admin|supervisor|agent|auditor"}

var userUsage = strings.Join(userSubcommands, " | ")

func (c *userCommand) subcommands() []string { return userSubcommands }

func (c *userCommand) Run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usagef("missing subcommand: %s", userUsage)
	}
	switch args[0] {
	case "add":
		return c.add(ctx, args[1:])
	case "list":
		return c.list(ctx, args[1:])
	case "disable":
		return c.setDisabled(ctx, args[1:], true)
	case "enable":
		return c.setDisabled(ctx, args[1:], false)
	case "role":
		return c.setRole(ctx, args[1:])
	}
	return usagef("unknown user subcommand %q (want add, list, disable, enable or role)", args[0])
}

// accounts is the account service over st, recording to its audit trail.
func accounts(st *store.DB) *auth.Service {
	return auth.NewService(st, auth.Options{Audit: audit.New(st, nil)})
}

// cliActor is who runs the command, for the audit trail.
func cliActor(env Env) auth.Actor {
	a := operator(env)
	return auth.Actor{ID: a.ID, Name: a.Name}
}

func (c *userCommand) setRole(ctx context.Context, args []string) error {
	fs := newFlagSet("user role", c.env, "user role EMAIL admin|supervisor|agent|auditor [--data-dir DIR | --database URL]")
	var db dbFlags
	db.register(fs)
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 2 {
		return usagef("give the user's email and the new role: user role EMAIL ROLE")
	}
	role, err := auth.ParseRole(rest[1])
	if err != nil {
		return usagef("%v", err)
	}
	st, _, err := openStore(ctx, c.env, fs, &db)
	if err != nil {
		return err
	}
	defer st.Close(context.Background())
	svc := accounts(st)
	u, err := svc.UserByEmail(ctx, rest[0])
	if err != nil {
		return err
	}
	from := u.Role
	if u, err = svc.SetRole(ctx, cliActor(c.env), u.ID, role); err != nil {
		return err
	}
	if from == u.Role {
		fmt.Fprintf(c.env.Stdout, "%s is already %s\n", u.Email, u.Role)
		return nil
	}
	fmt.Fprintf(c.env.Stdout, "%s is now %s (was %s)\n", u.Email, u.Role, from)
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func (c *userCommand) add(ctx context.Context, args []string) error {
	fs := newFlagSet("user add", c.env, "user add --email EMAIL --role admin|supervisor|agent|auditor --password-stdin "+
		"[--name NAME] [--skills a,b] [--languages zh-CN,en] [--max-chats N] [--data-dir DIR | --database URL]")
	var db dbFlags
	db.register(fs)
	email := fs.String("email", "", "the user's email, used to sign in")
	role := fs.String("role", "", "admin, supervisor, agent or auditor")
	name := fs.String("name", "", "the name customers and colleagues see")
	fromStdin := fs.Bool("password-stdin", false, "read the password from standard input: its first line, or on a terminal asked twice without echo")
	skills := fs.String("skills", "", "comma-separated categories this agent handles (default: all)")
	languages := fs.String("languages", "", "comma-separated languages this agent handles: zh-CN, en (default: both)")
	maxChats := fs.Int("max-chats", 5, "conversations the desk assigns to this agent at once")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("unexpected argument %q", rest[0])
	}
	if *email == "" || *role == "" {
		return usagef("--email and --role are required")
	}
	r, err := auth.ParseRole(*role)
	if err != nil {
		return usagef("%v", err)
	}
	if !*fromStdin {
		return usagef("--password-stdin is required: passwords are never taken from the command line, where ps and shell history see them")
	}
	password, err := readPassword(c.env)
	if err != nil {
		return err
	}
	st, _, err := createStore(ctx, c.env, fs, &db)
	if err != nil {
		return err
	}
	defer st.Close(context.Background())
	u, err := accounts(st).AddUser(ctx, cliActor(c.env), auth.NewUser{Email: *email, Name: *name, Role: r, Password: password,
		Skills: splitList(*skills), Languages: splitList(*languages), MaxChats: *maxChats})
	if err != nil {
		return err
	}
	fmt.Fprintf(c.env.Stdout, "added %s %s (%s)\n", u.Role, u.Email, u.ID)
	return nil
}

func (c *userCommand) list(ctx context.Context, args []string) error {
	fs := newFlagSet("user list", c.env, "user list [--json] [--data-dir DIR | --database URL]")
	var db dbFlags
	db.register(fs)
	asJSON := fs.Bool("json", false, "print JSON Lines instead of a table")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("unexpected argument %q", rest[0])
	}
	st, _, err := openStore(ctx, c.env, fs, &db)
	if err != nil {
		return err
	}
	defer st.Close(context.Background())
	users, err := st.Users(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(c.env.Stdout)
		for _, u := range users {
			if err := enc.Encode(map[string]any{"id": u.ID, "email": u.Email, "name": u.Name, "role": u.Role,
				"disabled": u.Disabled, "skills": u.Skills, "languages": u.Languages, "max_chats": u.MaxChats}); err != nil {
				return err
			}
		}
		return nil
	}
	tw := newTable(c.env.Stdout)
	fmt.Fprintln(tw, "EMAIL\tNAME\tROLE\tSTATUS\tSKILLS\tLANGUAGES\tMAX CHATS")
	for _, u := range users {
		status := "active"
		if u.Disabled {
			status = "disabled"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\n", cell(u.Email), cell(u.Name), u.Role, status, cell(orAll(u.Skills)), cell(orAll(u.Languages)), u.MaxChats)
	}
	return tw.Flush()
}

func orAll(s []string) string {
	if len(s) == 0 {
		return "all"
	}
	return strings.Join(s, ",")
}

func (c *userCommand) setDisabled(ctx context.Context, args []string, disabled bool) error {
	verb := "enable"
	if disabled {
		verb = "disable"
	}
	fs := newFlagSet("user "+verb, c.env, "user "+verb+" --email EMAIL [--data-dir DIR | --database URL]")
	var db dbFlags
	db.register(fs)
	email := fs.String("email", "", "the user's email")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if *email == "" && len(rest) == 1 {
		*email, rest = rest[0], nil
	}
	if len(rest) > 0 {
		return usagef("unexpected argument %q", rest[0])
	}
	if *email == "" {
		return usagef("--email is required")
	}
	st, _, err := openStore(ctx, c.env, fs, &db)
	if err != nil {
		return err
	}
	defer st.Close(context.Background())
	u, err := accounts(st).SetDisabled(ctx, cliActor(c.env), *email, disabled)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.env.Stdout, "%sd %s\n", verb, u.Email)
	return nil
}

// readPassword reads the new password from standard input: its first line
// when it is a pipe or a file, and when it is a terminal by asking on
// stderr, twice, with the echo off, so that the password is not left on
// the screen or in the terminal's scrollback.
func readPassword(env Env) (string, error) {
	if f, ok := env.Stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fd := int(f.Fd())
		fmt.Fprint(env.Stderr, "Password: ")
		first, err := term.ReadPassword(fd)
		fmt.Fprintln(env.Stderr)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		fmt.Fprint(env.Stderr, "Again: ")
		again, err := term.ReadPassword(fd)
		fmt.Fprintln(env.Stderr)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		if string(first) != string(again) {
			return "", fmt.Errorf("the two passwords differ: nothing was changed")
		}
		return string(first), nil
	}
	line, err := bufio.NewReader(env.Stdin).ReadString('\n')
	if err != nil && line == "" {
		return "", fmt.Errorf("read password from standard input: nothing was given")
	}
	return strings.TrimRight(line, "\r\n"), nil
}
