package knowledge

import "testing"

func BenchmarkBuildDemoIndex(b *testing.B) {
	demo, err := DemoEntries()
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := BuildIndex(demo, nil); err != nil {
			b.Fatal(err)
		}
	}
}
