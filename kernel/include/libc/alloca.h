#ifndef MORGANA_ALLOCA_H
#define MORGANA_ALLOCA_H
#define alloca(n) __builtin_alloca(n)
#endif
