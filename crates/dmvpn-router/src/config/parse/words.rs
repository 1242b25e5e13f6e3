//! The tokenizer: the words of one line with their columns, and the typed readers of
//! numbers, addresses and keywords the modes share.

use std::net::Ipv4Addr;

use super::{Fail, GLOBAL, KEYRING_PEER, Mode, Result, belongs};
use crate::config::ErrorKind;
use crate::config::grammar::{self, Match};

/// The words of one line, each with its column (in characters, from 1).
pub(super) struct Words<'a> {
    pub(super) words: Vec<(usize, &'a str)>,
    pub(super) next: usize,
    /// The whole line without its indentation, for [`ErrorKind::Unsupported`].
    pub(super) command: &'a str,
    /// The column just past the last character, for errors at the end of the line.
    pub(super) end: usize,
    pub(super) mode: Option<&'static str>,
    /// The keywords matched so far, as IOS spells them (for [`ErrorKind::Skipped`]).
    pub(super) path: Vec<&'static str>,
}

impl<'a> Words<'a> {
    pub(super) fn new(line: &'a str, mode: Option<&'static str>) -> Self {
        let mut words = Vec::new();
        let mut start = None;
        let mut column = 0;
        for (byte, c) in line.char_indices() {
            column += 1;
            match (c.is_whitespace(), start) {
                (false, None) => start = Some((byte, column)),
                (true, Some((from, col))) => {
                    words.push((col, &line[from..byte]));
                    start = None;
                }
                _ => {}
            }
        }
        if let Some((from, col)) = start {
            words.push((col, &line[from..]));
        }
        Self {
            words,
            next: 0,
            command: line.trim(),
            end: column + 1,
            mode,
            path: Vec::new(),
        }
    }

    pub(super) fn peek(&self) -> Option<(usize, &'a str)> {
        self.words.get(self.next).copied()
    }

    pub(super) fn column(&self) -> usize {
        self.peek().map_or(self.end, |(column, _)| column)
    }

    /// The next word, which must exist.
    pub(super) fn word(&mut self, expected: &'static str) -> Result<(usize, &'a str)> {
        let word = self.peek().ok_or(Fail::at(
            self.end,
            ErrorKind::Expected {
                expected,
                found: None,
            },
        ))?;
        self.next += 1;
        Ok(word)
    }

    /// The next word if it is `keyword` (without case).
    pub(super) fn eat(&mut self, keyword: &str) -> bool {
        let hit = self
            .peek()
            .is_some_and(|(_, w)| w.eq_ignore_ascii_case(keyword));
        if hit {
            self.next += 1;
        }
        hit
    }

