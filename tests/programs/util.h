/* Helpers for ttdb's test programs: each is a tiny C program whose output
 * says what it saw, so that record and replay can be compared byte for byte. */
#ifndef TTDB_TEST_UTIL_H
#define TTDB_TEST_UTIL_H

#include <cpuid.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHECK(cond)                                                   \
  do {                                                                \
    if (!(cond)) {                                                    \
      fprintf(stderr, "FAILED at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
      exit(1);                                                        \
    }                                                                 \
  } while (0)

/* The offset in the program's own file of `addr`, from /proc/self/maps:
 * for mapping the page it is in again, as dlopen maps a library. */
static inline long offset_in_file(uintptr_t addr) {
  FILE* maps = fopen("/proc/self/maps", "r");
  CHECK(maps != NULL);
  char line[512];
  long found = -1;
  while (fgets(line, sizeof line, maps)) {
    unsigned long start, end, offset;
    if (sscanf(line, "%lx-%lx %*s %lx", &start, &end, &offset) == 3 && addr >= start && addr < end)
      found = (long)(addr - start + offset);
  }
  fclose(maps);
  return found;
}

/* Exits with 77 (the tests skip) on a CPU without rdrand. */
static inline void require_rdrand(void) {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  __get_cpuid(1, &eax, &ebx, &ecx, &edx);
  if (!(ecx & bit_RDRND)) {
    printf("no rdrand on this CPU\n");
    exit(77);
  }
}

static inline void print_hex(const char* label, const unsigned char* bytes, size_t n) {
  printf("%s ", label);
  for (size_t i = 0; i < n; ++i) printf("%02x", bytes[i]);
  printf("\n");
}

/* Installs a handler; SA_SIGINFO handlers pass 0 for `handler`. */
static inline void on_signal(int sig, void (*handler)(int), void (*info_handler)(int, siginfo_t*, void*)) {
  struct sigaction action;
  memset(&action, 0, sizeof action);
  if (info_handler) {
    action.sa_sigaction = info_handler;
    action.sa_flags = SA_SIGINFO;
  } else {
    action.sa_handler = handler;
  }
  CHECK(sigaction(sig, &action, NULL) == 0);
}

/* Writes `size` random bytes at the start of fd: a file whose content only
 * the trace can give replay once it is gone. 0 when done. */
static inline int fill_random(int fd, size_t size) {
  unsigned char* bytes = malloc(size);
  FILE* random = fopen("/dev/urandom", "rb");
  int ok = bytes && random && fread(bytes, 1, size, random) == size && pwrite(fd, bytes, size, 0) == (ssize_t)size;
  if (random) fclose(random);
  free(bytes);
  return ok ? 0 : 1;
}

#endif
