//go:build race && !amd64

package nlu

// axpy adds a × x to dst (see axpy.go). Under the race detector on a
// platform where gonum's kernel is plain Go, that Go would be instrumented
// and training would run twenty times slower (model.go); this loop is not.
//
//go:norace
func axpy(dst []float32, a float32, x []float32) {
	x = x[:len(dst)]
	for i := range dst {
		dst[i] += a * x[i]
	}
}
