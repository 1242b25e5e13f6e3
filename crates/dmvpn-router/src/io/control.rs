//! The control socket: a unix stream socket in the run directory. A client writes one command
//! line (`show ip nhrp`, …) and reads the answer until the router closes the connection.
//!
//! Bounded: at most [`MAX_CLIENTS`] connections are served at once (one short-lived thread
//! each, so that a stuck client blocks nobody); a further one is answered `% too many control
//! clients` and closed at once. Each connection has [`CLIENT_TIME`] in all to send its line
//! (at most 4096 bytes) and take its answer; a slower one is closed. Both are counted
//! ([`ControlCounters`], in `show counters`) and logged once per episode.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Sender};
use std::thread;
use std::time::{Duration, Instant};

use super::Input;

/// Connections served at once.
pub(super) const MAX_CLIENTS: usize = 16;
/// The time a connection has, from accept to the last byte of the answer.
pub(super) const CLIENT_TIME: Duration = Duration::from_secs(5);
/// The longest command line read.
const MAX_LINE: u64 = 4096;

/// What the control socket refused, for `show counters`.
#[derive(Debug, Default)]
pub(crate) struct ControlCounters {
    /// Connections served.
    pub(crate) served: AtomicU64,
    /// Connections closed at once: [`MAX_CLIENTS`] were being served.
    pub(crate) refused_busy: AtomicU64,
    /// Connections closed because they took longer than [`CLIENT_TIME`].
    pub(crate) timed_out: AtomicU64,
    /// In an episode of refusals (logged once when it starts).
    busy: AtomicBool,
}

/// The socket of the router called `name` in `run_dir`.
#[must_use]
pub fn socket_path(run_dir: &Path, name: &str) -> PathBuf {
    run_dir.join(format!("{name}.sock"))
}

/// Binds `path` (replacing a stale socket); [`serve`] answers on it.
pub(super) fn bind(path: &Path) -> io::Result<UnixListener> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    UnixListener::bind(path)
}

/// Hands each command that comes on `listener` to the loop; each connection has `time` in all
/// ([`CLIENT_TIME`] in the router).
pub(super) fn serve(
    listener: UnixListener,
    tx: Sender<Input>,
    counters: Arc<ControlCounters>,
    time: Duration,
) -> io::Result<()> {
    let active = Arc::new(AtomicUsize::new(0));
    thread::Builder::new()
        .name("control".into())
        .spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                if active.load(Ordering::Acquire) >= MAX_CLIENTS {
                    counters.refused_busy.fetch_add(1, Ordering::Relaxed);
                    if !counters.busy.swap(true, Ordering::Relaxed) {
                        super::log(&format!(
                            "%DMVPN-4-CONTROL: {MAX_CLIENTS} control clients at once: refusing more"
                        ));
                    }
                    let _ = stream.set_nonblocking(true);
                    let _ = (&stream).write_all(b"% too many control clients\n");
                    continue;
                }
                counters.busy.store(false, Ordering::Relaxed);
                active.fetch_add(1, Ordering::AcqRel);
                let (tx, slot, counters) = (tx.clone(), Arc::clone(&active), Arc::clone(&counters));
                let spawned =
                    thread::Builder::new()
                        .name("control-client".into())
                        .spawn(move || {
                            match answer(&stream, &tx, time) {
                                Err(e)
                                    if matches!(
                                        e.kind(),
                                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                                    ) =>
                                {
                                    counters.timed_out.fetch_add(1, Ordering::Relaxed);
                                }
                                _ => {
                                    counters.served.fetch_add(1, Ordering::Relaxed);
                                }
                            }
                            slot.fetch_sub(1, Ordering::AcqRel);
                        });
                if spawned.is_err() {
                    active.fetch_sub(1, Ordering::AcqRel);
                }
            }
        })?;
    Ok(())
}

/// The time left before `deadline`, or a timeout error.
fn left(deadline: Instant) -> io::Result<Duration> {
    deadline
        .checked_duration_since(Instant::now())
        .filter(|d| !d.is_zero())
        .ok_or_else(|| io::Error::from(io::ErrorKind::TimedOut))
}

/// A reader whose every read waits no later than the connection's deadline.
struct Deadline<'a> {
    stream: &'a UnixStream,
    deadline: Instant,
}

impl Read for Deadline<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.stream.set_read_timeout(Some(left(self.deadline)?))?;
        self.stream.read(buf)
    }
}

