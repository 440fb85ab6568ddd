package cli

import (
	"fmt"
	"strings"
	"testing"
)

// Columns line up on a terminal when cells mix Chinese and Latin text: a
// Chinese character is two columns wide.
func TestTableAlignsChineseText(t *testing.T) {
	var out strings.Builder
	tw := newTable(&out)
	fmt.Fprintln(tw, "EMAIL\tNAME\tROLE")
	fmt.Fprintln(tw, "li@example.com\t李小龙\tagent")
	fmt.Fprintln(tw, "ann@example.com\tAnn Lee\tsupervisor")
	fmt.Fprintln(tw, "wang@example.com\t王芳（客服主管）\tadmin")
	if err := tw.Flush(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 4 {
		t.Fatalf("%d lines:\n%s", len(lines), out.String())
	}
	// The display column where each line's role starts.
	var at []int
	for _, l := range lines {
		i := strings.LastIndex(l, "  ")
		at = append(at, displayWidth(l[:i+2]))
	}
	for i, c := range at {
		if c != at[0] {
			t.Fatalf("line %d's last column starts at display column %d, the header's at %d:\n%s", i, c, at[0], out.String())
		}
	}
	// Widest name (王芳（客服主管）: 8 wide characters, 16 columns) plus two.
	if want := len("wang@example.com  ") + 16 + 2; at[0] != want {
		t.Errorf("last column at %d, want %d:\n%s", at[0], want, out.String())
	}
	if strings.HasSuffix(lines[1], " ") {
		t.Errorf("the last cell is padded: %q", lines[1])
	}
	for s, w := range map[string]int{"abc": 3, "李小龙": 6, "ＡＢ": 4, "e\u0301": 1, "": 0} {
		if got := displayWidth(s); got != w {
			t.Errorf("displayWidth(%q) = %d, want %d", s, got, w)
		}
	}
}
