package eval

import (
	"strings"
	"testing"
)

// A data set saved with a UTF-8 byte order mark (Notepad, PowerShell 5's
// Out-File -Encoding utf8) is read: line 1 failed with "invalid character
// 'ï' looking for beginning of value", which does not say what is wrong.
// RFC 8259 lets a parser ignore a leading BOM; every reader of `steward
// eval` goes through readLines.
func TestReadAcceptsAByteOrderMark(t *testing.T) {
	in := "\ufeff{\"text\":\"where is my order\",\"label\":\"status\"}\r\n{\"text\":\"运费多少\",\"label\":\"fee\"}\r\n"
	exs, err := Read(strings.NewReader(in))
	if err != nil || len(exs) != 2 || exs[0].Label != "status" {
		t.Errorf("Read of a file with a BOM = %v, %v; want its 2 examples", exs, err)
	}
	pii, err := ReadPII(strings.NewReader("\ufeff{\"text\":\"call 13812345678\",\"spans\":[{\"start\":5,\"end\":16,\"type\":\"cn_mobile\"}]}\n"))
	if err != nil || len(pii) != 1 {
		t.Errorf("ReadPII of a file with a BOM = %v, %v; want its example", pii, err)
	}
	// Only a leading one: a BOM inside the file is still a bad line, named.
	if _, err := Read(strings.NewReader("{\"text\":\"a\",\"label\":\"b\"}\n\ufeff{\"text\":\"c\",\"label\":\"d\"}\n")); err == nil ||
		!strings.Contains(err.Error(), "line 2") {
		t.Errorf("a BOM on line 2: %v, want an error naming line 2", err)
	}
}
