//! What `encapsulations.rs` and `link_types.rs` share: the generated captures of
//! `testdata/capture/encap/` and `dmvpn decode` run on them.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// A capture `tools/gen/capture_gen_encaps.py` wrote.
pub(crate) fn capture(name: &str) -> PathBuf {
    dmvpn_testkit::testdata("capture/encap").join(name)
}

/// `dmvpn decode PATH --format FORMAT`, which must succeed.
pub(crate) fn decode(path: &Path, format: &str) -> String {
    dmvpn_testkit::stdout_of(
        Command::new(env!("CARGO_BIN_EXE_dmvpn"))
            .arg("decode")
            .arg(path)
            .args(["--format", format]),
    )
}

/// The layers of every frame, as JSON values.
pub(crate) fn layers(path: &Path) -> Vec<Vec<Value>> {
    decode(path, "json")
        .lines()
        .map(|line| {
            let frame: Value = serde_json::from_str(line).unwrap();
            frame["layers"].as_array().unwrap().clone()
        })
        .collect()
}

/// The text line of every frame.
pub(crate) fn lines(path: &Path) -> Vec<String> {
    decode(path, "text").lines().map(str::to_owned).collect()
}
