//! Least privilege: once its devices are open (TUN device, raw GRE and ESP sockets, UDP 500, the
//! control socket, the key log, `/dev/urandom`), `dmvpn-router run` gives up root.
//!
//! - **User and groups.** It becomes `--user` (default [`DEFAULT_USER`]) with that user's primary
//!   group (or `--group`) as its only group: `setgroups`, `setresgid`, `setresuid`, so neither
//!   the real, effective nor saved IDs stay 0 and root cannot be taken back.
//! - **Capabilities.** The bounding set keeps CAP_NET_ADMIN alone; the process keeps CAP_NET_ADMIN
//!   in its permitted, inheritable and ambient sets and *none* in its effective set. The one
//!   thing it does with it: EIGRP routes come and go for the router's whole life, and each is an
//!   `ip route replace|del … dev tunnel0` (see `host.rs`); the kernel checks CAP_NET_ADMIN of the
//!   process that changes the routing table, and the ambient set hands it to those `ip` children
//!   (and to nothing else the router runs: it runs nothing else). Reading and writing the open
//!   TUN device and sockets needs no capability. Without routes to program (no EIGRP and no
//!   static routes through the tunnel) CAP_NET_ADMIN is dropped too and the router runs with no
//!   capability at all.
//! - **`no_new_privs`** (`PR_SET_NO_NEW_PRIVS`): no set-user-ID or file-capability binary it
//!   might execute gains anything.
//!
//! The thread that calls [`drop_to`] must be the only one (capabilities and `no_new_privs` are
//! per thread and are inherited by the threads spawned after): the router spawns its reader and
//! control threads after it.
//!
//! Files: the run directory is created 0750 owned by the user and the control group, the control
//! socket is 0660 (the group may run `dmvpn-router show`); the key-log directory is created 0700
//! and its files 0600 (see `keylog.rs`), opened before the drop and owned by root.

use std::collections::HashSet;
use std::fs::{self, DirBuilder};
use std::io;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::Path;

use caps::{CapSet, Capability};
use nix::unistd::{Gid, Group, Uid, User};

/// The user `dmvpn-router run` becomes when `--user` is not given (the lab scripts create it with
/// `useradd --system`).
pub const DEFAULT_USER: &str = "dmvpn";

/// Who the router becomes after start-up.
#[derive(Clone, Debug)]
pub struct Target {
    /// The user's name.
    pub name: String,
    /// The user ID.
    pub uid: Uid,
    /// The only group (the user's primary group, or `--group`).
    pub gid: Gid,
}

/// What [`drop_to`] kept, for the start-up log.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Dropped {
    /// The capabilities left (permitted and ambient; the effective set is empty).
    pub kept: Vec<String>,
}

fn error(what: impl Into<String>) -> impl FnOnce(io::Error) -> super::RunError {
    super::io_error(what)
}

fn errno(what: &str) -> impl FnOnce(nix::errno::Errno) -> super::RunError + '_ {
    move |e| super::RunError::Io {
        what: what.to_owned(),
        source: io::Error::from(e),
    }
}

fn caps_error(what: &str) -> impl FnOnce(caps::errors::CapsError) -> super::RunError + '_ {
    move |e| super::RunError::Io {
        what: what.to_owned(),
        source: io::Error::other(e.to_string()),
    }
}

/// Looks up `user` (and `group`, else the user's primary group). `None` for `root`: the router
/// then keeps root (said in the log).
///
/// # Errors
///
/// When the user or group does not exist.
pub fn resolve(user: &str, group: Option<&str>) -> Result<Option<Target>, super::RunError> {
    if user == "root" && group.is_none() {
        return Ok(None);
    }
    let not_found = |what: String| super::RunError::Io {
        what,
        source: io::Error::from(io::ErrorKind::NotFound),
    };
    let entry = User::from_name(user)
        .map_err(errno("user database"))?
        .ok_or_else(|| {
            not_found(format!(
                "user {user} (create it: useradd --system --no-create-home --shell /usr/sbin/nologin {user}; or --user root to keep root)"
            ))
        })?;
    let gid = match group {
        Some(name) => {
            Group::from_name(name)
                .map_err(errno("group database"))?
                .ok_or_else(|| not_found(format!("group {name}")))?
                .gid
        }
        None => entry.gid,
    };
    Ok(Some(Target {
        name: entry.name,
        uid: entry.uid,
        gid,
    }))
}

/// Creates `dir` with `mode` if it is missing (owned by `owner` when given); an existing
/// directory is left as it is (it may be shared, e.g. `/tmp`).
pub(super) fn make_dir(
    dir: &Path,
    mode: u32,
    owner: Option<&Target>,
) -> Result<(), super::RunError> {
    if dir.is_dir() {
        return Ok(());
    }
    let shown = dir.display().to_string();
    DirBuilder::new()
        .recursive(true)
        .mode(mode)
        .create(dir)
        .map_err(error(shown.clone()))?;
    // (the umask may have taken bits off the mode)
    fs::set_permissions(dir, fs::Permissions::from_mode(mode)).map_err(error(shown.clone()))?;
    if let Some(t) = owner {
        std::os::unix::fs::chown(dir, Some(t.uid.as_raw()), Some(t.gid.as_raw()))
            .map_err(error(shown))?;
    }
    Ok(())
}

