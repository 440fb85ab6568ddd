package auth

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/steward-cs/steward/internal/errcode"
)

// The password policy's refusals. Each message says it in English and in
// Chinese: passwords are set from the command line and the API, where the
// reader's language is not known.
var (
	errPasswordShort    = errcode.Errorf(errcode.Invalid, "password must have at least %d characters (密码至少需要 %d 个字符)", MinPassword, MinPassword)
	errPasswordLong     = errcode.Errorf(errcode.Invalid, "password must be at most %d bytes (密码最多 %d 字节)", MaxPassword, MaxPassword)
	errPasswordUTF8     = errcode.Errorf(errcode.Invalid, "password is not valid UTF-8 (密码不是有效的 UTF-8 文本)")
	errPasswordRepeated = errcode.Errorf(errcode.Invalid, "password must not be one character repeated (密码不能是同一个字符的重复)")
	errPasswordPersonal = errcode.Errorf(errcode.Invalid, "password must not be your email address or name (密码不能是邮箱地址或姓名)")
	errPasswordCommon   = errcode.Errorf(errcode.Invalid, "password is one of the most common passwords: choose another (密码过于常见，请换一个)")
)

// CheckPassword applies the password policy to a password for the account
// with the given email and name: at least MinPassword characters, at most
// MaxPassword bytes (bcrypt ignores the rest), not one character repeated,
// not the email (or the part before the @) or the name, nor one of them
// with up to four characters added, and not one of the most common
// passwords.
func CheckPassword(password, email, name string) error {
	if !utf8.ValidString(password) {
		return errPasswordUTF8
	}
	if utf8.RuneCountInString(password) < MinPassword {
		return errPasswordShort
	}
	if len(password) > MaxPassword {
		return errPasswordLong
	}
	first, _ := utf8.DecodeRuneInString(password)
	if strings.Trim(password, string(first)) == "" {
		return errPasswordRepeated
	}
	p := fold(password)
	email = fold(email)
	local, _, _ := strings.Cut(email, "@")
	for _, personal := range []string{email, local, fold(name)} {
		// In characters, not bytes: "maximilian生日" is a name with two
		// characters added, and passed as six bytes.
		n, np := utf8.RuneCountInString(personal), utf8.RuneCountInString(p)
		if personal != "" && (p == personal || n >= 4 && strings.Contains(p, personal) && np <= n+4) {
			return errPasswordPersonal
		}
	}
	if commonPasswords[p] {
		return errPasswordCommon
	}
	return nil
}

// fold lower-cases s and drops its spaces, so "Li Lei" and "lilei" compare
// equal.
func fold(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return unicode.ToLower(r)
	}, s)
}

// commonPasswords are the most common passwords (of at least MinPassword
// characters) in published breach corpora, English and Chinese sites alike,
// folded as fold does. A small list on purpose: it stops the guesses tried
// first, and the lockout in Login slows the rest.
var commonPasswords = func() map[string]bool {
	m := map[string]bool{}
	for _, p := range strings.Fields(`
		1234567890 0123456789 9876543210 12345678910 123456789a 123456789q 1234567890a 1234567890q
		a123456789 a1234567890 aa123456789 aa12345678 qq123456789 qq12345678 abc1234567 abcd123456
		abcde12345 abc123456789 a1b2c3d4e5 1a2b3c4d5e 1q2w3e4r5t 1q2w3e4r5t6y 1qaz2wsx3edc 1qazxsw23edc
		qazwsxedcrfv zaq12wsxcde qwertyuiop qwertyuiop123 qwerty1234 qwerty12345 qwerty123456 qwe123456789
		asdfghjkl1 asdfghjkl123 zxcvbnm123 zxcvbnm1234 1234qwerasdf qweasdzxc123 1111111111a
		password12 password123 password1234 password12345 password123! passw0rd123 p@ssw0rd123 p@ssword123
		iloveyou12 iloveyou123 iloveyou1314 woaini1314 woaini123456 5201314520 1314520520
		5201314521 5211314520 woaiwojia1 admin12345 admin123456 administrator admin@1234 admin@12345
		root123456 welcome123 welcome1234 changeme123 letmein123 football123 baseball123 superman123
		princess123 sunshine123 starwars123 dragon1234 monkey12345 master1234 trustno1234 computer123
		internet123 abcdefghij abcdefghijk steward123 steward1234 customer123 service123 support123
		helpdesk123 kefu123456 kefu1234567 zhang123456 wang123456789 li123456789
		1314521520 7758521521 147258369a 1472583690 1234512345 1122334455 1212121212 1231231231
		1357924680 0987654321 123123123a 123qweasdzxc qwe123qwe123 asd123456789 zxc123456789
	`) {
		m[p] = true
	}
	return m
}()
