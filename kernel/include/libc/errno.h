#ifndef MORGANA_ERRNO_H
#define MORGANA_ERRNO_H
extern int errno;
#define EDOM   33
#define ERANGE 34
#endif
