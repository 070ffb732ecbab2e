/* Maps libc's code a second time, executable but not readable (as a
 * loader that maps code execute-only would), and says how much it mapped.
 * The recorder patches the syscall sites of code a program maps, reading
 * the code around them first: here not the way the program could read it
 * (it cannot), only through /proc/PID/mem. */
#define _GNU_SOURCE
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "util.h"

struct text {
  const char* path;
  unsigned long offset, size;
};

static int find_libc_text(struct dl_phdr_info* info, size_t size, void* data) {
  (void)size;
  struct text* text = data;
  if (!strstr(info->dlpi_name, "libc.so")) return 0;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)* p = &info->dlpi_phdr[i];
    if (p->p_type == PT_LOAD && (p->p_flags & PF_X)) {
      text->path = info->dlpi_name;
      text->offset = p->p_offset & ~4095ul;
      text->size = p->p_filesz + (p->p_offset & 4095ul);
      return 1;
    }
  }
  return 0;
}

int main(int argc, char** argv) {
  struct text text = {0, 0, 0};
  CHECK(dl_iterate_phdr(find_libc_text, &text) == 1);
  int fd = open(text.path, O_RDONLY | O_CLOEXEC);
  CHECK(fd >= 0);
  void* code = mmap(NULL, text.size, PROT_EXEC, MAP_PRIVATE, fd, (off_t)text.offset);
  CHECK(code != MAP_FAILED);
  close(fd);
  printf("mapped %lu bytes of libc's code, execute-only\n", text.size);
  /* With "spin", it computes for a while first: a search of the new
   * mapping's sites begun when it was mapped is done by the time it goes. */
  if (argc > 1 && strcmp(argv[1], "spin") == 0) {
    volatile unsigned long sum = 0;
    for (unsigned long i = 0; i < 200000000UL; ++i) sum += i;
  }
  CHECK(munmap(code, text.size) == 0);
  return 0;
}
