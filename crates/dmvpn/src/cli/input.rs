//! What a command reads (the capture named on the command line, the key files) and how standard
//! output is written.

use std::fs::File;
use std::io::{self, Read};
use std::os::fd::AsFd;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::PathBuf;

use dmvpn::capture::{CaptureError, CaptureReader};
use dmvpn::decode::IkeKeys;
use dmvpn::keys::EspKeys;

use super::exit::Failure;

/// The capture named on the command line: a file, or standard input (`-`).
pub(crate) struct Input {
    /// `None`: standard input (or a set).
    path: Option<PathBuf>,
    /// Standard input copied to a temporary file, for commands that read the capture again.
    spool: Option<File>,
    /// Several files read as one capture, and the status of the set being read.
    pub(crate) set: Option<(Vec<PathBuf>, std::sync::Mutex<Option<SetStatusRef>>)>,
}

/// How far a capture set has been read, and its files' errors.
pub(crate) type SetStatusRef = std::sync::Arc<dmvpn::capture::set::SetStatus>;

/// A capture reader over a file or standard input.
pub(crate) type Reader = CaptureReader<Box<dyn Read + Send>>;

impl Input {
    pub(crate) fn new(path: PathBuf) -> Self {
        Self {
            path: (path.as_os_str() != "-").then_some(path),
            spool: None,
            set: None,
        }
    }

    /// The capture the arguments name: one file (or standard input), or a set of files, folders
    /// and glob patterns merged into one capture.
    pub(crate) fn from_args(args: &[PathBuf]) -> Result<Self, Failure> {
        let paths = dmvpn::capture::set::expand(args).map_err(Failure::other)?;
        match <[PathBuf; 1]>::try_from(paths) {
            Ok([path]) => Ok(Self::new(path)),
            Err(paths) if paths.iter().any(|path| path.as_os_str() == "-") => Err(Failure::other(
                "`-` (standard input) cannot be merged with other captures",
            )),
            Err(paths) => Ok(Self {
                path: None,
                spool: None,
                set: Some((paths, std::sync::Mutex::default())),
            }),
        }
    }

    /// The status of the set being read, once it is open.
    pub(crate) fn set_status(&self) -> Option<SetStatusRef> {
        let (_, status) = self.set.as_ref()?;
        status
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// A short title: the file's name, `standard input`, `N captures`.
    pub(crate) fn title(&self) -> String {
        if let Some((paths, _)) = &self.set {
            return format!("{} captures", paths.len());
        }
        self.path.as_ref().map_or_else(
            || "standard input".to_owned(),
            |path| {
                path.file_name().map_or_else(
                    || path.display().to_string(),
                    |n| n.to_string_lossy().into_owned(),
                )
            },
        )
    }

    /// How messages name it, in tshark's words.
    pub(crate) fn name(&self) -> String {
        if let Some((paths, _)) = &self.set {
            return format!("The capture set ({} files)", paths.len());
        }
        match &self.path {
            Some(path) => format!("The file \"{}\"", path.display()),
            None => "The standard input".to_owned(),
        }
    }

    pub(crate) fn metadata(&self) -> Option<std::fs::Metadata> {
        match &self.path {
            Some(path) => std::fs::metadata(path).ok(),
            None => fd_metadata(io::stdin().as_fd()),
        }
    }

    /// Whether a read may wait for a writer: a pipe, a FIFO, a terminal, a socket.
    pub(crate) fn is_live(&self) -> bool {
        self.set.is_none()
            && self.spool.is_none()
            && self.metadata().is_none_or(|meta| !meta.is_file())
    }

    /// A reader at the start of the capture whose read errors end the frames (taken by
    /// [`Input::finish`]).
    pub(crate) fn open(&self) -> Result<Reader, Failure> {
        let mut reader = self.open_reader().map_err(|error| self.failure(error))?;
        reader.end_at_errors();
        Ok(reader)
    }

    pub(crate) fn open_reader(&self) -> Result<Reader, CaptureError> {
        if let Some((paths, status)) = &self.set {
            use dmvpn::capture::set::{CaptureSet, SetStream};
            let set = CaptureSet::open(paths.clone());
            *status
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(set.status());
            return CaptureReader::new(Box::new(SetStream::new(set)) as Box<dyn Read + Send>);
        }
        let input: Box<dyn Read + Send> = match (&self.spool, &self.path) {
            (Some(spool), _) => {
                let mut file = spool.try_clone().map_err(|source| CaptureError::Open {
                    path: std::env::temp_dir(),
                    source,
                })?;
                io::Seek::rewind(&mut file).map_err(|source| CaptureError::Open {
                    path: std::env::temp_dir(),
                    source,
                })?;
                Box::new(file)
            }
            (None, Some(path)) => {
                Box::new(File::open(path).map_err(|source| CaptureError::Open {
                    path: path.clone(),
                    source,
                })?)
            }
            (None, None) => Box::new(io::stdin()),
        };
        CaptureReader::new(input)
    }

    pub(crate) fn failure(&self, error: CaptureError) -> Failure {
        Failure::Capture {
            input: self.name(),
            error,
        }
    }

    /// The read error that ended the capture early, if any (every whole frame before it has been
    /// handled by then).
    pub(crate) fn finish<R: Read>(&self, reader: &mut CaptureReader<R>) -> Result<(), Failure> {
        if let Some(error) = reader.take_error() {
            return Err(self.failure(error));
        }
        let errors = self
            .set_status()
            .map(|status| status.take_errors())
            .unwrap_or_default();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Failure::Set(errors))
        }
    }

    /// Makes the capture readable more than once: a file is opened again; standard input
    /// redirected from a file is read again through its descriptor; a pipe or a FIFO is copied
    /// to a temporary file (removed from its folder at once; only this process holds it).
    pub(crate) fn rewindable(&mut self) -> Result<(), Failure> {
        if self.spool.is_some() {
            return Ok(());
        }
        if !self.is_live() {
            if self.path.is_none() {
                let stdin = io::stdin().as_fd().try_clone_to_owned();
                self.spool =
                    Some(File::from(stdin.map_err(|error| {
                        Failure::other(format!("standard input: {error}"))
                    })?));
            }
            return Ok(());
        }
        let mut source: Box<dyn Read> = match &self.path {
            Some(path) => Box::new(File::open(path).map_err(|source| {
                self.failure(CaptureError::Open {
                    path: path.clone(),
                    source,
                })
            })?),
            None => Box::new(io::stdin().lock()),
        };
        let path = std::env::temp_dir().join(format!("dmvpn-input-{}.capture", std::process::id()));
        let spool_error = |error: io::Error| {
            Failure::other(format!(
                "{}: cannot copy the capture: {error}",
                path.display()
            ))
        };
        let mut file = {
            use std::os::unix::fs::OpenOptionsExt;
            std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&path)
                .map_err(spool_error)?
        };
        let _ = std::fs::remove_file(&path);
        io::copy(&mut source, &mut file).map_err(spool_error)?;
        self.spool = Some(file);
        Ok(())
    }
}

