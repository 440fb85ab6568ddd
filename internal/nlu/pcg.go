package nlu

import "math/bits"

// pcg is math/rand/v2's PCG generator (PCG-DXSM, 128-bit state), written
// out here so that the network's training can draw from it without going
// through rand.Source's interface and without the race detector watching
// its state: the network draws tens of millions of numbers (initial
// weights, a dropout mask every step), which took a tenth of its training
// and a third more under the race detector. It yields exactly the numbers
// rand.NewPCG(seed1, seed2) does (TestPCGIsMathRands), so models are the
// same to the bit. Its Uint64 makes it a rand.Source for the rest.
type pcg struct{ hi, lo uint64 }

func newPCG(seed1, seed2 uint64) *pcg { return &pcg{seed1, seed2} }

// Uint64 is (*rand.PCG).Uint64.
//
//go:norace
func (p *pcg) Uint64() uint64 {
	const (
		mulHi    = 2549297995355413924
		mulLo    = 4865540595714422341
		incHi    = 6364136223846793005
		incLo    = 1442695040888963407
		cheapMul = 0xda942042e4dd58b5
	)
	// state = state × mul + inc
	hi, lo := bits.Mul64(p.lo, mulLo)
	hi += p.hi*mulLo + p.lo*mulHi
	lo, c := bits.Add64(lo, incLo, 0)
	hi, _ = bits.Add64(hi, incHi, c)
	p.lo, p.hi = lo, hi
	// DXSM
	hi ^= hi >> 32
	hi *= cheapMul
	hi ^= hi >> 48
	hi *= lo | 1
	return hi
}

// float32 is (*rand.Rand).Float32 over p: uniform in [0, 1).
//
//go:norace
func (p *pcg) float32() float32 { return float32(uint32(p.Uint64()>>32)<<8>>8) / (1 << 24) }
