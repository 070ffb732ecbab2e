/* How a program finds ttdb's syscall buffer in itself, as any program could:
 * the executable memory with no file behind it whose first bytes are the
 * shim's header (tracer/shim/shim_abi.h). For the programs that test what
 * happens when a program goes where ttdb's code is. */
#ifndef TTDB_TEST_FIND_SHIM_H
#define TTDB_TEST_FIND_SHIM_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

struct found_shim {
  unsigned long base;
  unsigned long syscall_insn; /* its untraced `syscall` instruction, then `ret` */
};

/* 0 when there is none (not recorded, or recorded without the buffer). */
static inline int find_shim(struct found_shim* out) {
  FILE* maps = fopen("/proc/self/maps", "r");
  if (!maps) return 0;
  char line[512];
  int found = 0;
  while (!found && fgets(line, sizeof line, maps)) {
    unsigned long start, end, offset, inode;
    char perms[8], dev[16], path[256] = "";
    if (sscanf(line, "%lx-%lx %7s %lx %15s %lu %255s", &start, &end, perms, &offset, dev, &inode, path) < 6) continue;
    if (strcmp(perms, "r-xp") != 0 || inode != 0 || path[0] != 0) continue;
    const uint64_t* header = (const uint64_t*)start;
    if (header[0] != 0x6d696873626474ull) continue; /* "tdbshim" */
    out->base = start;
    /* Version 1 held the address itself, later ones its offset. */
    unsigned long untraced_return = header[3] >= start ? header[3] : start + header[3];
    out->syscall_insn = untraced_return - 2;
    found = 1;
  }
  fclose(maps);
  return found;
}

#endif
