/* Minimal freestanding libm interface; implemented by MicroPython's lib/libm_dbl (musl-derived). */
#ifndef MORGANA_MATH_H
#define MORGANA_MATH_H
#define NAN       __builtin_nan("")
#define INFINITY  __builtin_inf()
#define HUGE_VAL  __builtin_huge_val()
#define HUGE_VALF __builtin_huge_valf()
#define FP_NAN       0
#define FP_INFINITE  1
#define FP_ZERO      2
#define FP_SUBNORMAL 3
#define FP_NORMAL    4
typedef double double_t;
typedef float float_t;
#define M_PI 3.14159265358979323846
#define M_E  2.7182818284590452354
#define fpclassify(x) __builtin_fpclassify(FP_NAN, FP_INFINITE, FP_NORMAL, FP_SUBNORMAL, FP_ZERO, x)
#define isnan(x)    __builtin_isnan(x)
#define isinf(x)    __builtin_isinf(x)
#define isfinite(x) __builtin_isfinite(x)
#define signbit(x)  __builtin_signbit(x)
#define isnormal(x) __builtin_isnormal(x)
int __fpclassifyd(double);
int __signbitd(double);
static inline double nan(const char *s) { (void)s; return __builtin_nan(""); }
double sqrt(double); double pow(double, double); double exp(double); double expm1(double);
double log(double);
static inline double log2(double x) { return log(x) * 1.44269504088896340736; }
double log10(double); double log1p(double);
double sin(double); double cos(double); double tan(double);
double asin(double); double acos(double); double atan(double); double atan2(double, double);
double sinh(double); double cosh(double); double tanh(double);
double asinh(double); double acosh(double); double atanh(double);
double ceil(double); double floor(double); double trunc(double); double round(double);
double rint(double); double nearbyint(double);
double fmod(double, double); double modf(double, double *); double frexp(double, int *);
double ldexp(double, int); double scalbn(double, int);
static inline double copysign(double x, double y) { return __builtin_copysign(x, y); }
double erf(double); double erfc(double); double tgamma(double); double lgamma(double);
static inline double fabs(double x) { return __builtin_fabs(x); }
float sqrtf(float); float fabsf(float);
#endif