    /// The index in `keywords` of the next word, by IOS's abbreviation rule; any other word is
    /// refused as IOS refuses it (with the closest keyword as a suggestion).
    pub(super) fn keyword(
        &mut self,
        keywords: &[&'static str],
        expected: &'static str,
    ) -> Result<usize> {
        self.keyword_in(keywords, &[], expected)
    }

    /// The index in `ours` of the next word, among the keywords IOS takes at this point (`ours`
    /// and `ios`). One of `ios` is [`ErrorKind::Skipped`]: IOS takes it, the router does not use
    /// it.
    /// [`Self::keyword_in`] over a mode's table, whose first `ours` keywords the router runs
    /// and the rest IOS has.
    pub(super) fn mode_keyword(
        &mut self,
        table: &[&'static str],
        ours: usize,
        expected: &'static str,
    ) -> Result<usize> {
        let (ours, ios) = table.split_at(ours.min(table.len()));
        self.keyword_in(ours, ios, expected)
    }

    pub(super) fn keyword_in(
        &mut self,
        ours: &[&'static str],
        ios: &[&'static str],
        expected: &'static str,
    ) -> Result<usize> {
        let (column, word) = self.word(expected)?;
        match grammar::lookup(word, ours, ios) {
            Match::Ours(index) => {
                self.path.push(ours[index]);
                Ok(index)
            }
            Match::Ios(keyword) => {
                self.path.push(keyword);
                Err(self.skipped(column))
            }
            Match::Ambiguous(candidates) => Err(Fail::at(
                column,
                ErrorKind::Ambiguous {
                    word: word.to_owned(),
                    candidates,
                },
            )),
            Match::Invalid(suggestion) => Err(Fail::at(
                column,
                ErrorKind::Invalid {
                    word: word.to_owned(),
                    expected,
                    suggestion,
                },
            )),
        }
    }

    /// The next word if it is `keyword` or an abbreviation of it (`keyword` being the only
    /// keyword valid here that it abbreviates).
    pub(super) fn eat_abbreviated(&mut self, keyword: &'static str) -> bool {
        let hit = self
            .peek()
            .is_some_and(|(_, w)| grammar::lookup(w, &[keyword], &[]) == Match::Ours(0));
        if hit {
            self.next += 1;
            self.path.push(keyword);
        }
        hit
    }

    /// The command IOS takes and the router skips, named by its keywords (never its values,
    /// which may be secrets).
    /// `ipv6` where an IPv4 address may stand: IOS takes the line, the router skips it.
    pub(super) fn skip_ipv6(&mut self, column: usize) -> Result<()> {
        if self
            .peek()
            .is_some_and(|(_, w)| w.eq_ignore_ascii_case("ipv6"))
        {
            self.path.push("ipv6");
            return Err(self.skipped(column));
        }
        Ok(())
    }

    pub(super) fn skipped(&self, column: usize) -> Fail {
        Fail::at(
            column,
            ErrorKind::Skipped {
                command: self.path.join(" "),
                mode: self.mode,
            },
        )
    }

    pub(super) fn unsupported(&self, column: usize) -> Fail {
        Fail::at(
            column,
            ErrorKind::Unsupported {
                command: self.command.to_owned(),
                mode: self.mode,
            },
        )
    }

    pub(super) fn number(
        &mut self,
        what: &'static str,
        min: u64,
        max: u64,
    ) -> Result<(usize, u64)> {
        let (column, word) = self.word(what)?;
        if word.is_empty() || !word.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Fail::at(
                column,
                ErrorKind::Expected {
                    expected: what,
                    found: Some(word.to_owned()),
                },
            ));
        }
        // Digits only: an overflow is out of range too.
        match word.parse::<u64>() {
            Ok(value) if (min..=max).contains(&value) => Ok((column, value)),
            _ => Err(Fail::at(
                column,
                ErrorKind::OutOfRange {
                    what,
                    value: word.to_owned(),
                    min,
                    max,
                },
            )),
        }
    }

    pub(super) fn address(&mut self, what: &'static str) -> Result<(usize, Ipv4Addr)> {
        let (column, word) = self.word(what)?;
        let address = word.parse().map_err(|_| {
            Fail::at(
                column,
                ErrorKind::Expected {
                    expected: what,
                    found: Some(word.to_owned()),
                },
            )
        })?;
        Ok((column, address))
    }

    pub(super) fn mask(&mut self) -> Result<(usize, Ipv4Addr)> {
        let (column, mask) = self.address("a subnet mask")?;
        let bits = mask.to_bits();
        if bits.leading_ones() + bits.trailing_zeros() < 32 {
            return Err(Fail::at(column, ErrorKind::InvalidMask { mask }));
        }
        Ok((column, mask))
    }

    /// The rest of the line from the next word on, as written (for `description`).
    pub(super) fn rest(&mut self, line: &'a str) -> Option<&'a str> {
        let (column, _) = self.peek()?;
        self.next = self.words.len();
        let start = line.char_indices().nth(column - 1).map_or(0, |(b, _)| b);
        line.get(start..).map(str::trim_end)
    }

    /// The words from the one at `column` on, as written (joined by single spaces).
    pub(super) fn rest_from(&mut self, column: usize) -> String {
        let from = self
            .words
            .iter()
            .position(|(c, _)| *c >= column)
            .unwrap_or(self.words.len());
        self.next = self.words.len();
        let rest: Vec<&str> = self.words[from..].iter().map(|(_, w)| *w).collect();
        rest.join(" ")
    }

    /// Nothing may follow.
    pub(super) fn end(&self) -> Result<()> {
        match self.peek() {
            None => Ok(()),
            Some((column, word)) => Err(Fail::at(
                column,
                ErrorKind::TrailingWords {
                    word: word.to_owned(),
                },
            )),
        }
    }
}

impl<'a> Words<'a> {
    /// Drops a pasted prompt of `len` bytes from the first word; whether a command is left.
    pub(super) fn strip_prefix(&mut self, raw: &'a str, len: usize) -> bool {
        let Some(&(column, word)) = self.words.first() else {
            return false;
        };
        let prompt_chars = raw.get(..len).map_or(0, |p| p.chars().count());
        let cut = prompt_chars.saturating_sub(column - 1);
        let rest_byte = word.char_indices().nth(cut).map_or(word.len(), |(b, _)| b);
        let rest = &word[rest_byte..];
        if rest.is_empty() {
            self.words.remove(0);
        } else {
            self.words[0] = (column + cut, rest);
        }
        self.command = raw.get(len..).map_or("", str::trim);
        !self.words.is_empty()
    }

    pub(super) fn first(&self) -> Option<&str> {
        self.words.first().map(|(_, w)| *w)
    }

    pub(super) fn nth(&self, n: usize) -> Option<&str> {
        self.words.get(n).map(|(_, w)| *w)
    }

    /// `exit` (or an abbreviation IOS takes for it).
    pub(super) fn is_exit(&self) -> bool {
        self.words.len() == 1
            && self
                .first()
                .is_some_and(|w| w.len() >= 3 && "exit".starts_with(&w.to_ascii_lowercase()))
    }

    /// An exec command pasted before the configuration: `enable`, `configure terminal`,
    /// `show running-config`, `terminal length 0`.
    pub(super) fn is_exec(&self) -> bool {
        let lower = |w: &str| w.to_ascii_lowercase();
        let abbreviates =
            |w: &str, keyword: &str, min: usize| w.len() >= min && keyword.starts_with(w);
        match (
            self.first().map(lower),
            self.nth(1).map(lower),
            self.words.len(),
        ) {
            (Some(w), None, 1) => abbreviates(&w, "enable", 2),
            (Some(w), Some(t), 2) if abbreviates(&w, "configure", 4) => {
                abbreviates(&t, "terminal", 1)
            }
            (Some(w), Some(t), _) if abbreviates(&w, "show", 2) => {
                abbreviates(&t, "running-config", 3) || abbreviates(&t, "startup-config", 3)
            }
            (Some(w), Some(t), _) if abbreviates(&w, "terminal", 4) => {
                abbreviates(&t, "length", 3) || abbreviates(&t, "width", 3)
            }
            _ => false,
        }
    }

    /// `configure terminal` (`conf t`).
    pub(super) fn is_configure(&self) -> bool {
        let lower = |w: &str| w.to_ascii_lowercase();
        match (
            self.first().map(lower),
            self.nth(1).map(lower),
            self.words.len(),
        ) {
            (Some(w), Some(t), 2) => {
                w.len() >= 4 && "configure".starts_with(&w) && "terminal".starts_with(&t)
            }
            _ => false,
        }
    }

    /// An exec command typed after `end`: `write [memory]`, `copy running-config …`, `disable`.
    pub(super) fn is_exec_after_end(&self) -> bool {
        self.first().is_some_and(|w| {
            let w = w.to_ascii_lowercase();
            ["write", "copy", "disable", "exit", "logout", "reload"]
                .iter()
                .any(|k| w.len() >= 2 && k.starts_with(&w))
        })
    }

    /// Whether the first word is `peer` (a keyring's next peer, also inside a peer's block).
    pub(super) fn starts_with_peer(&self) -> bool {
        // IOS tries the peer's mode first (`p` is `pre-shared-key` there), then the keyring's.
        self.words.get(self.next).is_some_and(|(_, w)| {
            matches!(grammar::lookup(w, KEYRING_PEER, &[]), Match::Invalid(_))
                && grammar::lookup(w, &["peer"], &[]) == Match::Ours(0)
        })
    }

    /// Whether the first word is a global command.
    pub(super) fn is_global(&self) -> bool {
        self.first().is_some_and(|w| {
            matches!(
                grammar::lookup(w, GLOBAL, grammar::GLOBAL_IOS),
                Match::Ours(_) | Match::Ios(_)
            )
        })
    }

    /// For an unindented line in a block typed without indentation: whether it is one of the
    /// block's commands rather than a global one (IOS tries the sub-mode first).
    pub(super) fn belongs_to(&self, mode: Mode) -> bool {
        let words: Vec<&str> = self.words.iter().map(|(_, w)| *w).collect();
        belongs(&words, mode)
    }
}

impl Words<'_> {
    /// A Diffie-Hellman group number (`group N` of an isakmp policy or an ikev2 proposal): one
    /// the router has ([`crate::config::dh_group`]); IOS's others are refused as unsupported.
    pub(super) fn dh_group(&mut self) -> Result<dmvpn_isakmp::consts::Group> {
        let (column, number) = self.number("a diffie-hellman group", 1, 32)?;
        match crate::config::dh_group(number) {
            Some(group) => Ok(group),
            // IOS's other groups: the router does not have them.
            None if [15, 16, 19, 20, 21, 24].contains(&number) => Err(self.unsupported(column)),
            None => Err(Fail::at(
                column,
                ErrorKind::Expected {
                    expected: "a diffie-hellman group (1, 2, 5, 14, 15, 16, 19, 20, 21 or 24)",
                    found: Some(number.to_string()),
                },
            )),
        }
    }
}

/// An optional AES key size after `aes` / `esp-aes` / `esp-gcm`.
pub(super) fn key_bits(words: &mut Words<'_>, allowed: &[u16]) -> Result<Option<u16>> {
    let Some((column, word)) = words.peek() else {
        return Ok(None);
    };
    if !word.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(None);
    }
    words.next += 1;
    match word.parse::<u16>() {
        Ok(bits) if allowed.contains(&bits) => Ok(Some(bits)),
        _ => Err(Fail::at(
            column,
            ErrorKind::Expected {
                expected: if allowed.len() == 3 {
                    "a key size of 128, 192 or 256"
                } else {
                    "a key size of 128 or 256"
                },
                found: Some(word.to_owned()),
            },
        )),
    }
}
