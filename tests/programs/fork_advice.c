/* Memory advised out of forks: one page that a fork leaves out
 * (MADV_DONTFORK), one that it empties (MADV_WIPEONFORK). The program makes
 * syscalls for a while, then shows both pages as it sees them and as a
 * forked child does. */
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

static void show(const char* who, const char* kept, const char* wiped) {
  int present = madvise((void*)kept, 4096, MADV_NORMAL) == 0;
  printf("%s: the kept page %s; the wiped page holds \"%s\"\n", who, present ? kept : "is missing", wiped);
  fflush(stdout);
}

int main(void) {
  char* kept = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  char* wiped = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  CHECK(kept != MAP_FAILED && wiped != MAP_FAILED);
  CHECK(madvise(kept, 4096, MADV_DONTFORK) == 0);
  CHECK(madvise(wiped, 4096, MADV_WIPEONFORK) == 0);
  strcpy(kept, "holds the parent's words");
  strcpy(wiped, "the parent's secret");
  long sum = 0;
  for (int i = 0; i < 100; ++i) sum += getppid() > 0;
  printf("%ld rounds\n", sum);
  show("parent", kept, wiped);
  pid_t child = fork();
  CHECK(child >= 0);
  if (child == 0) {
    show("child", kept, wiped);
    _exit(0);
  }
  int status;
  CHECK(waitpid(child, &status, 0) == child && WIFEXITED(status));
  return 0;
}