/// The metadata of an open file descriptor (standard input or output).
fn fd_metadata(fd: std::os::fd::BorrowedFd<'_>) -> Option<std::fs::Metadata> {
    File::from(fd.try_clone_to_owned().ok()?).metadata().ok()
}

/// Whether standard output should get each frame as soon as it is decoded (tshark's `-l`): a
/// pipe, a terminal or a socket, whose reader is waiting. A regular file or /dev/null (what
/// tools/perf/bench.sh writes to) is written in large chunks.
pub(crate) fn stdout_is_live() -> bool {
    let Some(meta) = fd_metadata(io::stdout().as_fd()) else {
        return false;
    };
    let is_null = || {
        meta.file_type().is_char_device()
            && std::fs::metadata("/dev/null").is_ok_and(|null| null.rdev() == meta.rdev())
    };
    !meta.is_file() && !is_null()
}

/// How standard output is written.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Output {
    /// Flush each frame (a pipe or a terminal).
    pub(crate) live: bool,
    /// Colour the text output.
    pub(crate) colour: bool,
}

/// Reads each key file as what its content says it is ([`dmvpn::keys::KeyFiles`]), once: later
/// calls with the same files (one per decoding thread, each replay pass) share the tables parsed
/// the first time, and the warnings are printed once.
pub(crate) fn load_keys(
    key_files: &[PathBuf],
) -> Result<(EspKeys, IkeKeys), Box<dyn std::error::Error>> {
    use dmvpn::keys::{FileKind, KeyFiles};
    type Loaded = Option<(Vec<PathBuf>, KeyFiles)>;
    static LOADED: std::sync::Mutex<Loaded> = std::sync::Mutex::new(None);
    let mut loaded = LOADED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some((_, files)) = loaded.as_ref().filter(|(paths, _)| paths == key_files) {
        return Ok((files.esp.clone(), files.ike.clone()));
    }
    let files = KeyFiles::load(key_files)?;
    for warning in &files.warnings {
        eprintln!("dmvpn: {warning}");
    }
    for (path, kind) in &files.kinds {
        if let (Some(path), FileKind::Psk) = (path, kind) {
            eprintln!(
                "dmvpn: {}: pre-shared keys are used by `dmvpn sessions` only",
                path.display()
            );
        }
    }
    let keys = (files.esp.clone(), files.ike.clone());
    *loaded = Some((key_files.to_vec(), files));
    Ok(keys)
}
