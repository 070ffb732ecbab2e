/* Helpers for ttdb's test programs: each is a tiny C program whose output
 * says what it saw, so that record and replay can be compared byte for byte. */
#ifndef TTDB_TEST_UTIL_H
#define TTDB_TEST_UTIL_H

#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond)                                                   \
  do {                                                                \
    if (!(cond)) {                                                    \
      fprintf(stderr, "FAILED at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
      exit(1);                                                        \
    }                                                                 \
  } while (0)

static inline void print_hex(const char* label, const unsigned char* bytes, size_t n) {
  printf("%s ", label);
  for (size_t i = 0; i < n; ++i) printf("%02x", bytes[i]);
  printf("\n");
}

#endif
