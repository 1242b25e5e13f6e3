//! `dmvpn decode`: every frame as text, JSON Lines or a summary, on one thread or several.

use std::io::{self, IsTerminal, Read, Write};
use std::path::PathBuf;

use dmvpn::capture::CaptureReader;
use dmvpn::decode::{Decoder, Sink, Summary};
use dmvpn::filter::{Filter, Filtered, Retract};
use dmvpn::output::{JsonLines, Pending, TextLines};

use super::args::{Format, Selection};
use super::exit::Failure;
use super::input::{Input, Output, Reader, load_keys};
use super::progress::Progress;

pub(crate) fn decode(
    input: &Input,
    key_files: &[PathBuf],
    format: Format,
    threads: u16,
    Output { live, colour }: Output,
    select: &Selection,
) -> Result<(), Failure> {
    let mut reader = input.open()?;
    // On a terminal the frames' lines show the progress; a summary prints only at the end.
    let mut progress = Progress::new(
        input,
        format == Format::Summary || !io::stdout().is_terminal(),
    );
    if threads > 1 {
        decode_parallel(
            input,
            &mut reader,
            key_files,
            format,
            threads,
            Output { live, colour },
            &mut progress,
            select,
        )?;
        progress.done();
        return input.finish(&mut reader);
    }
    let (keys, ike_keys) = load_keys(key_files).map_err(Failure::Other)?;
    let mut decoder = Decoder::with_ike_keys(keys, ike_keys);
    let stdout = io::stdout().lock();
    let mut pass = Pass {
        reader: &mut reader,
        decoder: &mut decoder,
        progress: &mut progress,
        select,
    };
    match format {
        Format::Text => {
            let mut sink = TextLines::new(stdout);
            sink.flush_each_frame(live);
            sink.colour(colour);
            let sink = pass.select(sink, TextLines::write_failed);
            sink.finish().map(drop).map_err(Failure::stdout)?;
        }
        Format::Json => {
            let mut sink = JsonLines::new(stdout);
            sink.flush_each_frame(live);
            let sink = pass.select(sink, JsonLines::write_failed);
            sink.finish().map(drop).map_err(Failure::stdout)?;
        }
        Format::Summary => {
            let summary = pass.select(Summary::default(), |_| false);
            pass.progress.done();
            let mut stdout = stdout;
            write!(stdout, "{summary}")
                .and_then(|()| stdout.flush())
                .map_err(Failure::stdout)?;
        }
    }
    progress.done();
    input.finish(&mut reader)
}

/// `decode --threads N`: one decoder (with its own copy of the keys) and one in-memory writer per
/// thread. The capture is read once, as a stream.
#[expect(
    clippy::too_many_arguments,
    reason = "decode's own arguments, passed on; a struct would only rename them"
)]
fn decode_parallel(
    input: &Input,
    reader: &mut Reader,
    key_files: &[PathBuf],
    format: Format,
    threads: u16,
    Output { live, colour }: Output,
    progress: &mut Progress,
    select: &Selection,
) -> Result<(), Failure> {
    let decoders = (0..threads)
        .map(|_| load_keys(key_files).map(|(esp, ike)| Decoder::with_ike_keys(esp, ike)))
        .collect::<Result<Vec<_>, _>>()
        .map_err(Failure::Other)?;
    let mut out = io::BufWriter::with_capacity(1 << 16, io::stdout().lock());
    let options = dmvpn::parallel::Options {
        flush_each_batch: live,
        live_input: input.is_live(),
        last_frame: select.last_frame,
    };
    let filter = select.filter.as_ref();
    let tick = |offset| progress.tick(offset);
    let result = match format {
        Format::Text => {
            // Every thread prints times relative to the capture's first frame.
            let start = reader
                .peek_frame()
                .ok()
                .flatten()
                .map(|frame| frame.timestamp)
                .unwrap_or_default();
            let sink = || {
                let mut lines = TextLines::detached(start);
                lines.colour(colour);
                lines
            };
            parallel_select(reader, decoders, sink, &mut out, tick, options, filter).0
        }
        Format::Json => {
            let sink = JsonLines::detached;
            parallel_select(reader, decoders, sink, &mut out, tick, options, filter).0
        }
        Format::Summary => {
            let (result, shards) = parallel_select(
                reader,
                decoders,
                Summary::default,
                &mut out,
                tick,
                options,
                filter,
            );
            let mut total = Summary::default();
            for summary in &shards {
                total.merge(summary);
            }
            progress.done();
            result.and_then(|()| {
                write!(out, "{total}").map_err(dmvpn::parallel::ParallelError::Output)
            })
        }
    };
    match result {
        Ok(()) => out.flush().map_err(Failure::stdout),
        Err(dmvpn::parallel::ParallelError::Output(error)) => Err(Failure::stdout(error)),
        Err(error) => Err(Failure::other(error)),
    }
}

/// [`dmvpn::parallel::decode_with`] into one `sink()` per decoder, through the filter if there
/// is one; returns the sinks.
fn parallel_select<S: Pending + Retract + Send>(
    reader: &mut Reader,
    decoders: Vec<Decoder>,
    sink: impl Fn() -> S,
    out: &mut impl Write,
    tick: impl FnMut(u64),
    options: dmvpn::parallel::Options,
    filter: Option<&Filter>,
) -> (Result<(), dmvpn::parallel::ParallelError>, Vec<S>)
where
    S::Mark: Send,
{
    if let Some(filter) = filter {
        let mut shards: Vec<_> = decoders
            .into_iter()
            .map(|decoder| (decoder, Filtered::new(filter, sink())))
            .collect();
        let result = dmvpn::parallel::decode_with(reader, &mut shards, out, tick, options);
        let sinks = shards.into_iter().map(|(_, sink)| sink.into_inner());
        (result, sinks.collect())
    } else {
        let mut shards: Vec<_> = decoders
            .into_iter()
            .map(|decoder| (decoder, sink()))
            .collect();
        let result = dmvpn::parallel::decode_with(reader, &mut shards, out, tick, options);
        (result, shards.into_iter().map(|(_, sink)| sink).collect())
    }
}

/// A decode on one thread: what it reads, decodes with, reports progress to and selects.
struct Pass<'a, R: Read> {
    reader: &'a mut CaptureReader<R>,
    decoder: &'a mut Decoder,
    progress: &'a mut Progress,
    select: &'a Selection,
}

impl<R: Read> Pass<'_, R> {
    /// [`Pass::run`] through the filter, if there is one; returns the sink.
    fn select<S: Retract>(&mut self, sink: S, failed: impl Fn(&S) -> bool) -> S {
        let select = self.select;
        match &select.filter {
            Some(filter) => {
                let mut filtered = Filtered::new(filter, sink);
                self.run(&mut filtered, |f| failed(f.inner()));
                filtered.into_inner()
            }
            None => {
                let mut sink = sink;
                self.run(&mut sink, failed);
                sink
            }
        }
    }

    /// Decodes every frame the reader gives up to the selection's last (it ends at the first
    /// read error, kept for [`Input::finish`]); stops at once when `failed` says the output cannot
    /// take more.
    fn run<S: Sink>(&mut self, sink: &mut S, failed: impl Fn(&S) -> bool) {
        let last = self.select.last_frame;
        while let Ok(Some(frame)) = self.reader.next_frame() {
            self.decoder.decode(&frame, sink);
            self.progress.frame(frame.offset);
            if failed(sink) || last.is_some_and(|last| frame.number >= last) {
                break;
            }
        }
    }
}
