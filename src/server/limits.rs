//! The process's open-file limit: every live connection holds a socket, and the usual soft
//! limit (1,024) ends a server with a few hundred super admins' tabs open. At start-up the soft
//! limit is raised to the hard one (what an unprivileged process may do); beyond that the
//! operator raises the hard limit (`LimitNOFILE=` in a systemd unit, `ulimit -Hn`,
//! `--ulimit nofile=` for a container).

/// Raises the soft open-file limit to the hard limit; answers the limit now in force (`None`
/// where it cannot be read).
pub fn raise_open_files() -> Option<u64> {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit/setrlimit read and write the `rlimit` we own; no other memory.
        unsafe {
            if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
                return None;
            }
            if limit.rlim_cur < limit.rlim_max {
                let raised = libc::rlimit {
                    rlim_cur: limit.rlim_max,
                    rlim_max: limit.rlim_max,
                };
                if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                    limit = raised;
                }
            }
        }
        Some(limit.rlim_cur)
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        None
    }
}

#[cfg(test)]
mod tests {
    #[test]
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    fn the_soft_limit_reaches_the_hard_one() {
        let now = super::raise_open_files().expect("readable on Linux");
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: reads into a local.
        assert_eq!(
            unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) },
            0
        );
        assert_eq!(now, limit.rlim_cur);
        assert_eq!(limit.rlim_cur, limit.rlim_max);
    }
}
