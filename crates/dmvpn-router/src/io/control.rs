//! The control socket: a unix stream socket in the run directory. A client writes one command
//! line (`show ip nhrp`, …) and reads the answer until the router closes the connection.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Sender};
use std::thread;
use std::time::Duration;

use super::Input;

/// The socket of the router called `name` in `run_dir`.
#[must_use]
pub fn socket_path(run_dir: &Path, name: &str) -> PathBuf {
    run_dir.join(format!("{name}.sock"))
}

/// Listens on `path` (replacing a stale socket) and hands each command to the loop.
pub(super) fn serve(path: &Path, tx: Sender<Input>) -> io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    let listener = UnixListener::bind(path)?;
    thread::Builder::new()
        .name("control".into())
        .spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let tx = tx.clone();
                // One short-lived thread per client, so that a stuck client blocks nobody.
                let _ = thread::Builder::new()
                    .name("control-client".into())
                    .spawn(move || {
                        let _ = answer(stream, &tx);
                    });
            }
        })?;
    Ok(())
}

fn answer(stream: UnixStream, tx: &Sender<Input>) -> io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut line = String::new();
    BufReader::new((&stream).take(4096)).read_line(&mut line)?;
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
        .recv_timeout(Duration::from_secs(5))
        .unwrap_or_else(|_| "% the router did not answer\n".to_owned());
    (&stream).write_all(text.as_bytes())
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
