//! Capture sets: several capture files read as one stream, merged by timestamp.
//!
//! A hub that captures around the clock writes ring buffers (`dumpcap -b filesize:…`): many files,
//! each a slice of time, and several hubs' rings overlap in time. A [`CaptureSet`] reads such a set
//! as one capture: a k-way merge over one [`CaptureReader`] per file, each holding one pending
//! frame, always handing on the earliest. Frames are numbered across the set (1, 2, … as if the set
//! were one file), so a session that spans files is seen whole.
//!
//! Memory stays bounded by the files that overlap in time, not by their number: each file is
//! opened once at the start to read its first timestamp (then closed), and opened again only when
//! the merge reaches that time, so a ring of a thousand consecutive files holds one or two open.
//!
//! A file that cannot be read to its end (cut short, damaged, not a capture) is reported as a
//! [`SetError`] naming the file and the byte offset, after the whole frames before the fault have
//! been merged; the other files are read on. [`CaptureSet::take_errors`] lists them.
//!
//! [`expand`] turns command-line arguments into the files of a set: plain paths, directories
//! (their capture files, by name) and glob patterns expanded here (`'ring/*.pcapng'` works
//! quoted, whatever the shell).
//!
//! [`SetStream`] serialises the merged frames as one pcapng stream, so every consumer of a
//! [`CaptureReader`] reads a set unchanged (as `mergecap` would write it, without the copy).
//!
//! ```
//! use dmvpn::capture::set::CaptureSet;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/dmvpn");
//! let paths = dmvpn::capture::set::expand([format!("{dir}/phase1.pcap")])?;
//! let mut set = CaptureSet::open(paths);
//! let mut last = None;
//! while let Some(frame) = set.next_frame() {
//!     assert!(last.is_none_or(|last| last <= frame.timestamp));
//!     last = Some(frame.timestamp);
//! }
//! assert!(set.take_errors().is_empty());
//! # Ok(())
//! # }
//! ```

use std::collections::HashMap;
use std::ffi::OsStr;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::{CaptureError, CaptureReader, Frame, LinkType, Secrets, Timestamp};

/// A file of a set that could not be read (to its end): which file, and the reader's error (with
/// the frame number in that file and the byte offset).
#[derive(Debug, thiserror::Error)]
#[error("{}: {error}", path.display())]
pub struct SetError {
    /// The file.
    pub path: PathBuf,
    /// Why reading it stopped; [`CaptureError::position`] says where.
    pub error: CaptureError,
}

/// Command-line arguments that name no file, or a folder that cannot be listed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExpandError {
    /// A pattern matched no file.
    #[error("no file matches `{pattern}`")]
    NoMatch {
        /// The pattern, as given.
        pattern: String,
    },
    /// A folder holds no capture file.
    #[error("{}: the folder holds no pcap or pcapng file", path.display())]
    EmptyFolder {
        /// The folder.
        path: PathBuf,
    },
    /// A folder cannot be listed.
    #[error("{}: cannot list: {source}", path.display())]
    ReadDir {
        /// The folder.
        path: PathBuf,
        /// The operating system's reason.
        source: io::Error,
    },
    /// A pattern is not valid UTF-8, or ends inside a `[…]` class.
    #[error("`{pattern}`: bad pattern")]
    BadPattern {
        /// The pattern, lossily decoded.
        pattern: String,
    },
}

