/*
 * units: parsing of the value syntaxes used in the configuration.
 * Pure functions, any thread.
 */
#ifndef UNITS_H
#define UNITS_H

#include <stdbool.h>
#include <stdint.h>

/* nginx size syntax: "1048576", "512k", "1m", "2g" (k = 1024, case-insensitive).
 * Returns 0 and stores bytes, or -1 on syntax error or overflow. */
int units_parse_size(const char *s, uint64_t *bytes);

/* Durations: "250ms", "30s", "5m", "1h"; a bare number is seconds.
 * Returns 0 and stores milliseconds, or -1. */
int units_parse_duration(const char *s, uint64_t *ms);

/* "on"/"off", "yes"/"no", "true"/"false", "1"/"0". Returns 0 or -1. */
int units_parse_bool(const char *s, bool *v);

/* Unsigned decimal integer no larger than max. Returns 0 or -1. */
int units_parse_uint(const char *s, uint64_t max, uint64_t *v);

#endif
