//! The bytes under the reader: the input as given or through a gzip decoder, and the one
//! buffer each record is read into.

use core::fmt;
use std::io::{self, Read};

use flate2::read::MultiGzDecoder;

use super::{CaptureError, CaptureReader, Position, READ_CHUNK, Result};

/// The stream under the reader: as given, or decompressed.
pub(super) enum Input<R> {
    Plain(R),
    /// A gzip stream: the bytes already read to see the magic number, then the rest.
    Gzip(Box<MultiGzDecoder<io::Chain<io::Cursor<Vec<u8>>, R>>>),
    /// Only while switching from one to the other.
    Switching,
}

impl<R> fmt::Debug for Input<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Plain(_) => "Plain",
            Self::Gzip(_) => "Gzip",
            Self::Switching => "Switching",
        })
    }
}

impl<R: Read> Input<R> {
    pub(super) fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Self::Plain(input) => input.read(buf),
            Self::Gzip(input) => input.read(buf),
            Self::Switching => Ok(0),
        }
    }
}

impl<R: Read> CaptureReader<R> {
    /// Reads the rest of the stream through a gzip decoder, starting with what is buffered.
    pub(super) fn decompress(&mut self) {
        let head = self.unread().to_vec();
        if let Input::Plain(input) = core::mem::replace(&mut self.input, Input::Switching) {
            self.input = Input::Gzip(Box::new(MultiGzDecoder::new(
                io::Cursor::new(head).chain(input),
            )));
        }
        self.start = 0;
        self.end = 0;
        self.eof = false;
    }
    pub(super) fn unread(&self) -> &[u8] {
        self.buf.get(self.start..self.end).unwrap_or_default()
    }

    /// Makes at least `want` unread bytes available if the stream has them; returns how many are.
    pub(super) fn fill(&mut self, want: usize, frame: Option<u64>) -> Result<usize> {
        while self.end - self.start < want && !self.eof {
            if self.start > 0 && self.buf.len() - self.start < want.max(READ_CHUNK) {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            }
            // Grow with the data that arrives, not with the length a record claims: a damaged
            // length field must not make a small file allocate `MAX_RECORD_LEN`.
            let needed = (self.start + want.max(READ_CHUNK))
                .min(self.end + (self.end - self.start).max(READ_CHUNK));
            if self.buf.len() < needed {
                self.buf.resize(needed, 0);
            }
            let Some(space) = self.buf.get_mut(self.end..) else {
                break;
            };
            match self.input.read(space) {
                Ok(0) => self.eof = true,
                Ok(n) => self.end += n,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                // The compressed stream was cut: what was decompressed is all there is.
                Err(err)
                    if err.kind() == io::ErrorKind::UnexpectedEof
                        && matches!(self.input, Input::Gzip(_)) =>
                {
                    self.eof = true;
                    self.gzip_cut = true;
                }
                Err(source) => {
                    let offset = self.offset + (self.end - self.start) as u64;
                    return Err(CaptureError::Io {
                        at: Position { frame, offset },
                        source,
                    });
                }
            }
        }
        Ok(self.end - self.start)
    }

    /// Makes exactly `len` bytes of the current record available, or reports the cut.
    pub(super) fn require(
        &mut self,
        len: usize,
        what: &'static str,
        frame: Option<u64>,
    ) -> Result<()> {
        let available = self.fill(len, frame)?;
        if available < len {
            return Err(CaptureError::Truncated {
                at: Position {
                    frame,
                    offset: self.offset,
                },
                what,
                needed: len as u64,
                available: available as u64,
            });
        }
        Ok(())
    }

    /// Makes the next record's `len`-byte header available: `false` at the end of the stream
    /// (nothing left to read), the cut reported when only part of it is there.
    pub(super) fn next_header(
        &mut self,
        len: usize,
        what: &'static str,
        frame: Option<u64>,
    ) -> Result<bool> {
        if self.fill(len, frame)? == 0 {
            return Ok(false);
        }
        self.require(len, what, frame)?;
        Ok(true)
    }

    pub(super) fn consume(&mut self, len: usize) {
        self.start += len;
        self.offset += len as u64;
    }
}
