//! What a terminal user expects of `dmvpn`: shell completions, man pages, colour that honours
//! `NO_COLOR` and `--color`, `--help` with examples and exit codes, a progress line only on a
//! terminal, and errors with a hint.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed unwrap is a failed test

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn data(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/dmvpn")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

fn dmvpn(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dmvpn"))
        .args(args)
        .env_remove("NO_COLOR")
        .env_remove("DMVPN_PROGRESS_MIN_BYTES")
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    assert_success(output);
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn assert_success(output: &Output) {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

const COMMANDS: [&str; 6] = [
    "decode",
    "decrypt",
    "sessions",
    "replay",
    "completions",
    "man",
];

fn tempdir(name: &str) -> PathBuf {
    dmvpn_testkit::temp_dir(&format!("dmvpn-cli-terminal-{name}"))
}

#[test]
fn completions_name_every_command_and_option() {
    let bash = stdout(&dmvpn(&["completions", "bash"]));
    for command in COMMANDS {
        assert!(bash.contains(command), "bash completion lacks {command}");
    }
    for option in [
        "--display-filter",
        "--keys",
        "--frames",
        "--count",
        "--color",
        "--format",
    ] {
        assert!(bash.contains(option), "bash completion lacks {option}");
    }
    // The script is valid bash: sourcing it defines the completion function.
    let dir = tempdir("bash");
    let script = dir.join("dmvpn.bash");
    std::fs::write(&script, &bash).unwrap();
    let check = dmvpn_testkit::stdout_of(
        Command::new("bash")
            .arg("-c")
            .arg(format!("source {} && complete -p dmvpn", script.display())),
    );
    assert!(check.contains("dmvpn"));
    std::fs::remove_dir_all(&dir).ok();
    for shell in ["zsh", "fish", "elvish", "powershell"] {
        let script = stdout(&dmvpn(&["completions", shell]));
        assert!(
            script.contains("decode") && script.contains("sessions"),
            "{shell}"
        );
    }
    assert_eq!(dmvpn(&["completions", "tcsh"]).status.code(), Some(1));
}

#[test]
fn man_pages_are_written_and_parse() {
    let dir = tempdir("man");
    assert_success(&dmvpn(&["man", "--dir", &dir.to_string_lossy()]));
    let mut pages = vec!["dmvpn.1".to_owned()];
    pages.extend(COMMANDS.iter().map(|c| format!("dmvpn-{c}.1")));
    for page in &pages {
        let path = dir.join(page);
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{page}: {e}"));
        assert!(text.starts_with(".ie") || text.contains(".TH"), "{page}");
        // groff parses it without a warning (-ww: every warning; -k: UTF-8 input, as `man` reads it).
        if let Ok(groff) = Command::new("groff")
            .args(["-k", "-man", "-Tutf8", "-ww", "-z"])
            .arg(&path)
            .output()
        {
            assert!(groff.status.success(), "{page}");
            let warnings = String::from_utf8_lossy(&groff.stderr);
            assert!(warnings.trim().is_empty(), "{page}: {warnings}");
        }
    }
    let main = std::fs::read_to_string(dir.join("dmvpn.1")).unwrap();
    assert!(
        main.contains("Exit status") && main.contains("141"),
        "exit codes in dmvpn.1"
    );
    let decode = std::fs::read_to_string(dir.join("dmvpn-decode.1")).unwrap();
    assert!(decode.contains("display\\-filter"), "{decode}");
    // Without --dir the main page goes to standard output.
    assert!(stdout(&dmvpn(&["man"])).contains(".TH dmvpn"));
    std::fs::remove_dir_all(&dir).ok();
}

/// Runs `args` with stdout and stderr on a pseudo-terminal (`script`), returning what it printed.
fn on_terminal(args: &[&str], env: &[(&str, &str)]) -> Option<String> {
    let command = std::iter::once(env!("CARGO_BIN_EXE_dmvpn"))
        .chain(args.iter().copied())
        .map(|arg| format!("'{arg}'"))
        .collect::<Vec<_>>()
        .join(" ");
    let mut script = Command::new("script");
    script
        .args(["-qec", &command, "/dev/null"])
        .env_remove("NO_COLOR")
        .env_remove("DMVPN_PROGRESS_MIN_BYTES");
    for (key, value) in env {
        script.env(key, value);
    }
    let output = script.output().ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).into_owned())
}

#[test]
fn colour_only_on_a_terminal_without_no_color() {
    let capture = data("phase1.pcap");
    let args = ["decode", capture.as_str(), "-c", "3"];
    // Not a terminal: no colour, unless asked.
    assert!(!stdout(&dmvpn(&args)).contains('\x1b'));
    let mut always = args.to_vec();
    always.extend(["--color", "always"]);
    assert!(stdout(&dmvpn(&always)).contains("\x1b[36mISAKMP"));
    let Some(plain_terminal) = on_terminal(&args, &[]) else {
        eprintln!("skipping the terminal half: `script` is not installed");
        return;
    };
    assert!(
        plain_terminal.contains("\x1b[36mISAKMP"),
        "{plain_terminal:?}"
    );
    let no_color = on_terminal(&args, &[("NO_COLOR", "1")]).unwrap();
    assert!(!no_color.contains('\x1b'), "{no_color:?}");
    // An empty NO_COLOR does not count (no-color.org).
    let empty = on_terminal(&args, &[("NO_COLOR", "")]).unwrap();
    assert!(empty.contains('\x1b'));
    let mut never = args.to_vec();
    never.extend(["--color", "never"]);
    assert!(!on_terminal(&never, &[]).unwrap().contains('\x1b'));
    // The same text, colour aside.
    let stripped = plain_terminal
        .replace("\x1b[36m", "")
        .replace("\x1b[0m", "")
        .replace('\r', "");
    assert_eq!(stripped, stdout(&dmvpn(&args)));
}

#[test]
fn progress_only_when_standard_error_is_a_terminal() {
    let capture = data("phase1.pcap");
    let args = ["decode", capture.as_str(), "--format", "summary"];
    let small = [("DMVPN_PROGRESS_MIN_BYTES", "1")];
    let mut command = Command::new(env!("CARGO_BIN_EXE_dmvpn"));
    let piped = command.args(args).envs(small).output().unwrap();
    assert!(piped.status.success());
    assert!(
        piped.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&piped.stderr)
    );
    let Some(terminal) = on_terminal(&args, &small) else {
        return;
    };
    let line = terminal
        .split('\r')
        .find(|part| part.contains("100%"))
        .unwrap_or_else(|| panic!("{terminal:?}"));
    assert!(
        line.contains("42 frames") && line.contains("MiB/s") && line.contains("ETA"),
        "{line}"
    );
    // The default size (64 MiB) leaves a small capture without one, even on a terminal.
    assert!(!on_terminal(&args, &[]).unwrap().contains("ETA"));
}

