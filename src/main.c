/*
** main.c — the entry point: sets the allocator's policy, then hands argv to the
** subcommand dispatcher (cli.c).
**
** Allocator: with thousands of civetweb worker threads glibc would grow up to 8 arenas per
** core and, after freeing one large block, raise its mmap threshold so that every later
** large buffer (a 1 MB chat rendered for a response) stays in an arena for good: the
** benchmark saw 280 MB resident after one scenario with large chats. Two arenas and a fixed
** 128 KB threshold (large blocks are mmap'd and go back to the system when freed) keep the
** resident size close to what is in use.
*/
#include "cli.h"

#include <malloc.h>

int main(int argc, char **argv){
  mallopt(M_ARENA_MAX, 2);
  mallopt(M_MMAP_THRESHOLD, 128*1024);
  return cli_main(argc, argv);
}
