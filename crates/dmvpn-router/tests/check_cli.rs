//! `dmvpn-router check` as an engineer runs it: the tutorial's configurations alone and as a
//! cloud (exit 0), each one-fault variant of `testdata/router/tutorial/broken` with exactly its
//! finding and the exit code its severity sets, what IOS refuses (exit 1, with a suggestion),
//! the skipped commands counted or listed, and no secret in any output.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

#[path = "util/variants.rs"]
mod variants;

fn tutorial(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/router/tutorial")
        .join(name)
}

fn check(args: &[&Path], lenient: bool) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_dmvpn-router"));
    command.arg("check").args(args);
    if lenient {
        command.arg("--lenient");
    }
    command.output().expect("dmvpn-router runs")
}

fn text(output: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn tutorial_passes_alone_and_as_a_cloud() {
    let files: Vec<PathBuf> = ["R1.cfg", "R2.cfg", "R3.cfg"].map(tutorial).into();
    for file in &files {
        let output = check(&[file], false);
        let (out, err) = text(&output);
        assert!(output.status.success(), "{}: {out}{err}", file.display());
        assert!(out.ends_with(": ok\n"), "{out}");
    }
    let paths: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let output = check(&paths, false);
    let (out, err) = text(&output);
    assert!(output.status.success(), "{out}{err}");
    assert!(out.contains("R1.cfg: hub R1\n"), "{out}");
    assert!(out.contains("R2.cfg: spoke R2\n"), "{out}");
    assert!(out.ends_with("cloud of 3 routers: ok\n"), "{out}");
    // R1 and R2 carry lines the router skips: counted, listed with --lenient.
    assert!(err.contains("R1.cfg: 28 command(s) IOS takes"), "{err}");
    let (_, listed) = text(&check(&[&files[0]], true));
    assert_eq!(listed.matches("skipped").count(), 28, "{listed}");
    assert!(listed.contains("`line` skipped: IOS takes it"), "{listed}");
}

#[test]
fn each_broken_variant_exits_with_its_finding() {
    let expected = std::fs::read_to_string(tutorial("broken/expected.txt")).unwrap();
    for variants::Variant {
        file: variant,
        id,
        severity,
        replaces: replaced,
    } in variants::parse(&expected)
    {
        let files: Vec<PathBuf> = ["R1.cfg", "R2.cfg", "R3.cfg"]
            .into_iter()
            .map(|r| {
                if r == replaced {
                    tutorial(&format!("broken/{variant}"))
                } else {
                    tutorial(r)
                }
            })
            .collect();
        let paths: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
        let output = check(&paths, false);
        let (out, err) = text(&output);
        assert_eq!(
            output.status.success(),
            severity == "warning",
            "{variant}: {out}{err}"
        );
        let findings: Vec<&str> = out
            .lines()
            .filter(|l| l.starts_with("error[") || l.starts_with("warning["))
            .collect();
        assert_eq!(findings.len(), 1, "{variant}: {out}");
        assert!(
            findings[0].starts_with(&format!("{severity}[{id}]: ")),
            "{variant}: {}",
            findings[0]
        );
        assert!(
            out.contains(&format!("broken/{variant}:")),
            "{variant}: {out}"
        );
        for secret in ["cisco123", "cisco321", " pass\n", "wrong\n"] {
            assert!(
                !out.contains(secret) && !err.contains(secret),
                "{variant}: {secret:?} shown"
            );
        }
    }
}

#[test]
fn what_ios_refuses_fails_with_a_suggestion() {
    let dir = std::env::temp_dir().join(format!("dmvpn-check-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let r1 = std::fs::read_to_string(tutorial("R1.cfg")).unwrap();
    for (from, to, message) in [
        (
            " authentication pre-share",
            " authentication pre-shared",
            "invalid input `pre-shared`: expected an authentication method (did you mean `pre-share`?)",
        ),
        (" encr 3des", " encr 3dess", "(did you mean `3des`?)"),
        (
            " tunnel mode gre multipoint",
            " tunnel mode gre multipont",
            "(did you mean `multipoint`?)",
        ),
        (
            " duplex auto",
            " d auto",
            "ambiguous command: `d` abbreviates `default`, `delay`",
        ),
    ] {
        let path = dir.join("bad.cfg");
        std::fs::write(&path, r1.replacen(from, to, 1)).unwrap();
        for lenient in [false, true] {
            let output = check(&[&path], lenient);
            let (out, err) = text(&output);
            assert!(!output.status.success(), "{to}: {out}{err}");
            assert!(err.contains(message), "{to}: {err}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The IKEv2 hub and spokes (`testdata/router/ikev2/`): each checks with its IKEv2 summary,
/// the three as a cloud are clean, and a spoke with another keyring key is the cloud's
/// `ike-psk-mismatch` (exit 1), no key in any output.
#[test]
fn ikev2_configurations() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/router/ikev2");
    let files: Vec<PathBuf> = ["hub.cfg", "spoke1.cfg", "spoke2.cfg"]
        .iter()
        .map(|f| dir.join(f))
        .collect();
    let output = check(&[&files[1]], false);
    let (out, err) = text(&output);
    assert!(output.status.success(), "{out}{err}");
    assert!(
        out.contains("  keyed by ikev2 profile DMVPN-IKEV2: identity address 192.0.2.11"),
        "{out}"
    );
    assert!(
        out.contains("  ikev2 proposal DMVPN-PROP: aes-cbc-256 sha256, prf sha256, group 14\n"),
        "{out}"
    );
    let paths: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let output = check(&paths, false);
    let (out, err) = text(&output);
    assert!(output.status.success(), "{out}{err}");
    assert!(out.ends_with("cloud of 3 routers: ok\n"), "{out}");
    let wrong = std::env::temp_dir().join(format!("ikev2-wrong-{}.cfg", std::process::id()));
    let text_of = std::fs::read_to_string(&files[1]).unwrap().replace(
        "pre-shared-key lab-psk-secret",
        "pre-shared-key not-the-hubs",
    );
    std::fs::write(&wrong, text_of).unwrap();
    let output = check(&[&files[0], &wrong], false);
    let _ = std::fs::remove_file(&wrong);
    let (out, err) = text(&output);
    assert_eq!(output.status.code(), Some(1), "{out}{err}");
    assert!(out.contains("error[ike-psk-mismatch]"), "{out}");
    for secret in ["not-the-hubs", "lab-psk-secret"] {
        assert!(!out.contains(secret) && !err.contains(secret), "{out}{err}");
    }
}