fn answer(stream: &UnixStream, tx: &Sender<Input>, time: Duration) -> io::Result<()> {
    let deadline = Instant::now() + time;
    let mut line = String::new();
    let reader = Deadline { stream, deadline }.take(MAX_LINE);
    BufReader::new(reader).read_line(&mut line)?;
    let (reply_tx, reply_rx) = mpsc::channel();
    let command = line.trim().to_owned();
    if tx
        .send(Input::Control {
            command,
            reply: reply_tx,
        })
        .is_err()
    {
        return Ok(());
    }
    let text = reply_rx
        .recv_timeout(left(deadline)?)
        .unwrap_or_else(|_| "% the router did not answer\n".to_owned());
    stream.set_write_timeout(Some(left(deadline)?))?;
    let mut stream = stream;
    stream.write_all(text.as_bytes())
}

/// Sends `command` to the router listening on `path` and returns its answer.
///
/// # Errors
///
/// When the socket cannot be reached (the router is not running) or the exchange fails.
pub fn query(path: &Path, command: &str) -> io::Result<String> {
    let mut stream = UnixStream::connect(path)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    stream.write_all(command.as_bytes())?;
    stream.write_all(b"\n")?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?;
    Ok(answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A loop that answers every command with its own text.
    fn echo_loop(rx: mpsc::Receiver<Input>) {
        thread::spawn(move || {
            for input in rx {
                if let Input::Control { command, reply } = input {
                    let _ = reply.send(format!("{command}\n"));
                }
            }
        });
    }

    /// A client's time in these tests.
    const TIME: Duration = Duration::from_millis(300);

    fn server() -> (tempdir::Dir, PathBuf, Arc<ControlCounters>) {
        let dir = tempdir::Dir::new();
        let path = socket_path(dir.path(), "t");
        let (tx, rx) = mpsc::channel();
        echo_loop(rx);
        let counters = Arc::new(ControlCounters::default());
        serve(bind(&path).unwrap(), tx, Arc::clone(&counters), TIME).unwrap();
        (dir, path, counters)
    }

    /// A directory removed at the end of the test (no tempfile crate in the tree).
    mod tempdir {
        use std::path::{Path, PathBuf};
        use std::sync::atomic::{AtomicU32, Ordering};

        pub(super) struct Dir(PathBuf);

        impl Dir {
            pub(super) fn new() -> Self {
                static N: AtomicU32 = AtomicU32::new(0);
                let n = N.fetch_add(1, Ordering::Relaxed);
                let path =
                    std::env::temp_dir().join(format!("dmvpn-control-{}-{n}", std::process::id()));
                std::fs::create_dir_all(&path).unwrap();
                Self(path)
            }

            pub(super) fn path(&self) -> &Path {
                &self.0
            }
        }

        impl Drop for Dir {
            fn drop(&mut self) {
                let _ = std::fs::remove_dir_all(&self.0);
            }
        }
    }

    #[test]
    fn answers_and_bounds_clients() {
        let (_dir, path, counters) = server();
        assert_eq!(query(&path, "show ip nhrp").unwrap(), "show ip nhrp\n");
        // MAX_CLIENTS silent clients hold every slot; the next is refused at once.
        let silent: Vec<UnixStream> = (0..MAX_CLIENTS)
            .map(|_| UnixStream::connect(&path).unwrap())
            .collect();
        let mut refused = None;
        for _ in 0..100 {
            // (a refused client is answered before it writes: read only)
            let mut client = UnixStream::connect(&path).unwrap();
            let mut answer = String::new();
            client.set_read_timeout(Some(TIME * 10)).unwrap();
            let _ = client.read_to_string(&mut answer);
            if answer.starts_with("% too many") {
                refused = Some(answer);
                break;
            }
            // (the control thread may not have taken every silent client yet)
            thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(refused.as_deref(), Some("% too many control clients\n"));
        assert!(counters.refused_busy.load(Ordering::Relaxed) >= 1);
        drop(silent);
        // The slots come back as the silent clients go.
        let mut back = false;
        for _ in 0..100 {
            // (a client refused before it wrote may see the connection reset: not yet)
            if query(&path, "again").is_ok_and(|a| a == "again\n") {
                back = true;
                break;
            }
            thread::sleep(Duration::from_millis(20));
        }
        assert!(back);
    }

    #[test]
    fn a_slow_client_is_closed_after_its_time() {
        let (_dir, path, counters) = server();
        let mut slow = UnixStream::connect(&path).unwrap();
        slow.write_all(b"show").unwrap(); // no newline: the line never ends
        let mut rest = Vec::new();
        slow.set_read_timeout(Some(TIME * 10)).unwrap();
        let n = slow.read_to_end(&mut rest).unwrap();
        assert_eq!(n, 0, "closed without an answer");
        for _ in 0..100 {
            if counters.timed_out.load(Ordering::Relaxed) == 1 {
                return;
            }
            thread::sleep(Duration::from_millis(20));
        }
        panic!("the slow client was not counted");
    }
}
