package rules

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/atollhq/atoll/internal/expr"
)

// ErrFunctionCycle is wrapped by the *LoadError that CheckFunctions returns
// for a can_evaluate that reaches its own function through %function.
var ErrFunctionCycle = errors.New("cycle through %function")

// ErrUnknownFunction is wrapped by the *LoadError that CheckFunctions
// returns for a %function naming a function the app does not declare.
var ErrUnknownFunction = errors.New("%function names an undeclared function")

// FunctionGuard is what the load-time %function check needs of one
// functions/config.json entry: its name and its can_evaluate as written.
type FunctionGuard struct {
	Name string
	// CanEvaluate is the entry's can_evaluate JSON; nil, empty, {} or null
	// when the function has none.
	CanEvaluate []byte
}

// CheckFunctions checks, when a config version is loaded, what the
// configuration can tell about %function (issue 5, bad input: cycles
// through %function fail at load time):
//
//   - every can_evaluate parses (bare fields read %%args there);
//   - every function that a rule (roles, document filters, field rules,
//     filters) or a can_evaluate calls is declared;
//   - no can_evaluate reaches its own function through %function calls,
//     directly or through other functions' can_evaluate. A %function call
//     runs the function like any other call, can_evaluate included, so
//     such a function could never be called: checking it would call it
//     again, forever.
//
// A rule cannot itself be part of a cycle the configuration shows: rules
// are evaluated for data access, which only function code (JavaScript)
// performs, so a rule → function → query → same rule loop, like
// context.functions.execute recursion, exists only at run time. Those are
// bounded by expr.MaxCallDepth through the context (expr.CallDepth).
//
// file names the functions manifest in messages (functions/config.json);
// a function's path is its index there. Every problem found is reported as
// a *LoadError (file, path, reason), joined in a stable order.
func CheckFunctions(file string, fns []FunctionGuard, rulesets []*Ruleset) error {
	var errs []error
	declared := make(map[string]int, len(fns))
	for i, f := range fns {
		declared[f.Name] = i
	}
	// Parse every can_evaluate; the graph's edges are its %function calls.
	calls := make([][]expr.FunctionCall, len(fns))
	for i, f := range fns {
		raw := strings.TrimSpace(string(f.CanEvaluate))
		if raw == "" || raw == "{}" || raw == "null" {
			continue
		}
		e, err := expr.ParseJSON([]byte(raw), expr.Options{Scope: expr.ScopeArgs})
		if err != nil {
			errs = append(errs, exprLoadError(file, fmt.Sprintf("[%d].can_evaluate", i), err))
			continue
		}
		calls[i] = e.FunctionCalls()
		for _, c := range calls[i] {
			if _, ok := declared[c.Name]; !ok {
				errs = append(errs, &LoadError{File: file, Path: join(fmt.Sprintf("[%d].can_evaluate", i), c.Path),
					Reason: fmt.Sprintf("can_evaluate of %q calls function %q, which is not declared", f.Name, c.Name), Err: ErrUnknownFunction})
			}
		}
	}
	errs = append(errs, functionCycles(file, fns, declared, calls)...)
	for _, rs := range rulesets {
		rs.eachExpr(func(path string, calls []expr.FunctionCall) {
			for _, c := range calls {
				if _, ok := declared[c.Name]; !ok {
					errs = append(errs, &LoadError{File: rs.File, Path: join(path, c.Path),
						Reason: fmt.Sprintf("%%function calls %q, which is not declared in the app's functions", c.Name), Err: ErrUnknownFunction})
				}
			}
		})
	}
	return errors.Join(errs...)
}

