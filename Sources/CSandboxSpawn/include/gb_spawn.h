#ifndef GOLEM_BRIDGE_SPAWN_H
#define GOLEM_BRIDGE_SPAWN_H

/// One resource limit (soft = hard) for the child, as setrlimit(2) resources.
struct gb_limit {
    int resource;
    unsigned long long value;
};

/// Starts `path` in a new process group with stdin from /dev/null, stdout and stderr on the given
/// descriptors, every other descriptor closed, default signal dispositions and an empty signal mask.
/// Before exec it applies `limits` and, when `drop_ids` is set, drops to `uid`/`gid` with no
/// supplementary groups. Done in a vfork'ed child with raw system calls only, so the sandbox costs
/// one exec (bubblewrap) instead of three (setpriv, bubblewrap, prlimit).
/// `extra_fds` (at most 8) are passed on as descriptors 3, 4, … in order (bubblewrap's `--info-fd 3`,
/// a warm sandbox's control socket and warden binary).
/// Returns 0 and the pid, or the errno of what failed (in the parent or in the child before exec).
int gb_spawn(const char *path, char *const argv[], char *const envp[],
             int drop_ids, unsigned int uid, unsigned int gid,
             const struct gb_limit *limits, int limit_count,
             int stdout_fd, int stderr_fd, const int *extra_fds, int extra_count, int *pid_out);

/// pidfd_open(2): a descriptor that names `pid` for as long as it is open, or -1.
int gb_pidfd_open(int pid);

/// Sends SIGKILL through a pidfd (never to a recycled pid); 0 or the errno.
int gb_pidfd_kill(int pidfd);

#endif
