/* SPDX-License-Identifier: MIT */
/*
 * parse - strict parsing of numbers and sizes given on command lines
 *
 * Every value a user types goes through here, so "10x", "", "-1" and overflows are refused
 * the same way everywhere, with a message naming what was expected.
 */
#ifndef BURETTE_PARSE_H
#define BURETTE_PARSE_H

#include <stddef.h>
#include <stdint.h>

/**
 * parse_uint() - Parse a decimal unsigned integer within [min, max]
 * @s:		Text to parse, whole (no trailing characters allowed)
 * @min:	Smallest accepted value
 * @max:	Largest accepted value
 * @out:	Parsed value, written only on success
 *
 * Return: 0 on success, -EINVAL if @s is not a number, -ERANGE if outside [min, max]
 */
int parse_uint(const char *s, unsigned long long min, unsigned long long max,
               unsigned long long *out);

/**
 * parse_double() - Parse a finite floating-point number within [min, max]
 *
 * Return: 0 on success, -EINVAL or -ERANGE
 */
int parse_double(const char *s, double min, double max, double *out);

/**
 * parse_size() - Parse a byte size with an optional binary suffix: 4096, 256K, 4M, 1G
 * @s:		Text; suffixes K, M, G (case-insensitive, optional trailing "iB" or "B") are 2^10,
 *		2^20, 2^30
 * @out:	Size in bytes
 *
 * Return: 0 on success, -EINVAL for malformed text, -ERANGE on overflow
 */
int parse_size(const char *s, uint64_t *out);

#endif /* BURETTE_PARSE_H */
