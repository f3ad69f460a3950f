/* Minimal freestanding libc: formatted output (MicroPython's shared/libc/printf.c over mp_printf). */
#ifndef MORGANA_STDIO_H
#define MORGANA_STDIO_H
#include <stddef.h>
#include <stdarg.h>
#define EOF (-1)
#ifndef SEEK_SET
#define SEEK_SET 0
#define SEEK_CUR 1
#define SEEK_END 2
#endif
typedef struct _morgana_file FILE;
int printf(const char *fmt, ...);
int vprintf(const char *fmt, va_list ap);
int snprintf(char *buf, size_t n, const char *fmt, ...);
int vsnprintf(char *buf, size_t n, const char *fmt, va_list ap);
int putchar(int c);
int puts(const char *s);
#endif
