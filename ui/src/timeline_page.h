// The timeline's page (timeline.html), built into ttdb by CMake.
#pragma once

namespace ttdb {
extern const char* const kTimelinePage;
}
