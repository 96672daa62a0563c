/*
** main.c — the entry point: hands argv to the subcommand dispatcher (cli.c).
*/
#include "cli.h"

int main(int argc, char **argv){
  return cli_main(argc, argv);
}
