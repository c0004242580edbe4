// The `kin` command-line tool; everything but argv handling is in cli.cc.

#include <iostream>
#include <string>
#include <vector>

#include "tools/cli.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  int code = kin::RunCli(args, std::cout, std::cerr);
  std::cout.flush();
  if (!std::cout) {
    std::cerr << "kin: cannot write the output\n";
    return 1;
  }
  return code;
}
