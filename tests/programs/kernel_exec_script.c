// Kernel corner (tests/e2e/kernel_test.cc): the program writes shell
// scripts, runs them through execve (the kernel starts their "#!"
// interpreter, with an argument of its own or none), rewrites one and runs
// it again, and deletes them all: replay runs neither the scripts that are
// gone nor the rewritten one's new text.
#include "kernel_common.h"

static void write_script(const char* path, const char* text) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0755);
  CHECK(fd >= 0);
  CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
  CHECK(close(fd) == 0);
}

static int run(char* const argv[]) {
  pid_t child = fork();
  CHECK(child >= 0);
  if (child == 0) {
    execv(argv[0], argv);
    _exit(127);
  }
  return child_status(child);
}

int main(void) {
  char plain[64], with_argument[64];
  snprintf(plain, sizeof plain, "/tmp/ttdb-script-%d.sh", getpid());
  snprintf(with_argument, sizeof with_argument, "/tmp/ttdb-script-e-%d.sh", getpid());
  write_script(plain, "#!/bin/sh\necho \"plain: $# arguments, first $1\"\nexit 3\n");
  write_script(with_argument, "#!/bin/sh -e  \necho \"with -e: $0 is a script\" | sed 's/[0-9]*\\.sh/N.sh/'\nfalse\necho never\n");
  char* plain_argv[] = {plain, "one", "two", NULL};
  char* argument_argv[] = {with_argument, NULL};
  printf("plain exited %d\n", run(plain_argv));
  printf("with -e exited %d\n", run(argument_argv));
  write_script(plain, "#!/bin/sh\necho rewritten\n");
  printf("rewritten exited %d\n", run(plain_argv));
  CHECK(unlink(plain) == 0 && unlink(with_argument) == 0);
  return 0;
}
