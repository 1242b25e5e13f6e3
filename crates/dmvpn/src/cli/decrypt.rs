//! `dmvpn decrypt`: a pcapng copy of the capture with ESP replaced by its plaintext.

use std::io::{self, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use dmvpn::decode::Decoder;
use dmvpn::decrypt::OutputFile;

use super::args::Selection;
use super::exit::Failure;
use super::input::{Input, load_keys};

pub(crate) fn decrypt(
    input: &Input,
    key_files: &[PathBuf],
    output: &Path,
    live: bool,
    select: &Selection,
) -> Result<(), Failure> {
    let (keys, ike_keys) = load_keys(key_files).map_err(Failure::Other)?;
    // The packet comments name the key line each ESP packet matched (a clone shares the table).
    let key_table = keys.clone();
    let select = dmvpn::decrypt::Select {
        filter: select.filter.as_ref(),
        last_frame: select.last_frame,
        keys: Some(&key_table),
    };
    let mut decoder = Decoder::with_ike_keys(keys, ike_keys);
    let write_failure = |error: dmvpn::decrypt::DecryptFileError, file: Option<&OutputFile>| match (
        error.into_io_error(),
        file,
    ) {
        (Ok(error), Some(file)) => Failure::other(file.write_error(error)),
        (Ok(error), None) => Failure::stdout(error),
        (Err(error), _) => Failure::other(error),
    };
    let (stats, written_to) = if output.as_os_str() == "-" {
        let mut reader = input.open()?;
        let mut out = io::BufWriter::with_capacity(1 << 16, io::stdout().lock());
        let stats =
            dmvpn::decrypt::decrypt_selected(&mut reader, &mut decoder, &mut out, live, &select)
                .map_err(|error| write_failure(error, None))?;
        out.flush().map_err(Failure::stdout)?;
        (stats, (reader, "standard output".to_owned()))
    } else {
        // The output is checked (and its temporary file made) before anything is read; no file
        // of a set may be written over either.
        if let (Some((paths, _)), Ok(out)) = (&input.set, std::fs::metadata(output)) {
            let same = |path: &PathBuf| {
                std::fs::metadata(path).is_ok_and(|m| (m.dev(), m.ino()) == (out.dev(), out.ino()))
            };
            if let Some(path) = paths.iter().find(|path| same(path)) {
                return Err(Failure::other(format!(
                    "{}: refusing to write over the input capture {}",
                    output.display(),
                    path.display()
                )));
            }
        }
        let mut file =
            OutputFile::create(output, input.metadata().as_ref()).map_err(Failure::other)?;
        let mut reader = input.open()?;
        let decrypted =
            dmvpn::decrypt::decrypt_selected(&mut reader, &mut decoder, &mut file, false, &select);
        let stats = match decrypted {
            Ok(stats) => stats,
            Err(error) => return Err(write_failure(error, Some(&file))),
        };
        file.commit().map_err(Failure::other)?;
        (stats, (reader, output.display().to_string()))
    };
    let (mut reader, name) = written_to;
    let filtered = if select.filter.is_some() {
        format!(" ({} left out by the display filter)", stats.filtered_out)
    } else {
        String::new()
    };
    eprintln!(
        "dmvpn: {} frames written to {name}{filtered}, {} decrypted ({} reassembled from fragments), {} unchanged",
        stats.frames, stats.replaced, stats.reassembled, stats.kept
    );
    if let Some(warning) = stats.warning() {
        eprintln!("dmvpn: warning: {warning}");
    }
    input.finish(&mut reader)
}
