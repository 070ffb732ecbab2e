#include "ttdb/base/error.h"

#include <cstring>

namespace ttdb {

std::string errno_text(int error) {
  char buffer[256];
  // GNU strerror_r returns a pointer that may or may not be the buffer.
  return ::strerror_r(error, buffer, sizeof buffer);
}

}  // namespace ttdb
