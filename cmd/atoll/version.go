package main

import (
	"fmt"
	"io"

	"github.com/atollhq/atoll/internal/version"
)

func printVersion(stdout io.Writer) int {
	fmt.Fprintln(stdout, version.String())
	return 0
}
