package guard

import "fmt"

// automaton finds every occurrence of a fixed set of byte strings in one pass
// (Aho–Corasick), compiled to a DFA over byte classes: one table lookup a
// byte, whatever the number of phrases. It is immutable once built.
type automaton struct {
	class    [256]uint8 // byte -> column; 0 is "no phrase has this byte"
	nclass   int
	next     []uint16 // state*nclass + class -> state
	outStart []int32  // phrases ending at a state: out[outStart[s]:outStart[s+1]]
	out      []int32  // phrase ids
	length   []int32  // phrase id -> length in bytes
}

// buildAutomaton compiles phrases; phrase i is reported as id i.
func buildAutomaton(phrases []string) (*automaton, error) {
	a := &automaton{length: make([]int32, len(phrases))}
	// Byte classes: only bytes that occur in some phrase get a column.
	for _, p := range phrases {
		for i := 0; i < len(p); i++ {
			if a.class[p[i]] == 0 {
				a.nclass++
				if a.nclass > 255 {
					return nil, fmt.Errorf("too many distinct bytes")
				}
				a.class[p[i]] = uint8(a.nclass)
			}
		}
	}
	a.nclass++ // column 0

	// Trie.
	type node struct {
		child map[uint8]int32
		fail  int32
		out   []int32
	}
	nodes := []node{{child: map[uint8]int32{}}}
	for id, p := range phrases {
		if p == "" {
			return nil, fmt.Errorf("empty phrase %d", id)
		}
		a.length[id] = int32(len(p))
		s := int32(0)
		for i := 0; i < len(p); i++ {
			c := a.class[p[i]]
			n, ok := nodes[s].child[c]
			if !ok {
				n = int32(len(nodes))
				nodes = append(nodes, node{child: map[uint8]int32{}})
				nodes[s].child[c] = n
			}
			s = n
		}
		nodes[s].out = append(nodes[s].out, int32(id))
	}
	if len(nodes) > 1<<16 {
		return nil, fmt.Errorf("%d states do not fit the table", len(nodes))
	}

	// Breadth-first: failure links, then the full transition table.
	a.next = make([]uint16, len(nodes)*a.nclass)
	queue := make([]int32, 0, len(nodes))
	for c := 0; c < a.nclass; c++ {
		if n, ok := nodes[0].child[uint8(c)]; ok && c != 0 {
			a.next[c] = uint16(n)
			nodes[n].fail = 0
			queue = append(queue, n)
		}
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		// Outputs of the failure state end here too (it is done: BFS).
		nodes[s].out = append(nodes[s].out, nodes[nodes[s].fail].out...)
		for c := 0; c < a.nclass; c++ {
			n, ok := nodes[s].child[uint8(c)]
			if ok && c != 0 {
				f := int32(a.next[int(nodes[s].fail)*a.nclass+c])
				nodes[n].fail = f
				a.next[int(s)*a.nclass+c] = uint16(n)
				queue = append(queue, n)
			} else {
				a.next[int(s)*a.nclass+c] = a.next[int(nodes[s].fail)*a.nclass+c]
			}
		}
	}
	// Number states breadth first: the shallow states a scan spends most
	// of its time in share cache lines.
	order := make([]int32, 0, len(nodes))
	order = append(order, 0)
	for i := 0; i < len(order); i++ {
		for c := 1; c < a.nclass; c++ {
			if n, ok := nodes[order[i]].child[uint8(c)]; ok {
				order = append(order, n)
			}
		}
	}
	renum := make([]uint16, len(nodes))
	for i, old := range order {
		renum[old] = uint16(i)
	}
	next := make([]uint16, len(a.next))
	a.outStart = make([]int32, len(nodes)+1)
	for i, old := range order {
		for c := 0; c < a.nclass; c++ {
			next[i*a.nclass+c] = renum[a.next[int(old)*a.nclass+c]]
		}
		a.outStart[i] = int32(len(a.out))
		a.out = append(a.out, nodes[old].out...)
	}
	a.outStart[len(nodes)] = int32(len(a.out))
	a.next = next
	return a, nil
}

// scan calls hit for every occurrence of a phrase in text, in order of the
// occurrence's end; end is exclusive.
func (a *automaton) scan(text []byte, hit func(id int32, start, end int32)) {
	s := 0
	for i, b := range text {
		s = int(a.next[s*a.nclass+int(a.class[b])])
		if lo, hi := a.outStart[s], a.outStart[s+1]; lo != hi {
			end := int32(i + 1)
			for _, id := range a.out[lo:hi] {
				hit(id, end-a.length[id], end)
			}
		}
	}
}
