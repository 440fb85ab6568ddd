package nlu

import (
	"bytes"
	"sync"
	"testing"
)

func TestMemoTrainsOnceAndGivesTheModelTrainingWould(t *testing.T) {
	var m Memo
	opts := TrainOptions{OOSLabel: "oos", Hidden: 8}
	var wg sync.WaitGroup
	got := make([]*Model, 4)
	for i := range got {
		wg.Go(func() {
			var err error
			if got[i], err = m.Train(toyExamples(), opts); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	for _, g := range got[1:] {
		if g != got[0] {
			t.Fatal("concurrent calls for the same examples and options trained more than once")
		}
	}
	fresh, err := Train(toyExamples(), opts)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := got[0].MarshalBinary()
	b, _ := fresh.MarshalBinary()
	if !bytes.Equal(a, b) {
		t.Fatal("the remembered model differs from what training builds: training is not deterministic")
	}

	// Another option, or another example, is another model.
	other, _ := m.Train(toyExamples(), TrainOptions{OOSLabel: "oos", Hidden: 4})
	more := append(toyExamples(), Example{"运费险怎么买", "fee"})
	changed, _ := m.Train(more, opts)
	if other == got[0] || changed == got[0] || other == changed {
		t.Fatal("different training input gave a remembered model")
	}
	if again, _ := m.Train(toyExamples(), opts); again != got[0] {
		t.Fatal("the first model was forgotten while the memo had room")
	}

	// Beyond Keep the least recently used models are forgotten: the
	// order of use is now other, changed, the first; a new model keeps
	// the first and itself.
	m.Keep = 2
	if _, err := m.Train(append(toyExamples(), Example{"发票怎么开", "invoice"}), opts); err != nil {
		t.Fatal(err)
	}
	if again, _ := m.Train(toyExamples(), opts); again != got[0] {
		t.Fatal("a recently used model was forgotten")
	}
	if again, _ := m.Train(more, opts); again == changed {
		t.Fatal("a model used less recently than Keep others was kept")
	}

	var none *Memo
	x, err := none.Train(toyExamples(), opts)
	if err != nil || x == nil || x == got[0] {
		t.Fatalf("a nil memo must train: %v", err)
	}
	if _, err := m.Train(nil, opts); err != ErrNoExamples {
		t.Fatalf("Train(nil) = %v, want ErrNoExamples", err)
	}
	if _, err := m.Train(nil, opts); err != ErrNoExamples {
		t.Fatalf("a failed training was remembered: %v", err)
	}
}