// functionCycles finds the cycles of the can_evaluate call graph by depth-
// first search and reports each once, at the function where it was first
// entered, with the chain that closes it.
func functionCycles(file string, fns []FunctionGuard, declared map[string]int, calls [][]expr.FunctionCall) []error {
	const (
		unvisited = iota
		onStack
		done
	)
	state := make([]uint8, len(fns))
	var stack []int
	var errs []error
	var visit func(i int)
	visit = func(i int) {
		state[i] = onStack
		stack = append(stack, i)
		for _, c := range calls[i] {
			j, ok := declared[c.Name]
			if !ok {
				continue
			}
			switch state[j] {
			case unvisited:
				visit(j)
			case onStack:
				// The chain from j to i, then back to j.
				k := len(stack) - 1
				for stack[k] != j {
					k--
				}
				names := make([]string, 0, len(stack)-k+1)
				for _, n := range stack[k:] {
					names = append(names, fns[n].Name)
				}
				names = append(names, fns[j].Name)
				errs = append(errs, &LoadError{File: file, Path: join(fmt.Sprintf("[%d].can_evaluate", i), c.Path),
					Reason: fmt.Sprintf("%%function cycle: %s (each call checks the called function's can_evaluate, which calls again)",
						strings.Join(names, " → ")),
					Err: ErrFunctionCycle})
			}
		}
		stack = stack[:len(stack)-1]
		state[i] = done
	}
	for i := range fns {
		if state[i] == unvisited {
			visit(i)
		}
	}
	return errs
}

// eachExpr calls f with the path and %function calls of every expression
// of the ruleset that calls a function, in file order (field rules by
// name).
func (rs *Ruleset) eachExpr(f func(path string, calls []expr.FunctionCall)) {
	add := func(path string, e *expr.Expr) {
		if e != nil && e.Uses()&expr.UsesFunction != 0 {
			f(path, e.FunctionCalls())
		}
	}
	var fieldRules func(path string, m map[string]*FieldRule)
	fieldRules = func(path string, m map[string]*FieldRule) {
		names := make([]string, 0, len(m))
		for k := range m {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			p := join(path, k)
			add(join(p, "read"), m[k].Read)
			add(join(p, "write"), m[k].Write)
			fieldRules(join(p, "fields"), m[k].Fields)
		}
	}
	for i, r := range rs.Roles {
		p := index("roles", i)
		add(join(p, "apply_when"), r.ApplyWhen)
		if r.DocumentFilters != nil {
			add(join(p, "document_filters.read"), r.DocumentFilters.Read)
			add(join(p, "document_filters.write"), r.DocumentFilters.Write)
		}
		add(join(p, "read"), r.Read)
		add(join(p, "write"), r.Write)
		add(join(p, "insert"), r.Insert)
		add(join(p, "delete"), r.Delete)
		fieldRules(join(p, "fields"), r.Fields)
		if r.AdditionalFields != nil {
			add(join(p, "additional_fields.read"), r.AdditionalFields.Read)
			add(join(p, "additional_fields.write"), r.AdditionalFields.Write)
		}
	}
	for i, fl := range rs.Filters {
		p := index("filters", i)
		add(join(p, "apply_when"), fl.ApplyWhen)
		if fl.Query != nil && fl.Query.Uses()&expr.UsesFunction != 0 {
			f(join(p, "query"), fl.Query.FunctionCalls())
		}
	}
}

// Rulesets lists the set's rulesets: collections by namespace, then the
// default rule, for checks over the whole config (CheckFunctions).
func (s *Set) Rulesets() []*Ruleset {
	names := make([]string, 0, len(s.Collections))
	for ns := range s.Collections {
		names = append(names, ns)
	}
	sort.Strings(names)
	out := make([]*Ruleset, 0, len(names)+1)
	for _, ns := range names {
		out = append(out, s.Collections[ns])
	}
	if s.Default != nil {
		out = append(out, s.Default)
	}
	return out
}

// exprLoadError turns an expression parse error into a *LoadError at path.
func exprLoadError(file, path string, err error) error {
	var pe *expr.ParseError
	if errors.As(err, &pe) {
		return &LoadError{File: file, Path: join(path, pe.Path), Reason: pe.Reason, Err: err}
	}
	return &LoadError{File: file, Path: path, Reason: err.Error(), Err: err}
}
