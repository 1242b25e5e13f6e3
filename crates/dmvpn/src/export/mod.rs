//! `dmvpn export`: captures to a Parquet dataset that DuckDB, Spark, Trino or DataFusion query
//! as they are.
//!
//! One table per record kind, each its own dataset folder, Hive-partitioned by UTC day and hub:
//!
//! ```text
//! OUT/frames/date=2024-01-14/hub=198.51.100.1/3f0c…e1.parquet
//! OUT/nhrp_events/…  OUT/ike_sas/…  OUT/esp_flows/…  OUT/eigrp_adjacencies/…  OUT/findings/…
//! ```
//!
//! The schema (version [`SCHEMA_VERSION`]) is documented in `crates/dmvpn/schemas/parquet.md`.
//! Rows come from the decoder and the session report the other commands use: `frames` from a
//! decoder [`Sink`](crate::decode::Sink) (one row per frame), the session tables from the
//! [`Report`] of the same frames. The captures given are read as one
//! [`CaptureSet`] (merged by timestamp), twice: first for the report (which also tells the hubs,
//! so each frame knows its hub partition and role), then for the frames.
//!
//! Every file an export writes is named after the SHA-256 of its inputs' contents (each file's
//! digest, sorted, so their order does not matter): exporting the same captures again gives the
//! same names, and each file is written under a temporary name and renamed over the old one, so
//! a re-export replaces its earlier output atomically, file by file, and never duplicates rows.
//! Exports of different captures never touch each other's files: run them in parallel, on one
//! machine or many (`xargs -P`, a batch job per file), into one dataset.
//!
//! Memory is bounded: the capture set holds one pending frame per open file, and each
//! partition's rows are written out as a row group every 65 536 rows (and every partition's once
//! 262 144 rows are buffered in all); the session report has its own caps
//! ([`crate::session`]).

mod rows;
mod table;

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::capture::set::{CaptureSet, SetError, SetStatus};
use crate::decode::Decoder;
use crate::session::{Report, SessionBuilder};

use rows::{FRAMES, FrameRow};
use table::Dataset;

/// The version of the tables' schema; `crates/dmvpn/schemas/parquet.md` says what changed.
pub const SCHEMA_VERSION: u32 = 1;

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    /// A file or folder of the dataset cannot be written.
    #[error("{}: cannot write: {source}", path.display())]
    Write {
        /// The path.
        path: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// The Parquet writer failed.
    #[error("parquet: {0}")]
    Parquet(String),
    /// Writing a Parquet file failed (a full disk, …).
    #[error("{}: cannot write: {message}", path.display())]
    ParquetFile {
        /// The file (under its temporary name while it is written).
        path: PathBuf,
        /// The Parquet writer's reason.
        message: String,
    },
    /// No file of the set could be read.
    #[error("no capture could be read")]
    NothingRead {
        /// Why each file could not be read.
        errors: Vec<SetError>,
    },
}

impl ExportError {
    fn parquet(error: impl std::fmt::Display) -> Self {
        Self::Parquet(error.to_string())
    }
}