/// The files named by `args`: each argument is a file (kept as given, also when missing: opening
/// it reports that), a folder (its capture files, sorted by name: regular files whose first bytes
/// are a pcap, pcapng or gzip magic number, hidden files left out), or a glob pattern with `*`,
/// `?` and `[…]` (`[!…]` negates) in any path component, expanded in sorted order. The same file
/// named twice (a pattern and a path) is read once.
///
/// # Errors
///
/// A pattern that matches nothing, a folder that cannot be listed or holds no capture.
pub fn expand<I, S>(args: I) -> Result<Vec<PathBuf>, ExpandError>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut out = Vec::new();
    for arg in args {
        let arg = Path::new(arg.as_ref());
        if arg.as_os_str() == "-" || arg.is_file() {
            out.push(arg.to_owned());
        } else if arg.is_dir() {
            let files = folder_captures(arg)?;
            if files.is_empty() {
                return Err(ExpandError::EmptyFolder {
                    path: arg.to_owned(),
                });
            }
            out.extend(files);
        } else if has_glob(arg) {
            let matches = glob(arg)?;
            if matches.is_empty() {
                return Err(ExpandError::NoMatch {
                    pattern: arg.display().to_string(),
                });
            }
            out.extend(matches);
        } else {
            out.push(arg.to_owned());
        }
    }
    let mut seen = std::collections::HashSet::new();
    out.retain(|path| {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(path).map_or(true, |meta| seen.insert((meta.dev(), meta.ino())))
    });
    Ok(out)
}

fn has_glob(path: &Path) -> bool {
    path.as_os_str()
        .as_encoded_bytes()
        .iter()
        .any(|b| matches!(b, b'*' | b'?' | b'['))
}