#[test]
fn help_has_examples_and_exit_codes() {
    let help = stdout(&dmvpn(&["--help"]));
    for words in [
        "Examples:",
        "-Y 'ip.addr == 192.0.2.11",
        "Exit status:",
        "141",
        "completions",
        "man",
    ] {
        assert!(help.contains(words), "--help lacks {words}");
    }
    let decode = stdout(&dmvpn(&["decode", "--help"]));
    for words in ["--display-filter", "-c, --count", "--frames", "tshark"] {
        assert!(decode.contains(words), "decode --help lacks {words}");
    }
}

#[test]
fn errors_come_with_a_hint() {
    let missing = dmvpn(&["decode", "/nonexistent/capture.pcap"]);
    assert_eq!(missing.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(
        stderr.contains("hint:") && stderr.contains("standard input"),
        "{stderr}"
    );

    let not_capture = dmvpn(&["decode", &data("phase1.esp_sa")]);
    assert_eq!(not_capture.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&not_capture.stderr);
    assert!(
        stderr.contains("hint:") && stderr.contains("pcapng"),
        "{stderr}"
    );

    let not_keys = dmvpn(&[
        "decode",
        &data("phase1.pcap"),
        "--keys",
        &data("phase1.pcap"),
    ]);
    assert_eq!(not_keys.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&not_keys.stderr);
    assert!(
        stderr.contains("hint:") && stderr.contains("esp_sa"),
        "{stderr}"
    );
    // No key material in any of it.
    assert!(!stderr.to_lowercase().contains("0x0123"), "{stderr}");
}
