#define _GNU_SOURCE
#include "gb_loop.h"

#include <errno.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <unistd.h>

int gb_epoll_create(void) { return epoll_create1(EPOLL_CLOEXEC); }

int gb_epoll_add(int epfd, int fd, uint64_t token) {
    struct epoll_event event = {.events = EPOLLIN, .data.u64 = token};
    return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &event) == 0 ? 0 : errno;
}

int gb_epoll_remove(int epfd, int fd) {
    struct epoll_event unused = {0};
    return epoll_ctl(epfd, EPOLL_CTL_DEL, fd, &unused) == 0 ? 0 : errno;
}

int gb_epoll_wait(int epfd, uint64_t *tokens, int capacity, int timeout_ms) {
    struct epoll_event events[64];
    if (capacity > 64) capacity = 64;
    int count = epoll_wait(epfd, events, capacity, timeout_ms);
    if (count < 0) return errno == EINTR ? 0 : -1;
    for (int i = 0; i < count; i++) tokens[i] = events[i].data.u64;
    return count;
}

int gb_eventfd(void) { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }

void gb_eventfd_signal(int fd) {
    uint64_t one = 1;
    ssize_t n;
    do { n = write(fd, &one, sizeof one); } while (n < 0 && errno == EINTR);
}

void gb_eventfd_drain(int fd) {
    uint64_t count;
    ssize_t n;
    do { n = read(fd, &count, sizeof count); } while (n < 0 && errno == EINTR);
}

void gb_name_thread(const char *name) { prctl(PR_SET_NAME, name, 0, 0, 0); }
