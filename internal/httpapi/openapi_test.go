package httpapi_test

import (
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/steward-cs/steward/internal/httpapi"
	"github.com/steward-cs/steward/internal/testutil"
)

// openapiOptional are the operations /api/openapi.json describes that
// Routes may leave out: registered only when a feature is on, as in the
// authorization matrix's mxOptional. `steward serve` always has them.
var openapiOptional = []string{"GET /metrics"}

// openapiMethods are the keys of an OpenAPI path item that name operations.
var openapiMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// The document /api/openapi.json serves describes exactly the routes, each
// completely enough for a client generator: an operationId, a summary, a
// tag, a success status, its path parameters; and every $ref in it
// resolves. openapi_internal_test.go holds its schemas to the Go structs.
func TestOpenAPIDocument(t *testing.T) {
	base := testutil.StartApp(t, nil)
	resp, err := http.Get(base + "/api/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/openapi.json: %d %s", resp.StatusCode, body)
	}
	if ct, cc := resp.Header.Get("Content-Type"), resp.Header.Get("Cache-Control"); ct != "application/json" ||
		cc != "public, max-age=300" {
		t.Errorf("Content-Type %q, Cache-Control %q; want application/json, public, max-age=300", ct, cc)
	}
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatalf("the document is not JSON: %v", err)
	}
	if doc["openapi"] != "3.1.0" {
		t.Fatalf("openapi is %v, want 3.1.0", doc["openapi"])
	}
	ops := openapiOperations(t, doc)

	t.Run("every route and nothing else", func(t *testing.T) {
		routes := map[string]bool{}
		for _, r := range httpapi.Routes() {
			// {$} anchors a pattern at its trailing slash; in OpenAPI the
			// path simply ends there.
			r = strings.TrimSuffix(r, "{$}")
			routes[r] = true
			if _, ok := ops[r]; !ok {
				t.Errorf("route %s is not in /api/openapi.json: describe it in internal/httpapi/openapi.json", r)
			}
		}
		for _, op := range slices.Sorted(maps.Keys(ops)) {
			if !routes[op] && !slices.Contains(openapiOptional, op) {
				t.Errorf("/api/openapi.json describes %s, which is not a route", op)
			}
		}
		for _, op := range openapiOptional {
			method, p, _ := strings.Cut(op, " ")
			req, _ := http.NewRequest(method, base+p, nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("%s, described as served when its feature is on, answers %d", op, resp.StatusCode)
			}
		}
	})

	t.Run("operations", func(t *testing.T) {
		tags := map[string]bool{}
		for _, tag := range asList(doc["tags"]) {
			tags[asString(asObject(tag)["name"])] = true
		}
		schemes := asObject(asObject(doc["components"])["securitySchemes"])
		ids := map[string]string{}
		for _, name := range slices.Sorted(maps.Keys(ops)) {
			op := ops[name]
			id := asString(op.op["operationId"])
			switch {
			case id == "":
				t.Errorf("%s has no operationId", name)
			case ids[id] != "":
				t.Errorf("%s and %s share the operationId %q", name, ids[id], id)
			default:
				ids[id] = name
			}
			if asString(op.op["summary"]) == "" {
				t.Errorf("%s has no summary", name)
			}
			if len(asList(op.op["tags"])) == 0 {
				t.Errorf("%s has no tag", name)
			}
			for _, tag := range asList(op.op["tags"]) {
				if !tags[asString(tag)] {
					t.Errorf("%s has the tag %v, which the document's tags do not list", name, tag)
				}
			}
			if !succeeds(asObject(op.op["responses"])) {
				t.Errorf("%s has no 2xx response (nor 101, for a WebSocket)", name)
			}
			sec, ok := op.op["security"]
			if !ok {
				t.Errorf("%s does not say what authentication it takes (security)", name)
			}
			for _, req := range asList(sec) {
				for scheme := range asObject(req) {
					if _, ok := schemes[scheme]; !ok {
						t.Errorf("%s names the security scheme %q, which components.securitySchemes lacks", name, scheme)
					}
				}
			}
			checkPathParams(t, doc, name, op)
		}
	})

	t.Run("every $ref resolves", func(t *testing.T) {
		walkRefs(doc, "#", func(at, ref string) {
			if _, err := resolvePointer(doc, ref); err != nil {
				t.Errorf("%s: $ref %q: %v", at, ref, err)
			}
		})
	})
}

