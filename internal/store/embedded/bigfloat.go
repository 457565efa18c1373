package embedded

import "math/big"

type bigFloat = big.Float