/// The capture files of a folder, by name.
fn folder_captures(dir: &Path) -> Result<Vec<PathBuf>, ExpandError> {
    let read_dir = |source| ExpandError::ReadDir {
        path: dir.to_owned(),
        source,
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(read_dir)? {
        let entry = entry.map_err(read_dir)?;
        let name = entry.file_name();
        if name.as_encoded_bytes().starts_with(b".") {
            continue;
        }
        let path = entry.path();
        if path.is_file() && looks_like_capture(&path) {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// Whether a file starts with a pcap, pcapng or gzip magic number.
fn looks_like_capture(path: &Path) -> bool {
    let mut magic = [0; 4];
    let read = File::open(path).and_then(|mut file| file.read_exact(&mut magic));
    read.is_ok()
        && (magic[..2] == [0x1f, 0x8b]
            || matches!(
                magic,
                [0x0a, 0x0d, 0x0d, 0x0a]
                    | [0xa1, 0xb2, 0xc3, 0xd4]
                    | [0xd4, 0xc3, 0xb2, 0xa1]
                    | [0xa1, 0xb2, 0x3c, 0x4d]
                    | [0x4d, 0x3c, 0xb2, 0xa1]
            ))
}

/// Expands a pattern component by component (only components with a wildcard list a folder).
fn glob(pattern: &Path) -> Result<Vec<PathBuf>, ExpandError> {
    let bad = || ExpandError::BadPattern {
        pattern: pattern.display().to_string(),
    };
    let mut current = vec![PathBuf::new()];
    for component in pattern.components() {
        let part = component.as_os_str();
        if !has_glob(Path::new(part)) {
            for path in &mut current {
                path.push(part);
            }
            continue;
        }
        let part = part.to_str().ok_or_else(bad)?;
        if !valid_pattern(part.as_bytes()) {
            return Err(bad());
        }
        let mut next = Vec::new();
        for dir in &current {
            let listed = if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir.as_path()
            };
            let Ok(entries) = std::fs::read_dir(listed) else {
                continue;
            };
            let mut names: Vec<_> = entries
                .filter_map(Result::ok)
                .map(|entry| entry.file_name())
                .filter(|name| {
                    let name = name.as_encoded_bytes();
                    // As shells do: `*` does not match a leading dot.
                    (!name.starts_with(b".") || part.starts_with('.'))
                        && wildcard(part.as_bytes(), name)
                })
                .collect();
            names.sort();
            next.extend(names.into_iter().map(|name| dir.join(name)));
        }
        current = next;
    }
    current.retain(|path| path.exists());
    Ok(current)
}

/// Whether every `[` in a pattern has its `]`.
fn valid_pattern(pattern: &[u8]) -> bool {
    let mut i = 0;
    while i < pattern.len() {
        if pattern[i] == b'[' {
            match class_end(pattern, i) {
                Some(end) => i = end,
                None => return false,
            }
        }
        i += 1;
    }
    true
}

/// The index of the `]` closing the class that opens at `open`.
fn class_end(pattern: &[u8], open: usize) -> Option<usize> {
    let mut i = open + 1;
    if pattern.get(i) == Some(&b'!') {
        i += 1;
    }
    // A `]` first in the class is a member.
    if pattern.get(i) == Some(&b']') {
        i += 1;
    }
    pattern
        .get(i..)?
        .iter()
        .position(|&b| b == b']')
        .map(|at| i + at)
}

/// Shell wildcard matching of one path component: `*`, `?`, `[abc]`, `[a-z]`, `[!…]`.
fn wildcard(pattern: &[u8], name: &[u8]) -> bool {
    // Iterative, with one backtrack point for the last `*` (linear in practice, no recursion).
    let (mut p, mut n) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        let step = match pattern.get(p) {
            Some(b'*') => {
                star = Some((p, n));
                p += 1;
                continue;
            }
            Some(b'?') => Some(p + 1),
            Some(b'[') => class_end(pattern, p).and_then(|end| {
                class_matches(pattern.get(p + 1..end).unwrap_or_default(), name[n])
                    .then_some(end + 1)
            }),
            Some(&c) => (c == name[n]).then_some(p + 1),
            None => None,
        };
        match (step, star) {
            (Some(next), _) => {
                p = next;
                n += 1;
            }
            (None, Some((star_p, star_n))) => {
                p = star_p + 1;
                n = star_n + 1;
                star = Some((star_p, star_n + 1));
            }
            (None, None) => return false,
        }
    }
    pattern
        .get(p..)
        .unwrap_or_default()
        .iter()
        .all(|&b| b == b'*')
}

fn class_matches(class: &[u8], c: u8) -> bool {
    let (negate, class) = match class.split_first() {
        Some((b'!', rest)) => (true, rest),
        _ => (false, class),
    };
    let mut i = 0;
    let mut hit = false;
    while i < class.len() {
        if class.get(i + 1) == Some(&b'-') && i + 2 < class.len() {
            hit |= (class[i]..=class[i + 2]).contains(&c);
            i += 3;
        } else {
            hit |= class[i] == c;
            i += 1;
        }
    }
    hit != negate
}

/// How far a set has been read (bytes, files done: what a progress line shows) and the files that
/// could not be read to their end. Shared ([`CaptureSet::status`]): the set may be owned by a
/// reader deep in a pipeline.
#[derive(Debug, Default)]
pub struct SetStatus {
    bytes: AtomicU64,
    files_done: AtomicU64,
    files: AtomicU64,
    total_bytes: AtomicU64,
    errors: std::sync::Mutex<Vec<SetError>>,
}

impl SetStatus {
    fn errors(&self) -> std::sync::MutexGuard<'_, Vec<SetError>> {
        self.errors
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Takes the errors found so far: each file that could not be read to its end, in the order
    /// found.
    pub fn take_errors(&self) -> Vec<SetError> {
        core::mem::take(&mut *self.errors())
    }

    /// How many errors are held.
    #[must_use]
    pub fn error_count(&self) -> usize {
        self.errors().len()
    }

    fn push_error(&self, path: &Path, error: CaptureError) {
        self.errors().push(SetError {
            path: path.to_owned(),
            error,
        });
    }
}

/// A getter for each of the status's counters (relaxed loads: they are progress figures).
macro_rules! counters {
    ($($(#[doc = $doc:literal])+ $name:ident,)+) => {
        impl SetStatus {$(
            $(#[doc = $doc])+
            #[must_use]
            pub fn $name(&self) -> u64 {
                self.$name.load(Ordering::Relaxed)
            }
        )+}
    };
}

counters! {
    /// Bytes read from the files so far (compressed bytes for gzip files).
    bytes,
    /// The sum of the files' sizes.
    total_bytes,
    /// Files read to their end (or to an error) so far.
    files_done,
    /// Files in the set.
    files,
}

/// A file under its reader: counts what is read, and hashes it when asked.
struct Source {
    file: File,
    progress: Arc<SetStatus>,
    hash: Option<Arc<std::sync::Mutex<Hashing>>>,
}

/// A file's digest as it is read, shared with the set (the reader owns the [`Source`]).
struct Hashing {
    hasher: sha2::Sha256,
    /// Bytes hashed so far.
    read: u64,
}

impl Read for Source {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.file.read(buf)?;
        self.progress.bytes.fetch_add(n as u64, Ordering::Relaxed);
        if let Some(hash) = &self.hash {
            let mut hash = hash
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            sha2::Digest::update(&mut hash.hasher, buf.get(..n).unwrap_or_default());
            hash.read += n as u64;
        }
        Ok(n)
    }
}

type SourceReader = CaptureReader<Source>;

/// One file of a set.
#[derive(Debug)]
struct Member {
    path: PathBuf,
    /// Its first frame's timestamp (the order in which files are opened); `None` for a file with
    /// no frame or that cannot be read.
    first: Option<Timestamp>,
    /// The SHA-256 of its bytes, once read to the end (with [`CaptureSet::hash_contents`]).
    digest: Option<[u8; 32]>,
}

/// An open member: its reader and the timestamp of the frame it holds pending.
struct Open {
    member: usize,
    reader: SourceReader,
    pending: Timestamp,
    hash: Option<Arc<std::sync::Mutex<Hashing>>>,
}

/// Several capture files merged by timestamp into one stream of frames (see the module docs).
pub struct CaptureSet {
    members: Vec<Member>,
    /// Member indices not yet opened, by first timestamp (then by position), next last.
    unopened: Vec<usize>,
    open: Vec<Open>,
    /// The open reader whose frame was handed out last: its pending timestamp must be read
    /// before the next choice.
    stale: Option<usize>,
    number: u64,
    status: Arc<SetStatus>,
    hash: bool,
    /// The member and the file-local frame number of the last frame handed out.
    last: Option<(usize, u64)>,
    /// The snapshot length of the last frame's interface.
    last_snaplen: u32,
    /// The Decryption Secrets Blocks read before the last frame.
    last_secrets: Vec<Secrets>,
}

impl core::fmt::Debug for CaptureSet {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("CaptureSet")
            .field("members", &self.members)
            .field("open", &self.open.len())
            .field("number", &self.number)
            .finish_non_exhaustive()
    }
}

impl CaptureSet {
    /// A set over these files (see [`expand`]). Each file is opened here to read its first
    /// frame's timestamp, then closed; a file that cannot be opened or is not a capture is
    /// reported in [`CaptureSet::take_errors`] and left out.
    #[must_use]
    pub fn open(paths: Vec<PathBuf>) -> Self {
        Self::with_options(paths, false)
    }

    /// As [`CaptureSet::open`]; with `hash_contents`, each file's SHA-256 is computed as it is
    /// read ([`CaptureSet::digest`]), the rest of a file that ends early included.
    #[must_use]
    pub fn with_options(paths: Vec<PathBuf>, hash_contents: bool) -> Self {
        let progress = Arc::new(SetStatus::default());
        progress.files.store(paths.len() as u64, Ordering::Relaxed);
        let total: u64 = paths
            .iter()
            .filter_map(|path| std::fs::metadata(path).ok())
            .map(|meta| meta.len())
            .sum();
        progress.total_bytes.store(total, Ordering::Relaxed);
        let mut set = Self {
            members: Vec::with_capacity(paths.len()),
            unopened: Vec::new(),
            open: Vec::new(),
            stale: None,
            number: 0,
            status: progress,
            hash: hash_contents,
            last: None,
            last_snaplen: 0,
            last_secrets: Vec::new(),
        };
        for path in paths {
            let first = match first_timestamp(&path) {
                Ok(first) => first,
                Err(error) => {
                    set.status.push_error(&path, error);
                    None
                }
            };
            set.members.push(Member {
                path,
                first,
                digest: None,
            });
        }
        let mut order: Vec<usize> = (0..set.members.len())
            .filter(|&i| set.members[i].first.is_some())
            .collect();
        // Files with no frame are done at once (their digest is still computed).
        for i in 0..set.members.len() {
            if set.members[i].first.is_none() {
                set.finish_unread(i);
            }
        }
        order.sort_by_key(|&i| (set.members[i].first, i));
        order.reverse();
        set.unopened = order;
        set
    }

    /// The files of the set, in the order given.
    pub fn paths(&self) -> impl Iterator<Item = &Path> {
        self.members.iter().map(|member| member.path.as_path())
    }

    /// Takes the errors found so far: the files that could not be read to their end (also
    /// through [`CaptureSet::status`]).
    pub fn take_errors(&self) -> Vec<SetError> {
        self.status.take_errors()
    }

    /// How many files are open now (those whose time the merge has reached and that are not
    /// done): the set's memory is bounded by this, not by its number of files.
    #[must_use]
    pub fn open_files(&self) -> usize {
        self.open.len()
    }

    /// How far the set has been read, and its errors (shared: another thread may read it).
    #[must_use]
    pub fn status(&self) -> Arc<SetStatus> {
        Arc::clone(&self.status)
    }

    /// The SHA-256 of file `index`'s bytes, once it has been read to its end (with hashing on).
    #[must_use]
    pub fn digest(&self, index: usize) -> Option<[u8; 32]> {
        self.members.get(index).and_then(|member| member.digest)
    }

    /// The file (its index in [`CaptureSet::paths`]) and the frame's number in that file of the
    /// frame [`CaptureSet::next_frame`] returned last.
    #[must_use]
    pub const fn source(&self) -> Option<(usize, u64)> {
        self.last
    }

    /// The pcapng Decryption Secrets Blocks read before the last frame returned (from its file).
    pub fn take_secrets(&mut self) -> Vec<Secrets> {
        core::mem::take(&mut self.last_secrets)
    }

    /// The earliest pending frame of the set, numbered across the set; `None` when every file is
    /// done. A file's read error ends that file only ([`CaptureSet::take_errors`]).
    pub fn next_frame(&mut self) -> Option<Frame<'_>> {
        if let Some(i) = self.stale.take() {
            self.refresh(i);
        }
        let index = loop {
            let earliest = self
                .open
                .iter()
                .enumerate()
                .min_by_key(|(_, open)| (open.pending, open.member))
                .map(|(i, open)| (i, open.pending));
            // Open the next file if it starts before what is pending (or nothing is).
            let next = self.unopened.last().map(|&m| self.members[m].first);
            match (earliest, next) {
                (_, Some(first)) if earliest.is_none_or(|(_, pending)| first <= Some(pending)) => {
                    if let Some(member) = self.unopened.pop() {
                        self.open_member(member);
                    }
                }
                (Some((i, _)), _) => break i,
                (None, _) => return None,
            }
        };
        self.stale = Some(index);
        let open = self.open.get_mut(index)?;
        let member = open.member;
        // The frame is pending (peeked): its interface and the secrets before it are known.
        if let Ok(Some(frame)) = open.reader.peek_frame() {
            let interface = frame.interface as usize;
            self.last_snaplen = open
                .reader
                .interfaces()
                .get(interface)
                .map_or(0, |interface| interface.snaplen);
        }
        self.last_secrets = open.reader.take_secrets();
        match open.reader.next_frame() {
            Ok(Some(frame)) => {
                self.number += 1;
                self.last = Some((member, frame.number));
                Some(Frame {
                    number: self.number,
                    ..frame
                })
            }
            // peek_frame said there was one; the reader is fused after an error.
            _ => None,
        }
    }

    /// Reads the pending timestamp of open reader `i`, closing it at its end.
    fn refresh(&mut self, i: usize) {
        let Some(open) = self.open.get_mut(i) else {
            return;
        };
        if let Ok(Some(frame)) = open.reader.peek_frame() {
            open.pending = frame.timestamp;
            return;
        }
        let open = self.open.swap_remove(i);
        self.close(open);
    }

    fn open_member(&mut self, member: usize) {
        let path = self.members[member].path.clone();
        let hash = self.hash.then(|| {
            Arc::new(std::sync::Mutex::new(Hashing {
                hasher: <sha2::Sha256 as sha2::Digest>::new(),
                read: 0,
            }))
        });
        let reader = File::open(&path)
            .map_err(|source| CaptureError::Open {
                path: path.clone(),
                source,
            })
            .and_then(|file| {
                CaptureReader::new(Source {
                    file,
                    progress: Arc::clone(&self.status),
                    hash: hash.clone(),
                })
            });
        let mut reader = match reader {
            Ok(reader) => reader,
            Err(error) => {
                self.status.push_error(&path, error);
                self.status.files_done.fetch_add(1, Ordering::Relaxed);
                return;
            }
        };
        reader.end_at_errors();
        let pending = match reader.peek_frame() {
            Ok(Some(frame)) => frame.timestamp,
            _ => {
                self.close(Open {
                    member,
                    reader,
                    pending: Timestamp::default(),
                    hash,
                });
                return;
            }
        };
        self.open.push(Open {
            member,
            reader,
            pending,
            hash,
        });
    }

    /// A reader is done: keep its error, finish its digest.
    fn close(&mut self, mut open: Open) {
        let path = &self.members[open.member].path;
        if let Some(error) = open.reader.take_error() {
            self.status.push_error(path, error);
        }
        self.status.files_done.fetch_add(1, Ordering::Relaxed);
        drop(open.reader);
        let Some(hash) = open.hash.take().and_then(Arc::into_inner) else {
            return;
        };
        let mut hash = hash
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // The reader may have stopped early (an error): the digest covers the whole file.
        let rest = File::open(path).and_then(|mut file| {
            io::Seek::seek(&mut file, io::SeekFrom::Start(hash.read))?;
            hash_into(&mut file, &mut hash.hasher)
        });
        if rest.is_ok() {
            self.members[open.member].digest = Some(sha2::Digest::finalize(hash.hasher).into());
        }
    }

    /// A file with no frame to merge: only its digest, when asked for.
    fn finish_unread(&mut self, member: usize) {
        self.status.files_done.fetch_add(1, Ordering::Relaxed);
        if self.hash {
            self.members[member].digest = hash_file(&self.members[member].path).ok();
        }
    }
}

/// The SHA-256 of a file's bytes.
fn hash_file(path: &Path) -> io::Result<[u8; 32]> {
    let mut hasher = <sha2::Sha256 as sha2::Digest>::new();
    hash_into(&mut File::open(path)?, &mut hasher)?;
    Ok(sha2::Digest::finalize(hasher).into())
}

/// Hashes what is left of `file`.
fn hash_into(file: &mut File, hasher: &mut sha2::Sha256) -> io::Result<()> {
    let mut buf = vec![0; 128 << 10];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            return Ok(());
        }
        sha2::Digest::update(hasher, buf.get(..n).unwrap_or_default());
    }
}

