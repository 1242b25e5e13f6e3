//! `dmvpn sessions`: the per-peer report, and `--fail-on`.

use std::io::{self, Write};
use std::path::PathBuf;

use dmvpn::decode::Decoder;
use dmvpn::session::{PskTable, SessionBuilder};

use super::args::{FailOn, Selection, SessionsFormat};
use super::exit::Failure;
use super::input::{Input, Reader, load_keys};

pub(crate) fn sessions(
    input: &Input,
    key_files: &[PathBuf],
    psk: &[String],
    format: SessionsFormat,
    fail_on: Option<FailOn>,
    select: &Selection,
) -> Result<(), Failure> {
    let mut psks = PskTable::new();
    let mut other_files = Vec::new();
    for path in key_files {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if PskTable::is_psk_file(&text) {
            let table = PskTable::parse(&text)
                .map_err(|error| Failure::other(format!("{}: {error}", path.display())))?;
            psks.extend(table);
        } else {
            other_files.push(path.clone());
        }
    }
    for secret in psk {
        psks.add(None, secret.as_bytes());
    }
    let (keys, ike_keys) = load_keys(&other_files).map_err(Failure::Other)?;
    let mut decoder = Decoder::with_ike_keys(keys, ike_keys);
    let mut reader = input.open()?;
    let builder = if psks.is_empty() {
        SessionBuilder::new()
    } else {
        SessionBuilder::with_psks(psks)
    };
    let report = if select.filter.is_none() && select.last_frame.is_none() {
        builder
            .read(&mut reader, &mut decoder)
            .map_err(|error| input.failure(error))?
    } else {
        let (keys, ike_keys) = load_keys(&other_files).map_err(Failure::Other)?;
        let judge_decoder = Decoder::with_ike_keys(keys, ike_keys);
        read_selected(builder, &mut reader, &mut decoder, judge_decoder, select)
    };
    let mut out = Vec::new();
    match format {
        SessionsFormat::Text => out.extend_from_slice(report.to_string().as_bytes()),
        SessionsFormat::Json => {
            report.write_json(&mut out);
            out.push(b'\n');
        }
        SessionsFormat::Html => {
            dmvpn::report::html(&report, &input.title(), &mut out).map_err(Failure::other)?;
        }
    }
    let mut stdout = io::stdout().lock();
    stdout
        .write_all(&out)
        .and_then(|()| stdout.flush())
        .map_err(Failure::stdout)?;
    input.finish(&mut reader)?;
    match fail_on {
        Some(at) => {
            let count = report
                .findings
                .iter()
                .filter(|finding| finding.severity >= at.severity())
                .count();
            if count > 0 {
                return Err(Failure::Findings(count, at));
            }
            Ok(())
        }
        None => Ok(()),
    }
}

/// `sessions -Y`: the report is built from the frames the filter keeps, as if the capture held
/// only those. Each frame is judged by a decoder that sees every frame (so replay windows and
/// fragments are right), and a frame kept is decoded again by the builder's own decoder.
fn read_selected(
    mut builder: SessionBuilder,
    reader: &mut Reader,
    decoder: &mut Decoder,
    mut judge_decoder: Decoder,
    select: &Selection,
) -> dmvpn::session::Report {
    let mut judge = select.filter.as_ref().map(dmvpn::filter::Judge::new);
    while let Ok(Some(frame)) = reader.next_frame() {
        let kept = judge.as_mut().is_none_or(|judge| {
            judge_decoder.decode(&frame, judge);
            judge.keeps()
        });
        if kept {
            decoder.decode(&frame, &mut builder);
        }
        if select.last_frame.is_some_and(|last| frame.number >= last) {
            break;
        }
    }
    builder.finish()
}
