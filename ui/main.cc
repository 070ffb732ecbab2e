#include "ttdb/ui/cli.h"

int main(int argc, char** argv) { return ttdb::run_cli(argc, argv); }