/// A file's first frame's timestamp (`None` if it has no frame; an error if it is not a capture).
fn first_timestamp(path: &Path) -> Result<Option<Timestamp>, CaptureError> {
    let mut reader = CaptureReader::open(path)?;
    reader.end_at_errors();
    let first = reader.peek_frame()?.map(|frame| frame.timestamp);
    match (first, reader.take_error()) {
        // Cut inside its first record: reported when merged (as any other cut).
        (None, Some(error)) if !error.is_cut_short() => Err(error),
        (first, _) => Ok(first),
    }
}

/// The pcapng Section Header Block a [`SetStream`] starts with (little-endian, version 1.0,
/// section length unknown).
const SECTION_HEADER: [u8; 28] = [
    0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 28, 0, 0, 0,
];

/// At most this many interfaces are declared in a [`SetStream`]; frames of further interfaces
/// (by link type and snapshot length) share the first one of their link type.
const MAX_STREAM_INTERFACES: usize = 4096;

/// A [`CaptureSet`] as one pcapng byte stream (one section; an Interface Description Block with
/// nanosecond timestamps for each link type and snapshot length met; Decryption
/// Secrets Blocks passed on; one Enhanced Packet Block per frame), for a [`CaptureReader`]: every
/// command reads a set as it reads a file.
///
/// A frame too large for one block of [`super::MAX_RECORD_LEN`] keeps its first bytes (its
/// length on the wire is kept); a timestamp before 1970 is written as 1970.
pub struct SetStream {
    set: CaptureSet,
    /// Bytes ready to be read: `buf[at..]`.
    buf: Vec<u8>,
    at: usize,
    started: bool,
    interfaces: HashMap<(u32, u32), u32>,
    by_link: HashMap<u32, u32>,
}

