package dataaccess

import (
	"errors"
)

var errNotYet = errors.New("dataaccess: not yet implemented")

