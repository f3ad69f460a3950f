#ifndef MORGANA_STDLIB_H
#define MORGANA_STDLIB_H
#include <stddef.h>
void abort(void) __attribute__((noreturn));
void exit(int status) __attribute__((noreturn));
static inline int abs(int x) { return x < 0 ? -x : x; }
#endif
