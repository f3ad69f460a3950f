/* per-arch primitives used by common code */
#include "hypercall.h"
