//! Entry points for the fuzz target `router_config` and the in-crate bolero test, with the
//! `fuzzing` feature (hidden from the docs, not API); they use only the public API.

use crate::config::cloud::{self, Member};
use crate::config::{Config, Options, Summary};

/// Parses arbitrary bytes (as lossy UTF-8) strictly and leniently, and checks what comes out:
/// every diagnostic points at a real line and column and carries that line's text; a
/// configuration that loads is written back and read again to the same value, and checked as a
/// cloud with itself and with its written form (every finding's place is a real line).
///
/// # Panics
///
/// When one of those properties does not hold (that is the bug the fuzzer reports).
pub fn parse(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let lines: Vec<&str> = text.lines().collect();
    for lenient in [false, true] {
        let check_place = |d: &crate::config::Diagnostic| {
            if d.line == 0 {
                return;
            }
            let line = lines.get(d.line - 1).copied();
            assert_eq!(
                Some(d.text.as_str()),
                line,
                "diagnostic text of line {}",
                d.line
            );
            assert!(
                (1..=d.text.chars().count() + 1).contains(&d.column),
                "column {} outside line {}",
                d.column,
                d.line
            );
            let _ = d.to_string();
        };
        match Config::parse(&text, Options { lenient }) {
            Ok(parsed) => {
                parsed.warnings.iter().for_each(check_place);
                let _ = Summary(&parsed.config).to_string();
                if let Ok(member) = Member::parse("fuzz", &text, Options { lenient }) {
                    let written = Member::from_config("written", member.config.clone());
                    for finding in cloud::check(&[member, written]) {
                        for place in &finding.places {
                            assert!(
                                place.line == 0 || place.line <= lines.len(),
                                "finding {} at line {} of {}",
                                finding.id,
                                place.line,
                                lines.len()
                            );
                        }
                        let _ = finding.to_string();
                    }
                }
                let written = parsed.config.to_string();
                let again = Config::parse(&written, Options::default());
                match again {
                    Ok(again) => {
                        assert_eq!(again.config, parsed.config, "round trip of\n{written}")
                    }
                    Err(errors) => {
                        panic!("written configuration does not load:\n{written}\n{errors}")
                    }
                }
            }
            Err(errors) => {
                assert!(!errors.0.is_empty());
                errors.0.iter().for_each(check_place);
                let _ = errors.to_string();
            }
        }
    }
}