// openapiOperation is one operation of the document and its path item.
type openapiOperation struct {
	path string
	item map[string]any
	op   map[string]any
}

// openapiOperations are the document's operations by "METHOD /path".
func openapiOperations(t *testing.T, doc map[string]any) map[string]openapiOperation {
	t.Helper()
	paths := asObject(doc["paths"])
	if len(paths) == 0 {
		t.Fatal("the document has no paths")
	}
	out := map[string]openapiOperation{}
	for path, v := range paths {
		item := asObject(v)
		for _, m := range openapiMethods {
			if op, ok := item[m]; ok {
				out[strings.ToUpper(m)+" "+path] = openapiOperation{path: path, item: item, op: asObject(op)}
			}
		}
	}
	return out
}

// succeeds reports whether responses include a success: a 2xx, or the 101
// of a WebSocket upgrade.
func succeeds(responses map[string]any) bool {
	for code := range responses {
		if n, err := strconv.Atoi(code); err == nil && (n >= 200 && n < 300 || n == http.StatusSwitchingProtocols) {
			return true
		}
	}
	return false
}

var pathParam = regexp.MustCompile(`\{([^}]+)\}`)

// checkPathParams checks that every {name} of the operation's path is a
// required path parameter of the operation (or its path item), and that it
// declares no path parameter its path lacks.
func checkPathParams(t *testing.T, doc map[string]any, name string, op openapiOperation) {
	t.Helper()
	declared := map[string]map[string]any{}
	for _, p := range append(asList(op.item["parameters"]), asList(op.op["parameters"])...) {
		param := asObject(p)
		if ref, ok := param["$ref"].(string); ok {
			v, err := resolvePointer(doc, ref)
			if err != nil {
				continue // reported with every other $ref
			}
			param = asObject(v)
		}
		if param["in"] == "path" {
			declared[asString(param["name"])] = param
		}
	}
	inPath := map[string]bool{}
	for _, m := range pathParam.FindAllStringSubmatch(op.path, -1) {
		inPath[m[1]] = true
		p, ok := declared[m[1]]
		switch {
		case !ok:
			t.Errorf("%s: the path parameter %s is not declared", name, m[1])
		case p["required"] != true:
			t.Errorf("%s: the path parameter %s is not required", name, m[1])
		}
	}
	for p := range declared {
		if !inPath[p] {
			t.Errorf("%s declares the path parameter %s, which its path lacks", name, p)
		}
	}
}

// walkRefs calls fn with every $ref in v and where it is.
func walkRefs(v any, at string, fn func(at, ref string)) {
	switch x := v.(type) {
	case map[string]any:
		if ref, ok := x["$ref"].(string); ok {
			fn(at, ref)
		}
		for k, y := range x {
			walkRefs(y, at+"/"+k, fn)
		}
	case []any:
		for i, y := range x {
			walkRefs(y, at+"/"+strconv.Itoa(i), fn)
		}
	}
}

// resolvePointer follows a $ref inside the document (#/a/b, RFC 6901).
func resolvePointer(doc map[string]any, ref string) (any, error) {
	rest, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil, errNotLocal
	}
	var v any = doc
	for _, tok := range strings.Split(rest, "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		m, ok := v.(map[string]any)
		if !ok {
			return nil, errDangling
		}
		if v, ok = m[tok]; !ok {
			return nil, errDangling
		}
	}
	return v, nil
}

type refError string

func (e refError) Error() string { return string(e) }

const (
	errNotLocal = refError("not a reference inside the document")
	errDangling = refError("names nothing in the document")
)

// asObject, asList and asString read a decoded JSON value as what it
// should be, or its zero value.
func asObject(v any) map[string]any { m, _ := v.(map[string]any); return m }
func asList(v any) []any            { l, _ := v.([]any); return l }
func asString(v any) string         { s, _ := v.(string); return s }
