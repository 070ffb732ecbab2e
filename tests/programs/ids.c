/* Prints the ids it runs with: a set-user-ID copy shows whether it got its privileges. */
#include <unistd.h>

#include "util.h"

int main(void) {
  printf("uid %d euid %d gid %d egid %d\n", (int)getuid(), (int)geteuid(), (int)getgid(), (int)getegid());
  return 0;
}
