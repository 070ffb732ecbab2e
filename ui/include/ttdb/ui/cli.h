// The ttdb command line. The binary's main() only calls this.
#pragma once

namespace ttdb {

// Exit statuses of ttdb's own (docs/commands.md lists them). Where the
// program's status is passed through, these can only be told apart from it
// by the message ttdb prints with them.
inline constexpr int kExitUsage = 2;
inline constexpr int kExitIncomplete = 123;  // replay reached the end of an unfinished recording
inline constexpr int kExitDiverged = 124;    // replay stopped matching the recording
inline constexpr int kExitFailure = 125;     // ttdb itself failed (bad trace, I/O error...)

int run_cli(int argc, char** argv);

}  // namespace ttdb
