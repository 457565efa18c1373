package appconfig

import (
	"sort"
	"strings"
)

// Problem is one thing wrong with an app directory: which file, where in
// that file (a JSON path such as `roles[0].apply_when`, empty for the file
// as a whole) and why. Files are slash-separated and relative to the app
// directory, so messages are the same on every machine.
type Problem struct {
	File   string
	Path   string
	Reason string
}

// String formats the problem as `file: path: reason`, the shape editors and
// CI logs recognise as a location.
func (p Problem) String() string {
	var b strings.Builder
	if p.File != "" {
		b.WriteString(p.File)
		b.WriteString(": ")
	}
	if p.Path != "" {
		b.WriteString(p.Path)
		b.WriteString(": ")
	}
	b.WriteString(p.Reason)
	return b.String()
}

// Problems is the error Load returns: every problem found, so that a user
// fixes a directory in one pass instead of one error per run.
type Problems []Problem

// Error prints one problem per line.
func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// problemList accumulates problems while loading.
type problemList struct {
	list []Problem
}

func (l *problemList) add(file, path, reason string) {
	l.list = append(l.list, Problem{File: file, Path: path, Reason: reason})
}

func (l *problemList) len() int { return len(l.list) }

// sorted returns the problems ordered by file, keeping the order within a
// file (which follows the file's own order), so output is stable however the
// directory was walked.
func (l *problemList) sorted() Problems {
	out := append(Problems(nil), l.list...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].File < out[j].File })
	return out
}