/// Gives the control socket at `path` to the router's user and group, mode 0660.
pub(super) fn own_socket(path: &Path, owner: Option<&Target>) -> Result<(), super::RunError> {
    let shown = path.display().to_string();
    fs::set_permissions(path, fs::Permissions::from_mode(0o660)).map_err(error(shown.clone()))?;
    if let Some(t) = owner {
        std::os::unix::fs::chown(path, Some(t.uid.as_raw()), Some(t.gid.as_raw()))
            .map_err(error(shown))?;
    }
    Ok(())
}

/// Becomes `target` (nothing changes for `None`, `--user root`) keeping CAP_NET_ADMIN for the `ip route` children when `routes` (none
/// otherwise), and sets `no_new_privs`. Call it while the process has one thread. When the
/// process does not run as root (file capabilities, a user namespace) it keeps its user and only
/// gives up capabilities.
///
/// # Errors
///
/// When a step fails: the router must not run with more than it says.
pub fn drop_to(target: Option<&Target>, routes: bool) -> Result<Dropped, super::RunError> {
    let keep: HashSet<Capability> = if routes {
        HashSet::from([Capability::CAP_NET_ADMIN])
    } else {
        HashSet::new()
    };
    let root = Uid::effective().is_root();
    if root && target.is_none() {
        // `--user root`: asked for, and said so in the log.
        return Ok(Dropped {
            kept: vec!["root".to_owned()],
        });
    }
    if let Some(t) = target.filter(|_| root) {
        // The bounding set first: dropping from it takes CAP_SETPCAP, which goes with root.
        for cap in caps::all() {
            if !keep.contains(&cap) {
                caps::drop(None, CapSet::Bounding, cap)
                    .map_err(caps_error("capability bounding set"))?;
            }
        }
        // Keep the permitted set across the change of user (taken down to `keep` below).
        nix::sys::prctl::set_keepcaps(true).map_err(errno("PR_SET_KEEPCAPS"))?;
        nix::unistd::setgroups(&[t.gid]).map_err(errno("setgroups"))?;
        nix::unistd::setresgid(t.gid, t.gid, t.gid).map_err(errno("setresgid"))?;
        nix::unistd::setresuid(t.uid, t.uid, t.uid).map_err(errno("setresuid"))?;
        nix::sys::prctl::set_keepcaps(false).map_err(errno("PR_SET_KEEPCAPS"))?;
    }
    caps::clear(None, CapSet::Effective).map_err(caps_error("effective capabilities"))?;
    caps::set(None, CapSet::Inheritable, &keep).map_err(caps_error("inheritable capabilities"))?;
    caps::set(None, CapSet::Permitted, &keep).map_err(caps_error("permitted capabilities"))?;
    caps::clear(None, CapSet::Ambient).map_err(caps_error("ambient capabilities"))?;
    for cap in &keep {
        caps::raise(None, CapSet::Ambient, *cap).map_err(caps_error("ambient capabilities"))?;
    }
    nix::sys::prctl::set_no_new_privs().map_err(errno("PR_SET_NO_NEW_PRIVS"))?;
    // Check, rather than trust: no root ID left, nothing effective, nothing permitted beyond.
    if target.is_some() && root {
        let (ruid, euid) = (Uid::current(), Uid::effective());
        if ruid.is_root() || euid.is_root() {
            return Err(super::RunError::Io {
                what: "dropping root".to_owned(),
                source: io::Error::other("still root after setresuid"),
            });
        }
    }
    let permitted = caps::read(None, CapSet::Permitted).map_err(caps_error("capabilities"))?;
    let effective = caps::read(None, CapSet::Effective).map_err(caps_error("capabilities"))?;
    if !effective.is_empty() || !permitted.is_subset(&keep) {
        return Err(super::RunError::Io {
            what: "dropping capabilities".to_owned(),
            source: io::Error::other(format!(
                "still effective {effective:?}, permitted {permitted:?}"
            )),
        });
    }
    let mut kept: Vec<String> = permitted.iter().map(ToString::to_string).collect();
    kept.sort();
    Ok(Dropped { kept })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_keeps_root_and_unknown_users_are_errors() {
        assert!(resolve("root", None).unwrap().is_none());
        let missing = resolve("dmvpn-no-such-user-here", None).unwrap_err();
        let text = missing.to_string();
        assert!(text.contains("useradd --system"), "{text}");
        assert!(resolve("root", Some("dmvpn-no-such-group")).is_err());
        let nobody = resolve("nobody", None).unwrap().unwrap();
        assert!(!nobody.uid.is_root());
    }
}
