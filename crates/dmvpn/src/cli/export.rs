//! `dmvpn export`: captures to a Parquet dataset (feature `parquet`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use dmvpn::decode::Decoder;

use super::exit::Failure;
use super::input::{SetStatusRef, load_keys};
use super::progress::Progress;

/// `dmvpn export`: the captures as one set, into the dataset under `dir`.
#[cfg(feature = "parquet")]
pub(crate) fn export(args: &[PathBuf], key_files: &[PathBuf], dir: &Path) -> Result<(), Failure> {
    let paths = dmvpn::capture::set::expand(args).map_err(Failure::other)?;
    if paths.iter().any(|path| path.as_os_str() == "-") {
        return Err(Failure::other(
            "export reads its captures twice: give files, not `-` (standard input)",
        ));
    }
    drop(load_keys(key_files).map_err(Failure::Other)?);
    let decoder = || {
        let (esp, ike) = load_keys(key_files).unwrap_or_default();
        Decoder::with_ike_keys(esp, ike)
    };
    // Each pass over the set gets its progress line, drawn by a thread that watches the set.
    let watched = std::sync::Arc::new(std::sync::Mutex::new(None::<SetStatusRef>));
    let finished = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let drawer = {
        let (watched, finished) = (watched.clone(), finished.clone());
        std::thread::spawn(move || watch_progress(&watched, &finished))
    };
    let watch = |_pass: u8, status: SetStatusRef| {
        *watched
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(status);
    };
    let exported = dmvpn::export::export_watched(&paths, decoder, dir, watch);
    finished.store(true, std::sync::atomic::Ordering::Relaxed);
    let _ = drawer.join();
    let stats = exported.map_err(|error| match error {
        dmvpn::export::ExportError::NothingRead { errors } if !errors.is_empty() => {
            Failure::Set(errors)
        }
        other => Failure::other(other),
    })?;
    let rows = stats
        .rows
        .iter()
        .map(|(table, rows)| format!("{table} {rows}"))
        .collect::<Vec<_>>()
        .join(", ");
    eprintln!(
        "dmvpn: exported {} frames of {} file(s) to {} as {}.parquet ({} files; rows: {rows})",
        stats.frames,
        paths.len(),
        dir.display(),
        stats.export_id,
        stats.files.len(),
    );
    if stats.errors.is_empty() {
        Ok(())
    } else {
        Err(Failure::Set(stats.errors))
    }
}

/// Draws a [`Progress`] line for each set `watched` holds in turn (each of export's passes), until
/// `finished`.
#[cfg(feature = "parquet")]
fn watch_progress(
    watched: &std::sync::Mutex<Option<SetStatusRef>>,
    finished: &std::sync::atomic::AtomicBool,
) {
    let mut current: Option<(SetStatusRef, Progress)> = None;
    loop {
        let done = finished.load(std::sync::atomic::Ordering::Relaxed);
        let status = watched
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        if let Some(status) = status
            && !current
                .as_ref()
                .is_some_and(|(shown, _)| std::sync::Arc::ptr_eq(shown, &status))
        {
            if let Some((_, mut progress)) = current.take() {
                progress.done();
            }
            let total = status.total_bytes();
            let progress = Progress::with_total(total, Some(status.clone()), true);
            current = Some((status, progress));
        }
        if let Some((_, progress)) = &mut current {
            progress.tick(0);
            if done {
                progress.done();
            }
        }
        if done {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
