package knowledge

import (
	"bytes"
	_ "embed"
	"fmt"
)

//go:embed demo/shop.yaml
var demoShop []byte

// DemoEntries returns the bilingual demo knowledge base of an online shop.
func DemoEntries() ([]Entry, error) {
	entries, err := Decode(bytes.NewReader(demoShop), FormatYAML)
	if err != nil {
		return nil, fmt.Errorf("demo knowledge base: %w", err)
	}
	return entries, nil
}