impl core::fmt::Debug for SetStream {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SetStream")
            .field("set", &self.set)
            .field("interfaces", &self.interfaces.len())
            .finish_non_exhaustive()
    }
}

impl SetStream {
    /// The stream of a set.
    #[must_use]
    pub fn new(set: CaptureSet) -> Self {
        Self {
            set,
            buf: Vec::with_capacity(READ_TARGET),
            at: 0,
            started: false,
            interfaces: HashMap::new(),
            by_link: HashMap::new(),
        }
    }

    /// Appends blocks for the next frame; false at the end of the set.
    fn next_blocks(&mut self) -> bool {
        let start = self.buf.len();
        // The packet block first, straight from the reader's buffer; its interface ID, and
        // blocks that must precede it (rare), once the frame is no longer borrowed.
        let Some(frame) = self.set.next_frame() else {
            return false;
        };
        let link_type = frame.link_type;
        write_packet(
            &mut self.buf,
            frame.timestamp,
            frame.original_len,
            frame.data,
        );
        let mut before = Vec::new();
        for secret in self.set.take_secrets() {
            write_secrets(&mut before, &secret);
        }
        let id = self.interface_id(link_type, self.set.last_snaplen, &mut before);
        if let Some(field) = self.buf.get_mut(start + 8..start + 12) {
            field.copy_from_slice(&id.to_le_bytes());
        }
        if !before.is_empty() {
            self.buf.splice(start..start, before);
        }
        true
    }

