#ifndef GOLEM_BRIDGE_LOOP_H
#define GOLEM_BRIDGE_LOOP_H

#include <stdint.h>

/// epoll(7) and eventfd(2) for the sandbox's output loop. Wrapped in C because `struct epoll_event`
/// is packed on x86_64, which Swift does not import faithfully.

/// A new close-on-exec epoll instance, or -1 (errno set).
int gb_epoll_create(void);

/// Watches `fd` for input (level-triggered); events carry `token`. 0 or the errno.
int gb_epoll_add(int epfd, int fd, uint64_t token);

/// Stops watching `fd`. 0 or the errno.
int gb_epoll_remove(int epfd, int fd);

/// Waits up to `timeout_ms` (-1: no bound) and writes the tokens of ready descriptors (input,
/// end of file or error alike) to `tokens`. Returns their number, 0 on timeout or EINTR, -1 on error.
int gb_epoll_wait(int epfd, uint64_t *tokens, int capacity, int timeout_ms);

/// A new non-blocking, close-on-exec eventfd, or -1.
int gb_eventfd(void);

/// Makes the eventfd readable (wakes a waiting loop).
void gb_eventfd_signal(int fd);

/// Reads the eventfd's count away.
void gb_eventfd_drain(int fd);

/// Names the calling thread (at most 15 bytes are kept), as `ps`, `top` and `perf` show it.
void gb_name_thread(const char *name);

#endif