/// What an export wrote.
#[derive(Debug, Default)]
pub struct ExportStats {
    /// The export's ID: the hash of its inputs, every file's name.
    pub export_id: String,
    /// Frames read.
    pub frames: u64,
    /// Rows written per table.
    pub rows: Vec<(&'static str, u64)>,
    /// The files written.
    pub files: Vec<PathBuf>,
    /// Files of the set that could not be read to their end (their whole frames are exported).
    pub errors: Vec<SetError>,
}

/// Exports the captures `paths` (one set, merged by timestamp) into the dataset under `dir`;
/// `decoder` makes a decoder with the keys (it is called once per pass).
///
/// # Errors
///
/// A file that cannot be written, or no capture that can be read (files cut short or damaged are
/// exported up to their fault and listed in [`ExportStats::errors`]).
pub fn export(
    paths: &[PathBuf],
    decoder: impl FnMut() -> Decoder,
    dir: &Path,
) -> Result<ExportStats, ExportError> {
    export_watched(paths, decoder, dir, |_, _| {})
}

/// [`export`], handing `watch` the status of each pass's capture set as the pass starts (pass 1
/// builds the session report, pass 2 writes the rows), so that another thread can draw a
/// progress line from it.
///
/// # Errors
///
/// As [`export`].
pub fn export_watched(
    paths: &[PathBuf],
    mut decoder: impl FnMut() -> Decoder,
    dir: &Path,
    mut watch: impl FnMut(u8, Arc<SetStatus>),
) -> Result<ExportStats, ExportError> {
    // Pass 1: the session report (and each file's digest).
    let mut set = CaptureSet::with_options(paths.to_vec(), true);
    watch(1, set.status());
    let mut builder = SessionBuilder::new();
    let mut first_pass = decoder();
    while let Some(frame) = set.next_frame() {
        first_pass.decode(&frame, &mut builder);
    }
    let report = builder.finish();
    let errors = set.take_errors();
    let mut digests: Vec<[u8; 32]> = (0..paths.len()).filter_map(|i| set.digest(i)).collect();
    if digests.is_empty() || report.frames == 0 && errors.len() == paths.len() {
        return Err(ExportError::NothingRead { errors });
    }
    digests.sort_unstable();
    let export_id = export_id(&digests);
    let mut dataset = Dataset::new(dir, export_id.clone());
    let hubs = rows::hubs(&report);

    // Pass 2: one row per frame.
    let names: Vec<String> = paths
        .iter()
        .map(|path| {
            path.file_name().map_or_else(
                || path.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            )
        })
        .collect();
    let mut set = CaptureSet::open(paths.to_vec());
    watch(2, set.status());
    let mut second_pass = decoder();
    let mut row = FrameRow::default();
    let mut frames = 0;
    // Partitions by day and hub, made once each (frames of several hubs interleave).
    let mut partitions: HashMap<(i64, Option<IpAddr>), table::Partition> = HashMap::new();
    while let Some(frame) = set.next_frame() {
        second_pass.decode(&frame, &mut row);
        frames += 1;
        let (member, number) = set.source().unwrap_or_default();
        let time = row.time();
        let hub = row.hub(&hubs);
        let partition = partitions
            .entry((time.secs.div_euclid(86_400), hub))
            .or_insert_with(|| (rows::day(time), rows::hub_value(hub)));
        let source = (names.get(member).map_or("", String::as_str), number);
        dataset.push(&FRAMES, partition, |rows| {
            row.write(rows, &export_id, source, &hubs);
        })?;
    }
    drop(set);
    write_sessions(&mut dataset, &report, &export_id)?;
    let mut rows: Vec<_> = dataset.rows.iter().map(|(k, v)| (*k, *v)).collect();
    rows.sort_unstable();
    let files = dataset.finish()?;
    Ok(ExportStats {
        export_id,
        frames,
        rows,
        files,
        errors,
    })
}

/// The session tables' rows.
fn write_sessions(
    dataset: &mut Dataset,
    report: &Report,
    export_id: &str,
) -> Result<(), ExportError> {
    rows::session_rows(report, &mut |table, time, pair, fill| {
        let partition = (rows::day(time), rows::hub_value(pair.hub));
        dataset.push(table, &partition, |rows| {
            pair.write(rows, export_id);
            fill(rows);
        })
    })
}

/// The export's ID from its inputs' digests (sorted): 32 hex digits of their SHA-256.
fn export_id(digests: &[[u8; 32]]) -> String {
    use sha2::Digest;
    let mut hasher = sha2::Sha256::new();
    hasher.update(b"dmvpn-export");
    for digest in digests {
        hasher.update(digest);
    }
    hasher
        .finalize()
        .iter()
        .take(16)
        .map(|byte| format!("{byte:02x}"))
        .collect()
}