    fn interface_id(&mut self, link_type: LinkType, snaplen: u32, out: &mut Vec<u8>) -> u32 {
        let key = (link_type.0, snaplen);
        if let Some(&id) = self.interfaces.get(&key) {
            return id;
        }
        if self.interfaces.len() >= MAX_STREAM_INTERFACES
            && let Some(&id) = self.by_link.get(&link_type.0)
        {
            return id;
        }
        let id = self.interfaces.len() as u32;
        write_interface(out, link_type, snaplen);
        self.by_link.entry(link_type.0).or_insert(id);
        self.interfaces.insert(key, id);
        id
    }

    /// The set (its errors, its progress).
    #[must_use]
    pub const fn set(&self) -> &CaptureSet {
        &self.set
    }
}

/// A read is served once this many bytes are ready (or the set ends).
const READ_TARGET: usize = 128 << 10;

impl Read for SetStream {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.at == self.buf.len() {
            self.buf.clear();
            self.at = 0;
            if !self.started {
                self.started = true;
                self.buf.extend_from_slice(&SECTION_HEADER);
            }
            while self.buf.len() < out.len().min(READ_TARGET) && self.next_blocks() {}
        }
        let ready = self.buf.get(self.at..).unwrap_or_default();
        let n = ready.len().min(out.len());
        out[..n].copy_from_slice(&ready[..n]);
        self.at += n;
        Ok(n)
    }
}

