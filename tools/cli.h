// The `kin` command-line tool, as a library so tests can drive it.
//
//   kin inspect FILE                      tables (row counts, columns with
//                                         types, indexes), foreign keys and
//                                         relations of a snapshot
//   kin verify FILE                       full check: envelope, checksum,
//                                         contents, index consistency
//   kin dump FILE TABLE [--format csv|json]
//                                         the table's rows in slot order
//   kin help
//
// Exit codes: 0 success; 1 the snapshot is missing, unreadable or damaged,
// or the table does not exist (the reason on `err`, naming the file);
// 2 bad usage (usage on `err`).
//
// CSV (the default): a header of column names, then one line per row,
// "\n"-terminated; NULL is an empty field and an empty string is "" so the
// two stay apart; fields with commas, quotes, line breaks or surrounding
// spaces are quoted, quotes doubled. Doubles print in the shortest form that
// reads back to the same value (nan, inf, -inf as such).
// JSON: an array with one object per row, keys in column order; NULL is
// null; non-finite doubles are the strings "NaN", "Infinity", "-Infinity"
// (as protobuf's JSON mapping does); bytes that are not UTF-8 become U+FFFD.

#ifndef KIN_TOOLS_CLI_H_
#define KIN_TOOLS_CLI_H_

#include <ostream>
#include <string>
#include <vector>

namespace kin {

// Runs one command. `args` excludes the program name ({"verify", "a.kin"}).
// Returns the exit code; never throws.
int RunCli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace kin

#endif  // KIN_TOOLS_CLI_H_
