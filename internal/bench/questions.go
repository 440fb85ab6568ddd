package bench

import (
	"fmt"
	"math/rand/v2"

	"github.com/steward-cs/steward/internal/conversation"
	"github.com/steward-cs/steward/internal/knowledge"
)

// question is a customer's message and the locale it is written in.
type question struct {
	Text   string `json:"text"`
	Locale string `json:"-"`
}

// demoQuestions returns the question variants of the demo knowledge base
// (the one serve --demo loads), in both locales, less any that ask for a
// person: the simulated customers ask what the shop's customers ask and
// stay with the bot.
func demoQuestions() ([]question, error) {
	entries, err := knowledge.DemoEntries()
	if err != nil {
		return nil, fmt.Errorf("load demo questions: %w", err)
	}
	var qs []question
	for _, e := range entries {
		for _, loc := range knowledge.Locales {
			for _, q := range e.Locales[loc].Questions {
				if !conversation.WantsHuman(q) {
					qs = append(qs, question{Text: q, Locale: loc})
				}
			}
		}
	}
	if len(qs) == 0 {
		return nil, fmt.Errorf("the demo knowledge base has no questions")
	}
	return qs, nil
}

// asker draws one customer's questions: all in the customer's locale,
// in a random order seeded by the customer's number, so runs repeat.
type asker struct {
	qs  []question
	rng *rand.Rand
}

func newAsker(all []question, i int) *asker {
	rng := rand.New(rand.NewPCG(uint64(i)+1, 0x5eed))
	loc := knowledge.Locales[i%len(knowledge.Locales)]
	var qs []question
	for _, q := range all {
		if q.Locale == loc {
			qs = append(qs, q)
		}
	}
	if len(qs) == 0 {
		qs = all
	}
	return &asker{qs: qs, rng: rng}
}

func (a *asker) locale() string { return a.qs[0].Locale }

func (a *asker) next() question { return a.qs[a.rng.IntN(len(a.qs))] }
