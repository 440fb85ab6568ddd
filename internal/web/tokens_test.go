package web

import (
	"io/fs"
	"regexp"
	"testing"
)

// No page puts a secret in a URL, where it would end up in access logs,
// the browser history and Referer headers: the conversation token travels
// in the Authorization header or the stream's first frame, the console's
// session in an HttpOnly cookie and its CSRF token in a header.
func TestNoSecretInURLs(t *testing.T) {
	secretParam := regexp.MustCompile(`(?i)([?&]|searchParams\.(set|append)\(\s*['"])(token|access_token|api_?key|key|session|csrf|csrf_token|bearer|password)\b`)
	for _, root := range []struct {
		fsys fs.FS
		dir  string
	}{{static, "static"}, {templates, "templates"}} {
		err := fs.WalkDir(root.fsys, root.dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := fs.ReadFile(root.fsys, path)
			if err != nil {
				return err
			}
			for _, loc := range secretParam.FindAllIndex(b, -1) {
				lo, hi := max(0, loc[0]-60), min(len(b), loc[1]+60)
				t.Errorf("%s puts a secret in a URL: …%s…", path, b[lo:hi])
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
