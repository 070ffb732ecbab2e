/* Maps fresh memory and protects memory without making code of it, as
 * every program's loader does (RELRO) and programs that guard pages do: a
 * page made read-only refuses a write (SIGSEGV), and takes one again once
 * writable. Maps memory for code, and memory to share, too.
 * With an argument, protects ttdb's own pages instead: "buffer" the
 * syscall buffer's first page, "trampolines" a page of its trampolines
 * (found as any program could find them); with a second, "unmap", unmaps
 * that page. */
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "find_shim.h"
#include "util.h"

static sigjmp_buf refused;
static void on_segv(int sig) { siglongjmp(refused, sig); }

/* A page of trampolines begins with the address of the shim's entry. */
static unsigned long find_trampolines(const struct found_shim* shim) {
  uint64_t entry = shim->base + ((const uint64_t*)shim->base)[2];
  FILE* maps = fopen("/proc/self/maps", "r");
  CHECK(maps);
  char line[512];
  unsigned long found = 0;
  while (!found && fgets(line, sizeof line, maps)) {
    unsigned long start, end, offset, inode;
    char perms[8], dev[16], path[256] = "";
    if (sscanf(line, "%lx-%lx %7s %lx %15s %lu %255s", &start, &end, perms, &offset, dev, &inode, path) < 6) continue;
    if (strcmp(perms, "r-xp") == 0 && inode == 0 && path[0] == 0 && start != shim->base &&
        *(const uint64_t*)start == entry)
      found = start;
  }
  fclose(maps);
  return found;
}

int main(int argc, char** argv) {
  if (argc > 1) {
    struct found_shim shim = {0, 0};
    CHECK(find_shim(&shim));
    unsigned long page = strcmp(argv[1], "buffer") == 0 ? shim.base : find_trampolines(&shim);
    CHECK(page);
    int unmap = argc > 2 && strcmp(argv[2], "unmap") == 0;
    printf("%s ttdb's %s\n", unmap ? "unmapping" : "protecting", argv[1]);
    fflush(stdout);
    CHECK((unmap ? munmap((void*)page, 4096) : mprotect((void*)page, 4096, PROT_READ)) == 0);
    printf("done\n");
    return 0;
  }
  char* p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  CHECK(p != MAP_FAILED);
  p[0] = 'a';
  CHECK(mprotect(p, 4096, PROT_READ) == 0);
  struct sigaction act;
  memset(&act, 0, sizeof act);
  act.sa_handler = on_segv;
  CHECK(sigaction(SIGSEGV, &act, NULL) == 0);
  if (sigsetjmp(refused, 1) == 0) {
    p[0] = 'x';
    printf("write went through\n");
  } else {
    printf("write refused, still %c\n", p[0]);
  }
  CHECK(mprotect(p, 4096, PROT_READ | PROT_WRITE) == 0);
  p[0] = 'b';
  printf("written: %c\n", p[0]);
  CHECK(mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) != MAP_FAILED);
  char* shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  CHECK(shared != MAP_FAILED);
  shared[0] = 'c';
  printf("shared: %c\n", shared[0]);
  CHECK(munmap(p, 4096) == 0);
  CHECK(munmap(shared, 4096) == 0);
  return 0;
}