fn push_block(buf: &mut Vec<u8>, block_type: u32, body: impl FnOnce(&mut Vec<u8>)) {
    let start = buf.len();
    buf.extend_from_slice(&block_type.to_le_bytes());
    buf.extend_from_slice(&[0; 4]);
    body(buf);
    while !(buf.len() - start).is_multiple_of(4) {
        buf.push(0);
    }
    let total = (buf.len() - start + 4) as u32;
    buf[start + 4..start + 8].copy_from_slice(&total.to_le_bytes());
    buf.extend_from_slice(&total.to_le_bytes());
}

fn push_option(buf: &mut Vec<u8>, code: u16, value: &[u8]) {
    buf.extend_from_slice(&code.to_le_bytes());
    buf.extend_from_slice(&(value.len() as u16).to_le_bytes());
    buf.extend_from_slice(value);
    while !buf.len().is_multiple_of(4) {
        buf.push(0);
    }
}

fn write_interface(buf: &mut Vec<u8>, link_type: LinkType, snaplen: u32) {
    push_block(buf, 1, |buf| {
        buf.extend_from_slice(&(link_type.0 as u16).to_le_bytes());
        buf.extend_from_slice(&[0; 2]);
        buf.extend_from_slice(&snaplen.to_le_bytes());
        // if_tsresol: 10^-9 s.
        push_option(buf, 9, &[9]);
        push_option(buf, 0, &[]);
    });
}

