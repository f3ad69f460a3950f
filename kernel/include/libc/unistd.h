/* No POSIX here: present so portable MicroPython sources that include it compile. */
#ifndef MORGANA_UNISTD_H
#define MORGANA_UNISTD_H
#include <stddef.h>
typedef long ssize_t;
#ifndef SEEK_SET
#define SEEK_SET 0
#define SEEK_CUR 1
#define SEEK_END 2
#endif
#endif
