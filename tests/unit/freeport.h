/*
** freeport.h — a loopback TCP port that was free a moment ago (bound, then released: good
** enough on a test machine), for the unit tests that need a port nothing listens on or a
** node to start on. Header-only.
*/
#ifndef CV_FREEPORT_H
#define CV_FREEPORT_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int free_port(void){
  struct sockaddr_in a;
  socklen_t n = sizeof a;
  int fd = socket(AF_INET, SOCK_STREAM, 0), port;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, (struct sockaddr*)&a, sizeof a);
  getsockname(fd, (struct sockaddr*)&a, &n);
  port = ntohs(a.sin_port);
  close(fd);
  return port;
}

#endif /* CV_FREEPORT_H */
