// A shared library for debug_libcall: its functions are not mapped yet at
// the program's first instruction, where the shell starts.
#include <ctype.h>

int shout(char* text) {
  int n = 0;
  for (; text[n]; ++n) text[n] = (char)toupper((unsigned char)text[n]);
  return n;
}