fn write_secrets(buf: &mut Vec<u8>, secrets: &Secrets) {
    push_block(buf, 0x0a, |buf| {
        buf.extend_from_slice(&secrets.secrets_type.0.to_le_bytes());
        buf.extend_from_slice(&(secrets.data.len() as u32).to_le_bytes());
        buf.extend_from_slice(&secrets.data);
    });
}

/// An Enhanced Packet Block on interface 0 (the caller sets the ID at bytes 8..12).
fn write_packet(buf: &mut Vec<u8>, at: Timestamp, original_len: u32, data: &[u8]) {
    let data = data
        .get(..data.len().min(super::MAX_RECORD_LEN - 32))
        .unwrap_or_default();
    let nanos = u64::try_from(at.secs)
        .unwrap_or(0)
        .saturating_mul(1_000_000_000)
        .saturating_add(u64::from(at.nanos));
    push_block(buf, 6, |buf| {
        buf.extend_from_slice(&[0; 4]);
        buf.extend_from_slice(&((nanos >> 32) as u32).to_le_bytes());
        buf.extend_from_slice(&(nanos as u32).to_le_bytes());
        buf.extend_from_slice(&(data.len() as u32).to_le_bytes());
        buf.extend_from_slice(&original_len.max(data.len() as u32).to_le_bytes());
        buf.extend_from_slice(data);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_match_as_shells_do() {
        // (pattern, name, whether it matches)
        let cases = [
            ("*.pcap", "a.pcap", true),
            ("ring_*_2024*.pcapng", "ring_00001_20240115.pcapng", true),
            ("?.pcap", "a.pcap", true),
            ("[ab].pcap", "b.pcap", true),
            ("[a-c]x", "bx", true),
            ("[!a]x", "bx", true),
            ("*", "anything", true),
            ("a*b*c", "aXbYbZc", true),
            ("[]]", "]", true),
            ("*.pcap", "a.pcapng", false),
            ("?.pcap", "ab.pcap", false),
            ("[ab].pcap", "c.pcap", false),
            ("[!a]x", "ax", false),
            ("a*b*c", "aXbYbZ", false),
            ("", "a", false),
        ];
        for (pattern, name, matches) in cases {
            assert_eq!(
                wildcard(pattern.as_bytes(), name.as_bytes()),
                matches,
                "{pattern} {name}"
            );
        }
        assert!(!valid_pattern(b"[ab"));
        assert!(valid_pattern(b"[ab]*"));
    }
}
